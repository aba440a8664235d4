"""collect_snapshot against a fully-featured topology in moto (tests/collect/topo.py)."""

from __future__ import annotations

from collections import Counter

import boto3
import pytest

from auditor.collect.aws import AwsContext, AwsOptions
from auditor.collect.topology import collect_snapshot
from auditor.models.snapshot import Snapshot
from tests.collect import topo
from tests.collect.coverage import unfilled_fields

# Fields no collector can fill from this topology, and why.
NOT_FILLABLE = {
    ("Cluster", "certificate"): "DBCluster.CertificateDetails is for Multi-AZ DB clusters, not Aurora",
    (
        "Cluster",
        "performance_insights_enabled",
    ): "DBCluster.PerformanceInsightsEnabled: Multi-AZ DB clusters only",
    ("Cluster", "replication_source"): "set for cross-region read replica clusters only",
    (
        "ProxyTarget",
        "role",
    ): "Role comes with RDS_INSTANCE targets; moto returns only the TRACKED_CLUSTER target",
    ("BlueGreenDeployment", "status_details"): "moto 5.2 does not return StatusDetails",
    ("Snapshot", "databases"): "in-database state: auditor.collect.postgres (db=None here)",
    ("Snapshot", "errors"): "nothing failed",
}


@pytest.fixture
def full(ctx: AwsContext) -> tuple[topo.Topology, dict]:
    t = topo.build()
    seen = topo.install_gaps(ctx, t)
    return t, seen


def test_every_field_of_the_model_is_filled(ctx: AwsContext, full) -> None:  # noqa: ANN001
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app", "prod-reports"])
    assert snap.errors == ()
    assert unfilled_fields([snap]) == set(NOT_FILLABLE)


def test_roles_regions_and_targets(ctx: AwsContext, full) -> None:  # noqa: ANN001
    t, _ = full
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    roles = {(c.id, c.region): c.role for c in snap.clusters}
    assert roles == {
        ("prod-app", "us-east-1"): "target",
        (t.green, "us-east-1"): "green",
        ("prod-app-eu", "eu-west-1"): "global-member",
    }
    assert [(x.kind, x.id, x.region, x.account) for x in snap.targets] == [
        ("cluster", "prod-app", "us-east-1", "123456789012")
    ]
    assert snap.regions == ("eu-west-1", "us-east-1")
    prod = snap.cluster("prod-app")
    assert prod is not None
    assert prod.kms_key_manager == "CUSTOMER" and prod.kms_key_id == t.kms_key_arn
    assert prod.deletion_protection is True and prod.backup_retention_days == 14 and prod.iam_auth is True
    assert prod.log_exports == ("postgresql",) and prod.parameter_group == "prod-app-pg16"
    assert prod.global_cluster_id == "prod-global" and prod.tags == {"team": "payments"}
    writer = [m.instance_id for m in prod.members if m.is_writer]
    assert writer == ["prod-app-1"]
    insts = {i.id: i for i in snap.instances_of(prod)}
    assert set(insts) == set(t.instances)
    assert {i.availability_zone for i in insts.values()} == {"us-east-1a", "us-east-1b", "us-east-1c"}
    assert insts["prod-app-1"].is_writer is True and insts["prod-app-2"].is_writer is False
    assert insts["prod-app-3"].parameter_groups[0].apply_status == "pending-reboot"
    assert insts["prod-app-2"].performance_insights_enabled is True
    assert insts["prod-app-2"].certificate and insts["prod-app-2"].certificate.valid_till.tzinfo is not None
    [g] = snap.global_clusters
    members = {m.cluster_id: m for m in g.members}
    assert members["prod-app"].is_writer and not members["prod-app-eu"].is_writer
    assert (
        members["prod-app-eu"].region == "eu-west-1"
        and members["prod-app-eu"].synchronization_status == "connected"
    )
    [bgd] = snap.blue_green_deployments
    assert (bgd.id, bgd.name, bgd.source_cluster_id, bgd.target_cluster_id) == (
        t.bgd_id,
        t.bgd_name,
        "prod-app",
        t.green,
    )
    assert bgd.target_engine_version == "16.6" and bgd.create_time and bgd.create_time.tzinfo is not None
    green_pg = snap.parameter_group("cluster", "prod-app-pg16-green", "us-east-1", "123456789012")
    assert green_pg is not None and green_pg.parameters["rds.logical_replication"].value is True
    blue_pg = snap.parameter_group("cluster", "prod-app-pg16", "us-east-1", "123456789012")
    assert blue_pg is not None and blue_pg.parameters["rds.logical_replication"].value is False


def test_only_what_concerns_the_cluster(ctx: AwsContext, full) -> None:  # noqa: ANN001
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    assert [p.name for p in snap.proxies] == ["prod-app-proxy"]
    proxy = snap.proxies[0]
    assert (
        proxy.cluster_ids == ("prod-app",)
        and proxy.require_tls is True
        and proxy.auth[0].iam_auth == "REQUIRED"
    )
    assert proxy.target_groups[0].pool and proxy.target_groups[0].pool.max_connections_percent == 90
    assert {a.name: a.cluster_id for a in snap.alarms} == {
        "prod-app-replica-lag": "prod-app",
        "prod-app-1-cpu": "prod-app",  # instance dimension, mapped to its cluster
        "prod-app-connections": "prod-app",
        "prod-app-slot-lag": "prod-app",  # metric math: the cluster is named inside Metrics[]
    }
    slot = next(a for a in snap.alarms if a.name == "prod-app-slot-lag")
    assert slot.metric_names == ("OldestReplicationSlotLag",)
    [target] = snap.scalable_targets
    assert (target.cluster_id, target.min_capacity, target.max_capacity) == ("prod-app", 2, 6)
    assert [p.predefined_metric for p in target.policies] == ["RDSReaderAverageCPUUtilization"]
    assert {p.resource_id for p in snap.pending_maintenance} == {"prod-app", "prod-app-eu"}  # not other-app
    pending = next(p for p in snap.pending_maintenance if p.resource_id == "prod-app")
    assert pending.forced_apply_date and pending.forced_apply_date.tzinfo is not None
    versions = {(e.version, e.region): e for e in snap.engine_versions}
    assert set(versions) == {("16.4", "us-east-1"), ("16.6", "us-east-1"), ("16.4", "eu-west-1")}
    v = versions[("16.4", "us-east-1")]
    assert v.major_version == "16" and v.lifecycle_source == "api" and v.standard_support_end.year == 2029


def test_lag_maxima(ctx: AwsContext, full) -> None:  # noqa: ANN001
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    by = {(m.metric_name, tuple(m.dimensions.values())): m for m in snap.metrics}
    assert (
        by[("AuroraReplicaLag", ("prod-app-2",))].value,
        by[("AuroraReplicaLag", ("prod-app-2",))].datapoints,
    ) == (
        48.0,
        3,
    )
    assert by[("AuroraReplicaLag", ("prod-app-3",))].value == 5.0
    assert ("AuroraReplicaLag", ("prod-app-1",)) not in by  # the writer has no replica lag
    assert by[("AuroraGlobalDBReplicationLag", ("prod-app-eu",))].value == 850.0
    assert by[("AuroraGlobalDBReplicationLag", ("prod-app-eu",))].region == "eu-west-1"
    rpo = by[("AuroraGlobalDBRPOLag", ("prod-app-eu",))]
    assert rpo.value is None and rpo.datapoints == 0  # no datapoints: None, never 0
    assert all((m.end - m.start).total_seconds() == 60 * 60 for m in snap.metrics)


# One fully-featured cluster: prod-app with 3 instances, its green (3 instances), its Global Database
# secondary in eu-west-1 (1 instance), a proxy, auto scaling, alarms. 336 parameters per group = 4 pages.
EXPECTED_CALLS = {
    "sts.GetCallerIdentity": 1,
    "rds.DescribeDBClusters": 3,  # prod-app; its green; the eu secondary (each filtered by id)
    "rds.DescribeBlueGreenDeployments": 1,  # once per target region
    "rds.DescribeGlobalClusters": 1,  # once per global cluster id
    "rds.DescribeDBInstances": 2,  # once per region (db-cluster-id filter, all clusters of the region)
    "rds.DescribeDBClusterParameterGroups": 3,  # prod-app-pg16 (us), prod-app-pg16-green, prod-app-pg16 (eu)
    "rds.DescribeDBClusterParameters": 12,  # 3 groups x 4 pages of 100
    "rds.DescribeDBParameterGroups": 2,  # prod-app-db-pg16 shared by 6 instances; eu default group
    "rds.DescribeDBParameters": 8,  # 2 groups x 4 pages
    "rds.DescribeDBEngineVersions": 3,  # 16.4 + 16.6 in us-east-1, 16.4 in eu-west-1
    "rds.DescribeDBMajorEngineVersions": 2,  # major 16, per region
    "rds.DescribePendingMaintenanceActions": 2,  # per region
    "kms.DescribeKey": 1,  # one distinct storage key
    "rds.DescribeDBProxies": 2,  # per region
    "rds.DescribeDBProxyTargets": 2,  # per PostgreSQL proxy in us-east-1 (2)
    "rds.DescribeDBProxyTargetGroups": 1,  # only for the proxy fronting prod-app
    "application-autoscaling.DescribeScalableTargets": 2,  # per region
    "application-autoscaling.DescribeScalingPolicies": 1,  # only where a target is registered
    "cloudwatch.DescribeAlarms": 2,  # per region, not per cluster
    "cloudwatch.GetMetricData": 2,  # per region: every lag metric in one call
}


def test_api_calls_per_operation_stay_at_their_bound(ctx: AwsContext, full) -> None:  # noqa: ANN001
    _, seen = full
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    assert {c.operation: c.calls for c in snap.calls} == EXPECTED_CALLS
    assert sum(EXPECTED_CALLS.values()) == 53
    # each distinct parameter group page read exactly once, never with a Source filter
    requests = seen["us-east-1.DescribeDBParameters"]
    pages = Counter((r["DBParameterGroupName"], r.get("Marker")) for r in requests)
    assert set(pages.values()) == {1} and len(pages) == 4
    assert all("Source" not in r and r["MaxRecords"] == 100 for r in requests)


def test_whole_region_audits_every_aurora_postgresql_cluster(ctx: AwsContext, full) -> None:  # noqa: ANN001
    t, _ = full
    boto3.client("rds", topo.PRIMARY).create_db_cluster(
        DBClusterIdentifier="mysql-app",
        Engine="aurora-mysql",
        MasterUsername="u",
        MasterUserPassword="password123",
    )
    snap = collect_snapshot(ctx, topo.PRIMARY, None)
    roles = {c.id: c.role for c in snap.clusters if c.region == topo.PRIMARY}
    assert roles == {"prod-app": "target", "other-app": "target", "prod-reports": "target", t.green: "green"}
    assert {x.id for x in snap.targets} == {"prod-app", "other-app", "prod-reports"}
    assert "other-app-cpu" in {a.name for a in snap.alarms}


def test_json_round_trip(ctx: AwsContext, full) -> None:  # noqa: ANN001
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    again = Snapshot.from_json(snap.to_json())
    assert again == snap
    assert again.to_json() == snap.to_json()


def test_certificate_expiry_from_describe_certificates_when_instances_omit_it(ctx: AwsContext) -> None:
    t = topo.build(with_bgd=False)
    topo.install_gaps(ctx, t, certificate_details=False)
    snap = collect_snapshot(ctx, topo.PRIMARY, ["prod-app"])
    assert snap.errors == ()
    for inst in snap.instances:
        assert inst.certificate is not None and inst.certificate.ca_identifier == "rds-ca-default"
        assert inst.certificate.valid_till is not None and inst.certificate.valid_till.year == 2061
    assert {c.operation: c.calls for c in snap.calls}["rds.DescribeCertificates"] == 2  # once per region


def test_calls_do_not_grow_with_clusters_that_share_everything(ctx: AwsContext) -> None:
    rds = boto3.client("rds", topo.PRIMARY)
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="shared", DBParameterGroupFamily="aurora-postgresql16", Description="x"
    )

    def build(n: int) -> dict[str, int]:
        for i in range(n):
            rds.create_db_cluster(
                DBClusterIdentifier=f"app-{n}-{i}",
                Engine="aurora-postgresql",
                EngineVersion="16.4",
                MasterUsername="u",
                MasterUserPassword="password123",
                DBClusterParameterGroupName="shared",
            )
            for k in range(2):
                rds.create_db_instance(
                    DBInstanceIdentifier=f"app-{n}-{i}-{k}",
                    DBClusterIdentifier=f"app-{n}-{i}",
                    Engine="aurora-postgresql",
                    DBInstanceClass="db.r6g.large",
                )
        fresh = AwsContext(AwsOptions(region=topo.PRIMARY))
        snap = collect_snapshot(fresh, topo.PRIMARY, None)
        return {c.operation: c.calls for c in snap.calls}

    small = build(2)
    large = build(20)  # 22 clusters, 44 instances in the region now
    assert large == small
    assert large["rds.DescribeDBClusterParameterGroups"] == 1 and large["rds.DescribeDBInstances"] == 1
    assert large["cloudwatch.GetMetricData"] == 1
