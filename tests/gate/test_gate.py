"""The pre-switchover gate end to end: the simulated AWS (moto + front) for AWS, two real PostgreSQL servers
for blue's and green's writers; through the real CLI as a subprocess (AWS_ENDPOINT_URL -> the sim) and
through auditor.api."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.api import RunOptions, run_gate
from auditor.errors import CollectionFailed, NotFoundError
from auditor.exit_codes import decide
from auditor.models.findings import AuditResult, Status
from auditor.sim import SimulatedAws
from tests.gate.scenario import Scenario, build
from tests.plugins.postgres import PgServer

pytestmark = pytest.mark.postgres

REGION = "us-east-1"


def own_slot_name(sc: Scenario) -> str:
    """A slot named after the deployment id, as RS04/BG08 recognise the deployment's own slots."""
    return "rds_" + sc.bgd_id.lower().replace("-", "_")


def plant_incident_slot(green: PgServer) -> None:
    """green's writer holds an inactive logical slot `debezium_orders` retaining tens of MB of WAL."""
    green.execute("SELECT pg_create_logical_replication_slot('debezium_orders', 'test_decoding')")
    green.execute(
        "CREATE TABLE public.orders (id bigserial PRIMARY KEY, payload text)",
        "INSERT INTO public.orders (payload) "
        "SELECT repeat(md5(g::text), 32) FROM generate_series(1, 30000) g",
    )


def healthy_blue(blue: PgServer, sc: Scenario) -> None:
    blue.execute(
        "CREATE TABLE public.accounts (id bigint PRIMARY KEY, balance numeric)",
        f"SELECT pg_create_logical_replication_slot('{own_slot_name(sc)}', 'pgoutput')",
    )


def cli(sim: SimulatedAws, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PG"))} | sim.env()
    return subprocess.run(
        [sys.executable, "-m", "auditor.cli", "gate", "--region", REGION, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def dsns(sc: Scenario, blue: PgServer, green: PgServer) -> list[str]:
    return ["--pg-dsn", f"{sc.blue}={blue.dsn()}", "--pg-dsn", f"{sc.green}={green.dsn()}"]


def by_rule(result: AuditResult, rule: str) -> list[Any]:
    return [f for f in result.findings if f.rule_id == rule]


def opts(**kw: Any) -> RunOptions:
    base: dict[str, Any] = {"regions": (REGION,), "baselines": ("prod",)}
    return RunOptions(**(base | kw))


# ---------------------------------------------------------------- the production incident


def test_incident_blocks_switchover_cli(
    aws_env: SimulatedAws, writers: tuple[PgServer, PgServer], tmp_path: Path
) -> None:
    blue, green = writers
    sc = build(aws_env, incident=True)
    healthy_blue(blue, sc)
    plant_incident_slot(green)
    out = tmp_path / "reports"
    started = time.monotonic()
    proc = cli(
        aws_env,
        "--blue-green",
        sc.bgd_id,
        "--baseline",
        "prod",
        *dsns(sc, blue, green),
        "--out",
        str(out),
        "--format",
        "json,junit,html,md",
        "--debug",
    )
    wall = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout[-4000:]
    result = AuditResult.from_json((out / "report.json").read_text())
    assert result.command == "gate" and result.complete

    (bg02,) = by_rule(result, "BG02")
    assert bg02.status is Status.FAIL and bg02.resource.id == sc.green_cpg
    drift = {d.path: d for d in bg02.drift}
    lr = drift["rds.logical_replication"]
    assert (lr.expected, lr.actual, lr.compare) == ("0", "1", {"blue": "0"})

    bg08 = {f.resource.id: f for f in by_rule(result, "BG08")}
    assert bg08["debezium_orders"].status is Status.FAIL
    assert bg08["debezium_orders"].resource.cluster == sc.green
    assert (
        "debezium_orders" in bg08["debezium_orders"].message
        and "MiB of WAL" in bg08["debezium_orders"].message
    )
    retained = bg08["debezium_orders"].drift[0].compare["retained_wal_bytes"]
    assert retained > 10 * 2**20  # tens of MB, read from pg_replication_slots on the real server
    assert bg08[own_slot_name(sc)].status is Status.PASS  # the deployment's own slot on blue is no orphan

    verdict = next(ln for ln in proc.stdout.splitlines() if ln.startswith("SWITCHOVER"))
    assert verdict.startswith("SWITCHOVER BLOCKED: ") and "critical" in verdict
    assert "BG02" in verdict and "BG08" in verdict
    assert "AWS calls" in proc.stderr  # --debug prints the call log
    for name in ("junit.xml", "report.html", "summary.md"):
        assert (out / name).is_file()
    html = (out / "report.html").read_text()
    assert "baseline (expected)" in html and "green (actual)" in html  # the three-column drift table
    assert "blue: 0" in (out / "junit.xml").read_text()
    total = [ln for ln in proc.stderr.splitlines() if ln.strip().startswith("total")]
    Path(os.environ.get("GATE_MEASURE", "/dev/null")).write_text(
        json.dumps(
            {
                "wall_s": round(wall, 3),
                "aws_calls": total[-1].split()[-1] if total else None,
                "verdict": verdict,
                "calls": [ln.strip() for ln in proc.stderr.splitlines() if ln.startswith("  ")],
            }
        )
    )


def test_incident_through_api(aws_env: SimulatedAws, writers: tuple[PgServer, PgServer]) -> None:
    blue, green = writers
    sc = build(aws_env, incident=True)
    healthy_blue(blue, sc)
    plant_incident_slot(green)
    o = opts(pg_dsns=(blue.dsn(), f"{sc.green}={green.dsn()}"))  # a bare DSN applies to blue
    outcome = run_gate(sc.bgd_name, None, o, target_engine_version="16.9")  # by the deployment's name
    assert decide(outcome.result, o.fail_on, gate=True) == 1
    statuses = {f.rule_id: f.status for f in outcome.result.findings if f.rule_id.startswith("BG")}
    assert statuses["BG01"] is Status.PASS and statuses["BG04"] is Status.PASS
    # Blue is in a Global Database: green's settings would pin WAL downstream.
    bg09 = {f.resource.id: f for f in by_rule(outcome.result, "BG09")}
    assert bg09["prod-app-eu"].status is Status.PASS
    assert bg09[sc.green].status is Status.FAIL and "debezium_orders" in bg09[sc.green].message
    # The baseline rules ran on green too (green must meet production's baseline).
    assert any(
        f.rule_id == "PG01" and f.resource.cluster == sc.green and f.status is Status.FAIL
        for f in outcome.result.findings
    )
    assert outcome.snapshot is not None and outcome.snapshot.calls


# ---------------------------------------------------------------- healthy, unreachable, not found


def test_healthy_deployment_passes_cli(
    aws_env: SimulatedAws, writers: tuple[PgServer, PgServer], tmp_path: Path
) -> None:
    blue, green = writers
    sc = build(aws_env, incident=False)
    healthy_blue(blue, sc)
    proc = cli(
        aws_env,
        "--blue-green",
        sc.bgd_id,
        "--baseline",
        "prod",
        *dsns(sc, blue, green),
        "--out",
        str(tmp_path),
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = AuditResult.from_json((tmp_path / "report.json").read_text())
    bg = [f for f in result.findings if f.rule_id.startswith("BG")]
    assert {f.rule_id for f in bg} == {f"BG0{n}" for n in range(1, 10)}
    assert all(f.status in (Status.PASS, Status.SKIPPED) for f in bg), [
        (f.rule_id, f.status, f.message) for f in bg if f.status not in (Status.PASS, Status.SKIPPED)
    ]
    assert "SWITCHOVER OK" in proc.stdout


def test_green_writer_unreachable_fails_closed(
    aws_env: SimulatedAws, writers: tuple[PgServer, PgServer]
) -> None:
    blue, _ = writers
    sc = build(aws_env)
    closed = f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres?sslmode=disable&connect_timeout=2"
    o = opts(pg_dsns=(f"{sc.blue}={blue.dsn()}", f"{sc.green}={closed}"))
    outcome = run_gate(sc.bgd_id, None, o)
    assert decide(outcome.result, o.fail_on, gate=True) == 2
    errs = [f for f in outcome.result.findings if f.rule_id.startswith("BG") and f.status is Status.ERROR]
    assert any(f.rule_id == "BG08" and f.resource.cluster == sc.green for f in errs)
    assert outcome.result.notes[0].startswith("GATE COULD NOT VERIFY BG08")
    assert not outcome.result.complete


def test_green_writer_unreachable_cli_exit_2(
    aws_env: SimulatedAws, writers: tuple[PgServer, PgServer], tmp_path: Path
) -> None:
    blue, _ = writers
    sc = build(aws_env, global_db=False)
    closed = f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres?sslmode=disable&connect_timeout=2"
    proc = cli(
        aws_env,
        "--blue-green",
        sc.bgd_id,
        "--pg-dsn",
        f"{sc.blue}={blue.dsn()}",
        "--pg-dsn",
        f"{sc.green}={closed}",
        "--out",
        str(tmp_path),
        "--format",
        "json",
    )
    assert proc.returncode == 2, proc.stdout[-2000:]
    assert "SWITCHOVER BLOCKED: could not verify" in proc.stdout and "BG08" in proc.stdout
    assert (tmp_path / "report.json").is_file()  # exit 2 still writes the reports, marked incomplete
    assert json.loads((tmp_path / "report.json").read_text())["complete"] is False


def test_deployment_not_found_cli(aws_env: SimulatedAws, tmp_path: Path) -> None:
    build(aws_env, global_db=False)
    proc = cli(
        aws_env, "--blue-green", "bgd-doesnotexist000", "--no-db", "--allow-skip-db", "--out", str(tmp_path)
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"blue/green deployment bgd-doesnotexist000 not found in region {REGION}" in lines[0]
    assert "Traceback" not in proc.stderr


def test_deployment_not_found_api(aws_env: SimulatedAws) -> None:
    with pytest.raises(NotFoundError, match="not found in region us-east-1"):
        run_gate("no-such-deployment", None, opts(no_db=True, allow_skip_db=True))
    with pytest.raises(NotFoundError, match="no active blue/green deployment with source cluster ghost"):
        run_gate(None, "ghost", opts(no_db=True, allow_skip_db=True))


def test_access_denied_fails_closed(aws_env: SimulatedAws) -> None:
    sc = build(aws_env, global_db=False)
    aws_env.deny("DescribeBlueGreenDeployments")
    with pytest.raises(CollectionFailed, match="AccessDenied"):
        run_gate(sc.bgd_id, None, opts(no_db=True, allow_skip_db=True))


def test_cluster_option_finds_active_deployment(aws_env: SimulatedAws) -> None:
    sc = build(aws_env, global_db=False)
    outcome = run_gate(None, sc.blue, opts(no_db=True, allow_skip_db=True))
    assert [t.id for t in outcome.result.targets if t.kind == "blue-green"] == [sc.bgd_id]


# ---------------------------------------------------------------- BG01 and BG09 through the sim


@pytest.mark.parametrize(
    ("status", "switchover", "tasks"),
    [
        ("INVALID_CONFIGURATION", "INVALID_CONFIGURATION", None),
        ("SWITCHOVER_FAILED", "SWITCHOVER_FAILED", None),
        ("AVAILABLE", "AVAILABLE", [{"Name": "CREATING_READ_REPLICA_OF_SOURCE", "Status": "FAILED"}]),
    ],
)
def test_deployment_status_fails_bg01(
    aws_env: SimulatedAws, status: str, switchover: str, tasks: list[dict[str, str]] | None
) -> None:
    sc = build(aws_env, global_db=False)
    aws_env.set_blue_green_status(
        sc.bgd_id, status, switchover_status=switchover, tasks=tasks, status_details="simulated"
    )
    o = opts(no_db=True, allow_skip_db=True)
    outcome = run_gate(sc.bgd_id, None, o)
    (bg01,) = by_rule(outcome.result, "BG01")
    assert bg01.status is Status.FAIL, bg01.message
    assert decide(outcome.result, o.fail_on, gate=True) == 1


def test_global_secondary_pending_resync_fails_bg09(aws_env: SimulatedAws) -> None:
    sc = build(aws_env, global_db=True)
    aws_env.set_sync_status(sc.global_id, sc.secondary_arn, "pending-resync")
    outcome = run_gate(sc.bgd_id, None, opts(no_db=True, allow_skip_db=True))
    bg09 = {f.resource.id: f for f in by_rule(outcome.result, "BG09")}
    assert bg09["prod-app-eu"].status is Status.FAIL
    assert "pending-resync" in bg09["prod-app-eu"].message


# ---------------------------------------------------------------- --no-db


def test_no_db_without_approval_exits_2(aws_env: SimulatedAws, tmp_path: Path) -> None:
    sc = build(aws_env, global_db=False)
    proc = cli(aws_env, "--blue-green", sc.bgd_id, "--no-db", "--out", str(tmp_path), "--format", "json")
    assert proc.returncode == 2
    assert "--no-db without --allow-skip-db" in proc.stdout


def test_no_db_with_approval_is_noted(aws_env: SimulatedAws, tmp_path: Path) -> None:
    sc = build(aws_env, global_db=False)
    proc = cli(
        aws_env,
        "--blue-green",
        sc.bgd_id,
        "--no-db",
        "--allow-skip-db",
        "--out",
        str(tmp_path),
        "--format",
        "json,html",
    )
    assert proc.returncode != 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = AuditResult.from_json((tmp_path / "report.json").read_text())
    assert result.notes[0].startswith("IN-DATABASE CHECKS SKIPPED (--no-db --allow-skip-db)")
    assert "IN-DATABASE CHECKS SKIPPED" in (tmp_path / "report.html").read_text()
    assert {f.status for f in by_rule(result, "BG08")} == {Status.SKIPPED}


def _closed_port() -> int:
    from tests.plugins.postgres import free_port

    return free_port()  # bound then released: nothing listens there


# ---------------------------------------------------------------- deployment-owned slots, offline, cost


def test_slot_used_by_green_subscription_is_the_deployments(
    aws_env: SimulatedAws, writers: tuple[PgServer, PgServer]
) -> None:
    """Blue -> green logical replication for real: green subscribes to blue; the slot it uses on blue is the
    deployment's own whatever its name, while a stray slot beside it is an orphan."""
    blue, green = writers
    sc = build(aws_env, global_db=False)
    blue.execute(
        "CREATE TABLE public.accounts (id bigint PRIMARY KEY, balance numeric)",
        "CREATE PUBLICATION bg_pub FOR TABLE public.accounts",
        "SELECT pg_create_logical_replication_slot('stray_test_slot', 'test_decoding')",
    )
    green.execute(
        "CREATE TABLE public.accounts (id bigint PRIMARY KEY, balance numeric)",
        f"CREATE SUBSCRIPTION bg_sub_7f3a CONNECTION 'host=127.0.0.1 port={blue.port} user=postgres "
        "dbname=postgres sslmode=disable' PUBLICATION bg_pub",
    )
    o = opts(pg_dsns=(blue.dsn(), f"{sc.green}={green.dsn()}"))
    outcome = run_gate(sc.bgd_id, None, o)
    bg08 = {f.resource.id: f for f in by_rule(outcome.result, "BG08")}
    assert bg08["bg_sub_7f3a"].status is Status.PASS, bg08["bg_sub_7f3a"].message
    assert bg08["stray_test_slot"].status is Status.FAIL
    assert bg08["stray_test_slot"].resource.cluster == sc.blue


def test_gate_from_snapshot_matches_live(aws_env: SimulatedAws, tmp_path: Path) -> None:
    sc = build(aws_env, incident=True, global_db=False)
    o = opts(no_db=True, allow_skip_db=True)
    live = run_gate(sc.bgd_id, None, o, target_engine_version="16.9")
    assert live.snapshot is not None
    path = tmp_path / "snapshot.json"
    path.write_text(live.snapshot.to_json())
    offline = run_gate(sc.bgd_id, None, opts(no_db=True, allow_skip_db=True, from_snapshot=str(path)))

    def statuses(r: AuditResult) -> list[tuple[str, str, str]]:
        return sorted((f.rule_id, f.resource.id, f.status.value) for f in r.findings)

    assert statuses(offline.result) == statuses(live.result)
    assert any(f.rule_id == "BG02" and f.status is Status.FAIL for f in offline.result.findings)


def test_gate_aws_calls_stay_at_their_bound(aws_env: SimulatedAws) -> None:
    """API calls are the production cost (RDS: ~12 Describe calls/s per account and region)."""
    sc = build(aws_env, incident=True, global_db=True)
    outcome = run_gate(sc.bgd_id, None, opts(no_db=True, allow_skip_db=True))
    assert outcome.snapshot is not None
    calls = {c.operation: c.calls for c in outcome.snapshot.calls}
    assert calls["rds.DescribeBlueGreenDeployments"] == 2  # the lookup + the region's listing
    assert calls["rds.DescribeDBClusters"] <= 3  # blue, green, the Global Database secondary
    assert calls["rds.DescribeGlobalClusters"] == 1
    assert sum(calls.values()) <= 50, calls


def test_bad_pg_dsn_rejected_before_any_aws_call(aws_env: SimulatedAws, tmp_path: Path) -> None:
    proc = cli(aws_env, "--blue-green", "bgd-any", "--pg-dsn", "not-a-dsn", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("aurora-audit: error: --pg-dsn not-a-dsn")
    assert aws_env.calls() == {}
