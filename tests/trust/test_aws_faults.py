"""AWS faults, end to end against the simulated AWS holding the demo fleet (built once for the module).

- 30 % throttling, transient 5xx and TCP connection resets: the audit reaches exactly the findings of a
  clean run (rule, resource, status), with no collection error — retries absorb them.
- AccessDenied on one operation: only the rules that need it become `error`; every other finding is what
  the clean run found. Through the CLI (a real subprocess) such a run exits 2.
- Expired or missing credentials, a denied DescribeDBClusters, an unknown cluster: one clear line, exit 2.
- Everything the tool calls during check + gate + fleet is in the shipped least-privilege policy, by the
  tool's own call log and by what the simulated AWS saw.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.api import RunOptions, RunOutcome, run_check, run_fleet, run_gate
from auditor.collect.aws import CallLog
from auditor.collect.iam import POLICY_PATH, policy_actions
from auditor.models.findings import AuditResult, Status
from auditor.sim import SimulatedAws
from auditor.sim.fleet import DemoFleet
from tests.trust import stats
from tests.trust.conftest import assert_one_line_error, run_cli, sim_env
from tests.trust.netfaults import ResetProxy

pytestmark = pytest.mark.moto_server

Key = tuple[str, str, str]  # (rule, resource, status)


def findings(result: AuditResult) -> set[Key]:
    return {(f.rule_id, f.resource.id, f.status.value) for f in result.findings}


def opts(**kw: object) -> RunOptions:
    base: dict[str, object] = {"regions": ("us-east-1",), "baselines": ("prod",), "no_db": True}
    return RunOptions(**(base | kw))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clean_run(shared_fleet: DemoFleet) -> RunOutcome:
    out = run_check(shared_fleet.prod.cluster_id, opts())
    assert out.snapshot is not None and out.snapshot.errors == ()
    assert not [f for f in out.result.findings if f.status is Status.ERROR]
    return out


@pytest.fixture(scope="module")
def clean(clean_run: RunOutcome) -> AuditResult:
    return clean_run.result


def _front_calls(sim: SimulatedAws) -> int:
    return sum(sim.calls().values())


# ---------------------------------------------------------------- transient faults: same findings


def test_thirty_percent_throttling_gives_the_clean_findings(fleet_env, clean_run: RunOutcome) -> None:
    sim, fleet = fleet_env
    assert clean_run.snapshot is not None
    clean_calls = sum(c.calls for c in clean_run.snapshot.calls)  # API calls of one clean audit
    before = _front_calls(sim)
    sim.set_throttling(0.3)  # deterministic: exactly 3 calls in 10 answer Throttling (HTTP 400)
    out = run_check(fleet.prod.cluster_id, opts())
    assert out.snapshot is not None
    assert out.snapshot.errors == (), out.snapshot.errors
    assert findings(out.result) == findings(clean_run.result)
    assert sum(c.calls for c in out.snapshot.calls) == clean_calls  # the call log counts calls, not attempts
    injected = _front_calls(sim) - before - clean_calls  # extra attempts the sim saw = throttled answers
    assert injected >= 0.25 * clean_calls, (injected, clean_calls)  # the faults really happened
    stats.fault("Throttling on 30% of AWS calls", "retried; findings identical to the clean run", injected)


def test_transient_5xx_and_connection_resets_give_the_clean_findings(fleet_env, clean: AuditResult) -> None:
    sim, fleet = fleet_env
    ops = ["DescribeDBClusters", "DescribeDBInstances", "DescribeDBClusterParameters", "GetMetricData"]
    for op in ops:
        sim.fail_5xx(op, count=2)  # two InternalFailure (HTTP 500) answers each, then healthy
    with ResetProxy(sim.endpoint_url, every=7) as proxy:
        out = run_check(fleet.prod.cluster_id, opts(endpoint_url=proxy.url))
    assert out.snapshot is not None
    assert out.snapshot.errors == (), out.snapshot.errors
    assert findings(out.result) == findings(clean)
    assert proxy.resets >= 5, proxy.resets
    assert sim.state.snapshot()["faults"] and all(f["remaining"] == 0 for f in sim.state.snapshot()["faults"])
    stats.fault("HTTP 500 InternalFailure (2 per operation, 4 operations)", "retried; findings identical", 8)
    stats.fault("TCP connection reset (every 7th request)", "retried; findings identical", proxy.resets)


# ---------------------------------------------------------------- AccessDenied: only the rules that need it

ALL_BG = {f"BG0{n}" for n in range(1, 10)}
DENIED: dict[str, set[str]] = {
    "DescribeDBProxies": {"HA07"},
    "DescribeAlarms": {"HA09"},
    "DescribeDBClusterParameters": {"PG01", "PG05", "BG02"},
    "DescribeKey": {"CL03"},
    "GetMetricData": {"HA06", "GD03", "BG09"},
    "DescribeGlobalClusters": {"GD01", "GD02", "GD03", "GD04", "GD05", "GD06", "BG09"},
    "DescribeDBInstances": {
        "HA01",
        "HA02",
        "HA03",
        "HA04",
        "HA05",
        "HA06",
        "PG02",
        "PG03",
        "PG04",
        "CL09",  # pending maintenance is judged per instance too
        "CL10",  # custom DB parameter groups are an instance property
        "BG03",
        "BG05",
    },
    # CL05 is skipped for a cluster in an active blue/green deployment (AWS allows no managed master
    # password there), so without the deployments it cannot tell whether it applies
    "DescribeBlueGreenDeployments": ALL_BG | {"CL05"},
}


@pytest.mark.parametrize("operation", list(DENIED))
def test_access_denied_errors_only_the_rules_that_need_it(
    fleet_env, clean: AuditResult, operation: str
) -> None:
    sim, fleet = fleet_env
    sim.deny(operation)
    out = run_check(fleet.prod.cluster_id, opts())
    assert out.snapshot is not None
    # Query-protocol services say AccessDenied, JSON ones (CloudWatch today) AccessDeniedException
    assert {(e.operation, (e.code or "")[:12]) for e in out.snapshot.errors} == {(operation, "AccessDenied")}
    expected = DENIED[operation]
    before = {(r, res): st for r, res, st in findings(clean)}
    after = {(r, res): st for r, res, st in findings(out.result)}
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert {rule for rule, _ in changed} <= expected, sorted(changed)
    for k in changed:  # a changed finding became `error` (or gave way to an `error` on its cluster)
        assert after.get(k) in (None, "error"), (k, before.get(k), after.get(k))
    for rule in expected:
        assert any(r == rule and st == "error" for (r, _), st in after.items()), f"{rule} has no error"
    assert not out.result.complete
    stats.fault(f"AccessDenied on {operation}", f"{len(expected)} rule(s) error, the rest as clean", 1)


def test_access_denied_through_the_cli_exits_2_with_reports(
    fleet_env, clean: AuditResult, tmp_path: Path
) -> None:
    sim, fleet = fleet_env
    sim.deny("DescribeDBProxies")
    out = tmp_path / "reports"
    r = run_cli(
        "check",
        fleet.prod.cluster_id,
        "--region",
        "us-east-1",
        "--baseline",
        "prod",
        "--no-db",
        "--fail-on",
        "medium",
        "--out",
        str(out),
        "--format",
        "json,junit,html",
        env=sim_env(sim),
    )
    assert r.code == 2, (r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    result = AuditResult.from_json((out / "report.json").read_text())
    assert not result.complete
    ha07 = [f for f in result.findings if f.rule_id == "HA07"]
    assert ha07 and all(f.status is Status.ERROR for f in ha07)
    assert "AccessDenied" in ha07[0].message
    others = {k for k in findings(result) if k[0] != "HA07"}
    assert others == {k for k in findings(clean) if k[0] != "HA07"}
    assert any(e.operation == "DescribeDBProxies" for e in result.errors)
    assert "<error" in (out / "junit.xml").read_text()
    stats.fault("AccessDenied on DescribeDBProxies (CLI subprocess)", "HA07 error, exit 2", 1)


def test_denied_cluster_describe_is_one_line_exit_2(fleet_env, tmp_path: Path) -> None:
    sim, fleet = fleet_env
    sim.deny("DescribeDBClusters")
    r = run_cli(
        "check", fleet.prod.cluster_id, "--region", "us-east-1", "--out", str(tmp_path), env=sim_env(sim)
    )
    assert_one_line_error(r, "DescribeDBClusters", fleet.prod.cluster_id, "AccessDenied")
    stats.fault("AccessDenied on DescribeDBClusters (CLI subprocess)", "one line, exit 2", 1)


def test_expired_credentials_are_one_line_exit_2(fleet_env, tmp_path: Path) -> None:
    sim, fleet = fleet_env
    sim.fail_operation(
        "*", code="ExpiredToken", status=403, message="The security token included in the request is expired"
    )
    r = run_cli(
        "check", fleet.prod.cluster_id, "--region", "us-east-1", "--out", str(tmp_path), env=sim_env(sim)
    )
    assert_one_line_error(r, "ExpiredToken", "refresh")
    stats.fault("ExpiredToken on every call (CLI subprocess)", "one line, exit 2", 1)


def test_missing_credentials_are_one_line_exit_2(fleet_env, tmp_path: Path) -> None:
    sim, fleet = fleet_env
    env = sim_env(sim, AWS_EC2_METADATA_DISABLED="true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name)
    r = run_cli("check", fleet.prod.cluster_id, "--region", "us-east-1", "--out", str(tmp_path), env=env)
    assert_one_line_error(r, "no AWS credentials")
    stats.fault("no credentials at all (CLI subprocess)", "one line, exit 2", 1)


def test_unknown_cluster_names_region_and_close_matches(fleet_env, tmp_path: Path) -> None:
    sim, _ = fleet_env
    r = run_cli("check", "prod-ap", "--region", "us-east-1", "--out", str(tmp_path), env=sim_env(sim))
    line = assert_one_line_error(r, "cluster prod-ap not found in region us-east-1")
    assert "prod-app" in line.split("us-east-1", 1)[1]  # the close match is offered
    assert not list(tmp_path.iterdir())  # nothing to report on


# ---------------------------------------------------------------- every call is in the policy


def test_every_call_of_check_gate_and_fleet_is_in_the_policy(
    fleet_env,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim, fleet = fleet_env
    seen: set[str] = set()
    original = CallLog.started

    def record(self: CallLog, operation: str) -> None:
        seen.add(operation)
        original(self, operation)

    monkeypatch.setattr(CallLog, "started", record)
    front_before = sim.calls()
    run_check(fleet.prod.cluster_id, opts())
    run_gate(fleet.blue_green_id, None, opts())
    run_fleet(opts(regions=("us-east-1", "eu-west-1")))
    front = {op: n - front_before.get(op, 0) for op, n in sim.calls().items() if n - front_before.get(op, 0)}

    policy = json.loads(POLICY_PATH.read_text())
    allowed = {a.split(":", 1)[1] for a in policy_actions(policy)}
    as_iam = {f"{op.split('.', 1)[0]}:{op.split('.', 1)[1]}" for op in seen}
    assert as_iam <= policy_actions(policy), sorted(as_iam - policy_actions(policy))
    assert set(front) <= allowed, sorted(set(front) - allowed)  # what AWS (the sim) actually received
    assert len(seen) >= 15  # the three commands really ran their collectors
    assert all(op.startswith(("Describe", "List", "Get")) for op in front)
