"""Failures are data: one failing read lands in Snapshot.errors and collection carries on."""

from __future__ import annotations

import boto3
import pytest

from auditor.collect.aws import AwsContext
from auditor.collect.topology import collect_snapshot
from auditor.errors import NotFoundError
from tests.collect import topo
from tests.collect.fakes import answer, error


@pytest.fixture
def built(ctx: AwsContext) -> topo.Topology:
    return topo.build()


def test_access_denied_on_one_operation(ctx: AwsContext, built: topo.Topology) -> None:
    topo.install_gaps(ctx, built)
    answer(
        ctx.client("rds", topo.PRIMARY),
        "DescribeDBProxies",
        error("AccessDenied", "User is not authorized to perform: rds:DescribeDBProxies", 403),
    )
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    [err] = snap.errors
    assert (err.operation, err.code, err.region, err.resource, err.account) == (
        "DescribeDBProxies",
        "AccessDenied",
        "us-east-1",
        "us-east-1",
        "123456789012",
    )
    assert "not authorized" in err.message
    assert snap.proxies == ()
    # the rest is all there
    assert len(snap.clusters) == 3 and len(snap.instances) == 7 and len(snap.parameter_groups) == 5
    assert len(snap.alarms) == 4 and len(snap.scalable_targets) == 1 and len(snap.metrics) == 6
    assert len(snap.global_clusters) == 1 and len(snap.blue_green_deployments) == 1
    assert snap.errors_for(operation="DescribeDBProxies", cluster="prod-app") == [err]


def test_operations_moto_lacks_are_recorded_not_fatal(ctx: AwsContext, built: topo.Topology) -> None:
    # No answers installed: moto (in-process) raises NotImplementedError for these; in server mode they
    # come back as HTTP 500 (ResponseParserError). Both are UnknownOperation.
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    failed = {(e.operation, e.region) for e in snap.errors}
    for region in ("us-east-1", "eu-west-1"):
        for op in (
            "DescribeDBEngineVersions",
            "DescribeDBMajorEngineVersions",
            "DescribePendingMaintenanceActions",
        ):
            assert (op, region) in failed
    assert {e.code for e in snap.errors} == {"UnknownOperation"}
    assert snap.engine_versions == () and snap.pending_maintenance == ()  # nothing guessed
    assert len(snap.clusters) == 3 and all(g.complete for g in snap.parameter_groups)


def test_throttling_exhausted_is_data(ctx: AwsContext, built: topo.Topology) -> None:
    topo.install_gaps(ctx, built)
    answer(ctx.client("cloudwatch", topo.SECONDARY), "DescribeAlarms", error("Throttling", "Rate exceeded"))
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    assert [(e.operation, e.code, e.region) for e in snap.errors] == [
        ("DescribeAlarms", "Throttling", "eu-west-1")
    ]
    assert len(snap.alarms) == 4  # us-east-1 alarms still collected


def test_page_failure_marks_the_group_incomplete(ctx: AwsContext, built: topo.Topology) -> None:
    topo.install_gaps(ctx, built)
    inner = topo.parameter_pages([])

    def third_page_fails(p: dict) -> dict:
        if p.get("Marker") == "200" and p["DBClusterParameterGroupName"] == "prod-app-pg16-green":
            return error("InternalFailure", "try again", 500)
        return inner(p)

    answer(ctx.client("rds", topo.PRIMARY), "DescribeDBClusterParameters", third_page_fails, first=True)
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    green = snap.parameter_group("cluster", "prod-app-pg16-green", "us-east-1", "123456789012")
    assert green is not None and not green.complete and len(green.parameters) == 200
    blue = snap.parameter_group("cluster", "prod-app-pg16", "us-east-1", "123456789012")
    assert blue is not None and blue.complete
    [err] = snap.errors
    assert (err.operation, err.resource, err.resource_kind) == (
        "DescribeDBClusterParameters",
        "prod-app-pg16-green",
        "cluster-parameter-group",
    )


def test_unknown_cluster_is_not_found_with_close_matches(ctx: AwsContext, built: topo.Topology) -> None:
    with pytest.raises(NotFoundError) as info:
        collect_snapshot(ctx, topo.PRIMARY, ["prod-ap"])
    msg = str(info.value)
    assert msg.startswith("cluster prod-ap not found in region us-east-1")
    assert "did you mean: prod-app" in msg and "\n" not in msg


def test_unknown_cluster_without_close_matches(ctx: AwsContext) -> None:
    with pytest.raises(NotFoundError, match=r"^cluster nothing-like-it not found in region eu-west-1"):
        collect_snapshot(ctx, "eu-west-1", ["nothing-like-it"])


def test_missing_related_cluster_is_an_error_not_a_crash(ctx: AwsContext, built: topo.Topology) -> None:
    topo.install_gaps(ctx, built)
    boto3.client("rds", topo.SECONDARY).delete_db_instance(DBInstanceIdentifier="prod-app-eu-1")
    answer(ctx.client("rds", topo.SECONDARY), "DescribeDBClusters", {"DBClusters": []}, first=True)
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    [err] = snap.errors
    assert (err.operation, err.code, err.resource, err.region) == (
        "DescribeDBClusters",
        "DBClusterNotFoundFault",
        "prod-app-eu",
        "eu-west-1",
    )


def test_rejected_credentials_fail_collection_in_one_line(ctx: AwsContext, built: topo.Topology) -> None:
    from auditor.errors import CollectionFailed

    expired = error("ExpiredToken", "The security token included in the request is expired", 403)
    answer(ctx.client("sts"), "GetCallerIdentity", expired)
    answer(ctx.client("rds", topo.PRIMARY), "DescribeDBClusters", expired)
    with pytest.raises(CollectionFailed) as info:
        collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    assert str(info.value).startswith("AWS rejected the credentials (ExpiredToken) in us-east-1")
    assert "\n" not in str(info.value)
