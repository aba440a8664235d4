"""diff_snapshots: readable changes by resource, noise ignored, a JSON form."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from auditor.collect.aws import AwsContext, AwsOptions
from auditor.collect.topology import collect_snapshot
from auditor.diffing import DIFF_SCHEMA, diff_snapshots, diff_to_json, render_diff_text
from auditor.models.snapshot import CallStat, Snapshot
from tests.collect import topo
from tests.collect.conftest import moto_env  # noqa: F401  (fixture)


@pytest.fixture
def collected(moto_env: None) -> tuple[AwsContext, topo.Topology]:  # noqa: F811
    ctx = AwsContext(AwsOptions(region=topo.PRIMARY))
    t = topo.build(with_bgd=False)
    topo.install_gaps(ctx, t, pending_reboot=None)
    return ctx, t


def test_same_topology_twice_has_no_changes(collected) -> None:  # noqa: ANN001
    ctx, _ = collected
    a = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    b = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    b = b.with_changes(
        taken_at=a.taken_at + timedelta(hours=1),
        calls=[CallStat(operation="rds.DescribeDBClusters", calls=99, seconds=1.0)],
    )
    assert diff_snapshots(a, b) == []
    assert render_diff_text([]) == "no changes\n"


def test_changes_read_by_resource(collected) -> None:  # noqa: ANN001
    ctx, t = collected
    old = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    rds = boto3.client("rds", topo.PRIMARY)
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName=t.cluster_pg,
        Parameters=[
            {
                "ParameterName": "rds.logical_replication",
                "ParameterValue": "1",
                "ApplyMethod": "pending-reboot",
            }
        ],
    )
    rds.modify_db_cluster(DBClusterIdentifier=t.cluster, DeletionProtection=False, ApplyImmediately=True)
    rds.delete_db_instance(DBInstanceIdentifier="prod-app-3")
    rds.modify_db_instance(DBInstanceIdentifier="prod-app-2", PromotionTier=9, ApplyImmediately=True)
    new = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])

    changes = diff_snapshots(old, new)
    text = render_diff_text(changes)
    assert "cluster-parameter-group prod-app-pg16 / rds.logical_replication: 0 → 1\n" in text
    assert "cluster prod-app / deletion_protection: True → False\n" in text
    assert "instance prod-app-3: removed\n" in text
    assert "instance prod-app-2 / promotion_tier: 1 → 9\n" in text
    assert "cluster prod-app / members.prod-app-3: removed" in text  # members keyed by instance id
    assert "cluster prod-app / members.prod-app-2.promotion_tier: 1 → 9\n" in text
    assert not [c for c in changes if "[" in c.path]  # no list indexes anywhere
    # the eu parameter group of the same name did not change: changes are per region
    lr = [c for c in changes if c.path == "rds.logical_replication"]
    assert [(c.resource_kind, c.region, c.old, c.new) for c in lr] == [
        ("cluster-parameter-group", "us-east-1", "0", "1")
    ]

    doc = json.loads(diff_to_json(changes, old="a.json", new="b.json"))
    assert doc["schema"] == DIFF_SCHEMA and doc["count"] == len(changes) and doc["old"] == "a.json"
    first = doc["changes"][0]
    assert set(first) == {"resource_kind", "resource_id", "region", "path", "change", "old", "new", "text"}


def _base() -> Snapshot:
    return Snapshot.model_validate(
        {
            "tool_version": "0.1.0",
            "taken_at": datetime(2026, 11, 25, tzinfo=UTC).isoformat(),
            "clusters": [
                {
                    "id": "c",
                    "region": "r",
                    "engine": "aurora-postgresql",
                    "engine_version": "16.4",
                    "log_exports": ["postgresql"],
                    "tags": {"env": "prod"},
                }
            ],
            "alarms": [{"name": "lag", "region": "r", "metric_name": "AuroraReplicaLag", "threshold": 100.0}],
        }
    )


def test_added_removed_and_set_like_fields() -> None:
    a = _base()
    data = a.model_dump(by_alias=True)
    data["clusters"][0]["log_exports"] = ["postgresql", "upgrade"]
    data["clusters"][0]["tags"] = {"env": "prod", "owner": "dba"}
    data["alarms"] = []
    data["proxies"] = [{"name": "p", "region": "r", "require_tls": True}]
    b = Snapshot.model_validate(data)
    texts = [c.text() for c in diff_snapshots(a, b)]
    assert texts == [
        "alarm lag: removed",
        "cluster c / log_exports: added upgrade",
        "cluster c / tags.owner: added dba",
        "proxy p: added",
    ]
    assert [c.text() for c in diff_snapshots(b, a)] == [
        "alarm lag: added",
        "cluster c / log_exports: removed (was upgrade)",
        "cluster c / tags.owner: removed (was dba)",
        "proxy p: removed",
    ]
