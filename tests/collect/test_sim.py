"""The collectors against SimulatedAws (moto server + front, over HTTP on 127.0.0.1): the demo fleet."""

from __future__ import annotations

import pytest

from auditor.collect.aws import AwsContext, AwsOptions
from auditor.collect.blue_green import collect_blue_green
from auditor.collect.topology import collect_snapshot
from auditor.models.snapshot import Snapshot

pytestmark = pytest.mark.moto_server


@pytest.fixture
def fleet_ctx(aws_env, demo_fleet):  # noqa: ANN001, ANN201
    return demo_fleet, AwsContext(AwsOptions(region=demo_fleet.primary_region))


def test_demo_prod_app_collects_completely_over_http(fleet_ctx) -> None:  # noqa: ANN001
    fleet, ctx = fleet_ctx
    snap = collect_snapshot(ctx, fleet.primary_region, [fleet.prod.cluster_id])
    assert snap.errors == ()
    roles = {c.id: c.role for c in snap.clusters}
    assert roles[fleet.prod.cluster_id] == "target"
    assert roles[fleet.green_cluster_id] == "green"
    assert roles[fleet.secondary.cluster_id] == "global-member"
    assert all(
        g.complete and len(g.parameters) > 100 for g in snap.parameter_groups
    )  # engine defaults, paged
    green_pg = snap.parameter_group(
        "cluster", fleet.green_cluster_parameter_group, fleet.primary_region, snap.clusters[0].account
    )
    assert green_pg is not None and green_pg.parameters["rds.logical_replication"].value is True
    assert snap.engine_versions and snap.proxies and snap.alarms and snap.metrics
    # structural call bounds: each distinct thing described once
    calls = {c.operation: c.calls for c in snap.calls}
    regions = len(snap.regions)
    assert calls["rds.DescribeDBClusters"] == len(snap.clusters)
    assert calls["rds.DescribeDBClusterParameterGroups"] == len(
        [g for g in snap.parameter_groups if g.kind == "cluster"]
    )
    assert calls["rds.DescribeDBParameterGroups"] == len([g for g in snap.parameter_groups if g.kind == "db"])
    for op in (
        "rds.DescribeDBInstances",
        "cloudwatch.DescribeAlarms",
        "cloudwatch.GetMetricData",
        "rds.DescribePendingMaintenanceActions",
        "rds.DescribeDBProxies",
    ):
        assert calls[op] == regions, op
    assert Snapshot.from_json(snap.to_json()) == snap


def test_denied_and_throttled_operations_over_http_are_data(aws_env, fleet_ctx) -> None:  # noqa: ANN001
    fleet, _ = fleet_ctx
    aws_env.deny("DescribeDBProxies")
    aws_env.set_throttling(1.0, ["DescribeAlarms"])
    ctx = AwsContext(AwsOptions(region=fleet.primary_region), max_attempts=1)  # throttling exhausted fast
    snap = collect_snapshot(ctx, fleet.primary_region, [fleet.prod.cluster_id])
    codes = {(e.operation, e.code) for e in snap.errors}
    assert ("DescribeDBProxies", "AccessDenied") in codes
    assert {op for op, code in codes if code.startswith("Throttling")} == {"DescribeAlarms"}
    assert {e.operation for e in snap.errors} == {"DescribeDBProxies", "DescribeAlarms"}
    assert snap.proxies == () and snap.alarms == ()
    assert snap.cluster(fleet.prod.cluster_id) is not None and snap.metrics and snap.parameter_groups


def test_gate_snapshot_over_http(fleet_ctx) -> None:  # noqa: ANN001
    fleet, ctx = fleet_ctx
    snap = collect_blue_green(ctx, fleet.primary_region, fleet.blue_green_id)
    assert [t.kind for t in snap.targets] == ["blue-green", "cluster", "cluster"]
    assert {c.id for c in snap.clusters if c.role in ("target", "green")} == {
        fleet.prod.cluster_id,
        fleet.green_cluster_id,
    }
