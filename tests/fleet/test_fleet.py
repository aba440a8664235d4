"""`run_fleet` on the simulated AWS: coverage, call bounds, partial failure, --region all, tags, snapshots."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

from auditor.api import RunOptions, run_fleet
from auditor.collect.ratelimit import RateBudget, RateLimiter
from auditor.errors import UsageError
from auditor.fleet import Unit, parse_shard, parse_tags, select_shard
from auditor.models.findings import Status
from auditor.sim import SimulatedAws
from auditor.sim.fleet import ScaleFleet

from .conftest import REGIONS

pytestmark = pytest.mark.moto_server


def _opts(**kw: object) -> RunOptions:
    return RunOptions(**({"regions": REGIONS, "no_db": True} | kw))  # type: ignore[arg-type]


def _pages(sim: SimulatedAws, region: str, kind: str, name: str) -> int:
    """Pages of DescribeDB(Cluster)Parameters for one group, read from the sim (the bound's input)."""
    op, arg = (
        ("describe_db_cluster_parameters", "DBClusterParameterGroupName")
        if kind == "cluster"
        else ("describe_db_parameters", "DBParameterGroupName")
    )
    return sum(1 for _ in sim.client("rds", region).get_paginator(op).paginate(**{arg: name}, MaxRecords=100))


def test_fleet_reports_every_cluster_of_both_regions(small_fleet: ScaleFleet) -> None:
    out = run_fleet(_opts())
    r = out.result
    expected = {(reg, cid) for reg, ids in small_fleet.clusters.items() for cid in ids}
    assert len(expected) == 12
    assert {(t.region, t.id) for t in r.targets if t.kind == "cluster"} == expected
    # a section per cluster: every cluster has findings of every cluster-level rule family
    by_cluster: dict[str, set[str]] = defaultdict(set)
    for f in r.findings:
        if f.resource.cluster or f.resource.kind == "cluster":
            by_cluster[f.resource.cluster or f.resource.id].add(f.rule_id[:2])
    assert {cid for _, cid in expected} <= set(by_cluster)
    assert all({"CL", "HA", "PG"} <= fams for cid, fams in by_cluster.items() if cid.startswith("scale-"))
    fl = {f.resource.region: f.status for f in r.findings if f.rule_id == "FL01"}
    assert fl == {"us-east-1": Status.PASS, "eu-west-1": Status.PASS}
    assert r.command == "fleet" and not r.errors
    assert {c.region for c in out.snapshot.clusters} == set(REGIONS)
    assert len(out.snapshot.instances) == 24


def test_parameter_groups_fetched_once_per_account_region(
    aws_env: SimulatedAws, small_fleet: ScaleFleet
) -> None:
    """Exact call bound for 12 clusters x 2 instances sharing 3 cluster groups (+ the default DB group)."""
    snap = run_fleet(_opts()).snapshot
    calls = {c.operation: c.calls for c in snap.calls}
    cluster_groups = {(g.region, g.name) for g in snap.parameter_groups if g.kind == "cluster"}
    db_groups = {(g.region, g.name) for g in snap.parameter_groups if g.kind == "db"}
    assert len(cluster_groups) == 3  # scale-pg-000/002 in us-east-1, scale-pg-001 in eu-west-1
    assert db_groups == {(r, "default.aurora-postgresql16") for r in REGIONS}
    assert calls["rds.DescribeDBClusterParameterGroups"] == 3
    assert calls["rds.DescribeDBParameterGroups"] == 2
    assert calls["rds.DescribeDBClusterParameters"] == sum(
        _pages(aws_env, r, "cluster", n) for r, n in cluster_groups
    )
    assert calls["rds.DescribeDBParameters"] == sum(_pages(aws_env, r, "db", n) for r, n in db_groups)
    # one cluster listing and one instance listing per region (6 clusters < 50 per filter, < 100 per page)
    assert calls["rds.DescribeDBClusters"] == 2
    assert calls["rds.DescribeDBInstances"] == 2
    assert calls["sts.GetCallerIdentity"] == 1  # one per account, not per region


def test_calls_stay_inside_the_rate_budget(small_fleet: ScaleFleet) -> None:
    limiter = RateLimiter(RateBudget(rate=50, burst=5))
    out = run_fleet(_opts(), limiter=limiter)
    total = sum(c.calls for c in out.snapshot.calls)
    assert sum(limiter.calls(k) for k in limiter.keys()) == total  # every call went through a bucket
    assert {k for k in limiter.keys()} == {("default", r) for r in REGIONS}
    for key in limiter.keys():
        sent = sorted(limiter.bucket(key).sent)
        # the bucket's guarantee, on the limiter's own clock: at most burst + rate x window in any window
        for i, t in enumerate(sent):
            n = sum(1 for s in sent[i:] if s < t + 1.0)
            assert limiter.budget.allows(n, 1.0)


def test_access_denied_in_one_region_keeps_the_rest(aws_env: SimulatedAws, small_fleet: ScaleFleet) -> None:
    aws_env.deny("DescribeDBClusters", region="eu-west-1")
    r = run_fleet(_opts()).result
    [err] = [f for f in r.findings if f.rule_id == "FL01" and f.status is Status.ERROR]
    assert (err.resource.kind, err.resource.id, err.resource.region) == ("region", "eu-west-1", "eu-west-1")
    assert "AccessDenied" in err.message
    assert {t.id for t in r.targets if t.kind == "cluster"} == set(small_fleet.clusters["us-east-1"])
    assert not r.complete
    assert any("eu-west-1" in n and "not audited" in n for n in r.notes)
    assert any(e.region == "eu-west-1" and e.operation == "DescribeDBClusters" for e in r.errors)


def test_region_all_uses_describe_regions(aws_env: SimulatedAws, small_fleet: ScaleFleet) -> None:
    enabled = {
        x["RegionName"]
        for x in aws_env.client("ec2").describe_regions()["Regions"]
        if x.get("OptInStatus", "opt-in-not-required") in ("opt-in-not-required", "opted-in")
    }
    assert set(REGIONS) <= enabled
    out = run_fleet(_opts(regions=("all",)))
    calls = {c.operation: c.calls for c in out.snapshot.calls}
    assert calls["ec2.DescribeRegions"] == 1
    assert set(out.snapshot.regions) == enabled
    assert calls["rds.DescribeDBClusters"] == len(enabled)
    assert len([t for t in out.result.targets if t.kind == "cluster"]) == 12
    assert {f.resource.region for f in out.result.findings if f.rule_id == "FL01"} == enabled


def test_tag_filter(aws_env: SimulatedAws, small_fleet: ScaleFleet) -> None:
    picked = [("us-east-1", "scale-0000"), ("eu-west-1", "scale-0001")]
    for region, cid in picked:
        aws_env.set_cluster(region, cid, fields={"TagList": [{"Key": "tier", "Value": "gold"}]})
    r = run_fleet(_opts(), tags=("tier=gold",)).result
    assert {(t.region, t.id) for t in r.targets if t.kind == "cluster"} == set(picked)
    assert any("tier=gold" in n for n in r.notes)
    with pytest.raises(UsageError):
        run_fleet(_opts(), tags=("novalue",))


def test_snapshot_round_trip_gives_the_same_findings(tmp_path, small_fleet: ScaleFleet) -> None:  # noqa: ANN001
    out = run_fleet(_opts())
    path = tmp_path / "fleet.json"
    path.write_text(out.snapshot.to_json(), encoding="utf-8")
    again = run_fleet(_opts(from_snapshot=str(path))).result

    def key(f):  # noqa: ANN001, ANN202
        return (f.rule_id, f.resource.kind, f.resource.id, f.resource.region, f.status)

    assert {key(f) for f in again.findings} == {key(f) for f in out.result.findings}


def test_shard_selection_is_a_partition() -> None:
    units = [Unit(a, r) for a in ("111", "222", "default") for r in ("eu-west-1", "us-east-1", "ap-south-1")]
    for n in (1, 2, 3, 4, 9, 12):
        parts = [select_shard(reversed(units), k, n) for k in range(1, n + 1)]
        assert sorted(u for p in parts for u in p) == sorted(units)
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
        assert parts == [select_shard(units, k, n) for k in range(1, n + 1)]  # input order does not matter
    assert parse_shard("2/4") == (2, 4) and parse_shard(None) == (1, 1)
    for bad in ("0/2", "3/2", "a/b", "1", "1/0"):
        with pytest.raises(UsageError):
            parse_shard(bad)
    assert parse_tags(["a=b", "c==d", ("e", "f")]) == {"a": "b", "c": "=d", "e": "f"}
    assert math.isfinite(len(units))


def test_cluster_deleted_between_discovery_and_collection_keeps_the_region(
    aws_env: SimulatedAws, small_fleet: ScaleFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditor.fleet as fleet_mod

    real = fleet_mod.discover

    def discover_then_gone(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return [*real(*args, **kwargs), "deleted-meanwhile"]

    monkeypatch.setattr(fleet_mod, "discover", discover_then_gone)
    # a second engine makes the fleet list clusters first (discovery), then collect the ones it listed
    r = run_fleet(_opts(), engines=("aurora-postgresql", "aurora-mysql")).result
    clusters = {(t.region, t.id) for t in r.targets if t.kind == "cluster"}
    assert clusters == {(reg, c) for reg, ids in small_fleet.clusters.items() for c in ids}
    fl01 = {f.resource.region: f.status for f in r.findings if f.rule_id == "FL01"}
    assert set(fl01.values()) == {Status.PASS}
    assert any(e.resource == "deleted-meanwhile" for e in r.errors)


def test_global_database_regions_are_read_once_per_run(aws_env: SimulatedAws) -> None:
    """The primary's unit does not re-read the secondary's region: that region's own unit reads it in full."""
    from auditor.sim.fleet import build_demo_fleet

    build_demo_fleet(aws_env)
    out = run_fleet(RunOptions(regions=("us-east-1", "eu-west-1"), no_db=True))
    calls = {c.operation: c.calls for c in out.snapshot.calls}
    for op in (
        "cloudwatch.DescribeAlarms",
        "cloudwatch.GetMetricData",
        "rds.DescribeDBClusters",
        "rds.DescribeDBProxies",
        "rds.DescribePendingMaintenanceActions",
        "rds.DescribeDBInstances",
    ):
        assert calls[op] == 2, (op, calls[op])  # once per region
    gd = {(f.rule_id, f.status) for f in out.result.findings if f.rule_id.startswith("GD")}
    assert ("GD03", Status.PASS) in gd and ("GD02", Status.PASS) in gd  # the secondary is still evaluated
