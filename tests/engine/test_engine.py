"""Runner, values, drift, capture, the import boundary, and a 1,000-cluster evaluation."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
import yaml

from auditor.engine import drift, values
from auditor.engine.capture import capture_baseline
from auditor.engine.loader import baseline_from_mapping, load_baseline, load_rules
from auditor.engine.registry import Outcome, register
from auditor.engine.runner import evaluate
from auditor.models.baseline import Matcher
from auditor.models.findings import Status
from auditor.models.snapshot import Snapshot

ENGINE = Path(__file__).resolve().parents[2] / "auditor" / "engine"
FORBIDDEN = {"boto3", "botocore", "psycopg", "psycopg2"}


def test_engine_never_imports_aws_or_database_clients() -> None:
    offenders = []
    for py in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{py.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert not offenders


@pytest.mark.parametrize(
    ("expected", "actual", "dt", "ok"),
    [
        ("1", True, "boolean", True),
        (1, "1", "boolean", True),
        (True, "on", "boolean", True),
        ("on", "1", None, True),
        ("0", "1", "boolean", False),
        ("1000", 1000, "integer", True),
        ("1000", "1000.0", "integer", True),
        (1e3, "1000", None, True),
        ("ddl", "DDL", "string", False),
        (False, "off", "string", True),
        ("a,b", "a, b", "list", True),
    ],
)
def test_values_compared_as_the_engine_types_them(expected, actual, dt, ok) -> None:  # noqa: ANN001
    assert values.matches(Matcher.model_validate(expected), actual, dt) is ok


def test_range_matchers() -> None:
    m = Matcher.model_validate({"min": 500, "max": 5000})
    assert values.matches(m, "500", "integer") and not values.matches(m, "499", "integer")
    assert not values.matches(m, "{DBInstanceClassMemory/9531392}", "integer")  # a formula is not a number
    assert values.describe(m, "integer") == ">= 500 and <= 5000"
    assert values.matches(Matcher.model_validate({"not": "none"}), "ddl", "string")


def test_drift_comes_from_deepdiff_structures() -> None:
    items = drift.diff({"a": "0", "b": ">= 5", "c": 1}, {"a": "1", "b": 3, "d": 2}, out_of_range=["b"])
    got = {(d.path, d.change) for d in items}
    assert got == {("a", "changed"), ("b", "out-of-range"), ("c", "removed"), ("d", "added")}
    assert drift.diff({"x": [1, 2]}, {"x": [2, 1]}) == []


def test_base_snapshot_passes_prod_completely(base_snapshot: Snapshot) -> None:
    r = evaluate(base_snapshot, load_baseline(["prod"]))
    assert r.complete and r.summary["fail"] == r.summary["error"] == r.summary["skipped"] == 0
    assert {f.rule_id[:2] for f in r.findings} == {"CL", "HA", "PG", "RS", "GD"}
    (topo,) = r.topology
    assert topo["role"] == "primary" and topo["writer"]["id"] == "prod-app-1"
    assert [x["az"] for x in topo["readers"]] == ["us-east-1b", "us-east-1c"]
    assert topo["global_secondaries"][0]["id"] == "prod-app-eu" and topo["proxy"]["iam_auth"] == "REQUIRED"


def test_families_and_targets_are_selectable(base_snapshot: Snapshot) -> None:
    r = evaluate(base_snapshot, load_baseline(["prod"]), families=["gd", "RS"])
    assert {f.rule_id[:2] for f in r.findings} == {"GD", "RS"}
    assert evaluate(base_snapshot, load_baseline(["prod"]), targets=["other"]).findings == []


def test_snapshot_error_makes_result_incomplete(base_snapshot: Snapshot) -> None:
    s = base_snapshot.with_changes(
        errors=[
            {
                "resource": "eu-west-1",
                "operation": "DescribeDBProxies",
                "region": "eu-west-1",
                "message": "AccessDenied",
            }
        ]
    )
    r = evaluate(s, load_baseline(["prod"]))
    assert not r.complete and r.errors[0].operation == "DescribeDBProxies"


def test_a_crashing_check_fails_closed(base_snapshot: Snapshot) -> None:
    @register("test-crash")
    def crash(*_a: object) -> list[Outcome]:
        raise RuntimeError("boom")

    rule = load_rules()[0].model_copy(update={"check": "test-crash"})
    rule._params = None
    r = evaluate(base_snapshot, load_baseline(["prod"]), rules=[rule])
    assert [f.status for f in r.findings] == [Status.ERROR] and "boom" in r.findings[0].message
    assert not r.complete


def test_capture_round_trip(base_snapshot: Snapshot, tmp_path: Path) -> None:
    text = capture_baseline(base_snapshot, "prod-app")
    p = tmp_path / "captured.yaml"
    p.write_text(text, encoding="utf-8")
    b = load_baseline([str(p)])  # validates like any user file
    assert b.cluster_parameters and b.cluster_parameters["rds.logical_replication"].eq == "0"
    r = evaluate(base_snapshot, b)
    bad = [(f.rule_id, f.resource.id, f.message) for f in r.findings if f.status is not Status.PASS]
    assert bad == []
    # and the captured baseline catches drift afterwards
    data = base_snapshot.model_dump(by_alias=True)
    data["clusters"][0]["deletion_protection"] = False
    r2 = evaluate(Snapshot.model_validate(data), b)
    assert any(f.rule_id == "CL01" and f.status is Status.FAIL for f in r2.findings)
    assert yaml.safe_load(text)["schema"] == "aurora-audit/baseline/v1"


def test_inline_baseline_extends(base_snapshot: Snapshot) -> None:
    b = baseline_from_mapping(
        {"schema": "aurora-audit/baseline/v1", "extends": "prod", "instances": {"min_readers": 3}}
    )
    r = evaluate(base_snapshot, b, families=["HA"])
    (ha01,) = [f for f in r.findings if f.rule_id == "HA01"]
    assert ha01.status is Status.FAIL and ha01.drift[0].change == "out-of-range"


def fleet(base: Snapshot, n: int) -> Snapshot:
    data = base.model_dump(by_alias=True)
    c0 = next(c for c in data["clusters"] if c["id"] == "prod-app")
    insts0 = [i for i in data["instances"] if i["cluster_id"] == "prod-app"]
    clusters, instances, alarms, metrics, dbs, targets = [], [], [], [], [], []
    for k in range(n):
        cid = f"app-{k:04d}"
        c = {
            **c0,
            "id": cid,
            "arn": c0["arn"].replace("prod-app", cid),
            "global_cluster_id": None,
            "members": [
                {**m, "instance_id": m["instance_id"].replace("prod-app", cid)} for m in c0["members"]
            ],
        }
        clusters.append(c)
        instances += [
            {
                **i,
                "id": i["id"].replace("prod-app", cid),
                "cluster_id": cid,
                "arn": i["arn"].replace("prod-app", cid),
            }
            for i in insts0
        ]
        alarms += [
            {
                **a,
                "name": a["name"].replace("prod-app", cid),
                "cluster_id": cid,
                "dimensions": {"DBClusterIdentifier": cid},
            }
            for a in data["alarms"]
        ]
        metrics += [
            {**m, "cluster_id": cid, "dimensions": {"DBClusterIdentifier": cid}}
            for m in data["metrics"]
            if m["cluster_id"] == "prod-app"
        ]
        dbs.append({**data["databases"][0], "cluster_id": cid})
        targets.append({"kind": "cluster", "id": cid, "region": "us-east-1", "account": "123456789012"})
    data.update(
        clusters=clusters,
        instances=instances,
        alarms=alarms,
        metrics=metrics,
        databases=dbs,
        targets=targets,
        global_clusters=[],
        proxies=[],
        scalable_targets=[],
        pending_maintenance=[],
    )
    return Snapshot.model_validate(data)


def test_thousand_cluster_fleet(base_snapshot: Snapshot) -> None:
    snap = fleet(base_snapshot, 1000)
    baseline = load_baseline(["prod"])
    load_rules()  # parse the catalogue outside the measurement
    t0 = time.perf_counter()
    r = evaluate(snap, baseline, command="fleet")
    elapsed = time.perf_counter() - t0
    print(
        f"\nevaluated 1,000 clusters ({len(snap.instances)} instances): {len(r.findings)} findings "
        f"in {elapsed:.2f} s"
    )
    assert len(r.topology) == 1000
    # not global, no proxy, no scaling in this synthetic fleet: exactly those rules fail, once per cluster
    fails = {f.rule_id for f in r.findings if f.status is Status.FAIL}
    assert fails == {"GD06", "HA07", "HA08"}
    assert r.summary["fail"] == 3000


def test_remediation_names_the_resource(base_snapshot: Snapshot) -> None:
    data = base_snapshot.model_dump(by_alias=True)
    data["clusters"][0]["deletion_protection"] = False
    r = evaluate(Snapshot.model_validate(data), load_baseline(["prod"]), families=["CL"])
    (f,) = [x for x in r.findings if x.rule_id == "CL01"]
    assert "--db-cluster-identifier prod-app --deletion-protection" in f.remediation
    assert (
        "--region us-east-1" in f.remediation
        and "terraform: aws_rds_cluster.deletion_protection" in f.remediation
    )
