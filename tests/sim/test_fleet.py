"""Builders create what they say: checked through the same APIs a collector uses."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from auditor.sim import SimulatedAws
from auditor.sim.builders import create_cluster, create_instances
from auditor.sim.fleet import build_demo_fleet, build_production_cluster, build_scale_fleet

pytestmark = pytest.mark.moto_server


def _params(rds, name: str, kind: str = "cluster") -> dict[str, str | None]:
    op, key = (
        ("describe_db_cluster_parameters", "DBClusterParameterGroupName")
        if kind == "cluster"
        else ("describe_db_parameters", "DBParameterGroupName")
    )
    out: dict[str, str | None] = {}
    for page in rds.get_paginator(op).paginate(**{key: name}):
        out |= {p["ParameterName"]: p.get("ParameterValue") for p in page["Parameters"]}
    return out


def test_demo_fleet(aws_env: SimulatedAws, capsys: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    fleet = build_demo_fleet(aws_env)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(
            f"\nbuild_demo_fleet: {elapsed:.2f} s, {sum(aws_env.calls().values())} API calls"
        )  # reported only

    rds = aws_env.client("rds")
    prod = rds.describe_db_clusters(DBClusterIdentifier="prod-app")["DBClusters"][0]
    assert prod["EngineVersion"].startswith("16.")
    assert prod["DeletionProtection"] and prod["BackupRetentionPeriod"] == 14
    assert (
        prod["StorageEncrypted"] and prod["IAMDatabaseAuthenticationEnabled"] and prod["CopyTagsToSnapshot"]
    )
    assert prod["EnabledCloudwatchLogsExports"] == ["postgresql"]
    assert prod["GlobalClusterIdentifier"] == "prod-app-global"
    key = aws_env.client("kms").describe_key(KeyId=prod["KmsKeyId"])["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER"
    tiers = sorted((m["IsClusterWriter"], m["PromotionTier"]) for m in prod["DBClusterMembers"])
    assert tiers == [(False, 1), (False, 1), (True, 0)]
    insts = rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": ["prod-app"]}])[
        "DBInstances"
    ]
    assert len({i["AvailabilityZone"] for i in insts}) == 3
    assert all(i["PerformanceInsightsEnabled"] and i["PerformanceInsightsKMSKeyId"] for i in insts)
    cpg = _params(rds, prod["DBClusterParameterGroup"])
    assert (cpg["rds.force_ssl"], cpg["rds.logical_replication"]) == ("1", "0")
    assert _params(rds, fleet.prod.db_parameter_group or "", "db")["log_min_duration_statement"] == "1000"

    proxy = rds.describe_db_proxies(DBProxyName="prod-app-proxy")["DBProxies"][0]
    assert proxy["RequireTLS"] and proxy["Auth"][0]["IAMAuth"] == "REQUIRED"
    targets = rds.describe_db_proxy_targets(DBProxyName="prod-app-proxy")["Targets"]
    assert [t["RdsResourceId"] for t in targets if t["Type"] == "TRACKED_CLUSTER"] == ["prod-app"]
    aas = aws_env.client("application-autoscaling")
    [target] = aas.describe_scalable_targets(ServiceNamespace="rds", ResourceIds=["cluster:prod-app"])[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 8)
    policies = aas.describe_scaling_policies(ServiceNamespace="rds", ResourceId="cluster:prod-app")
    assert policies["ScalingPolicies"][0]["PolicyType"] == "TargetTrackingScaling"
    cw = aws_env.client("cloudwatch")
    alarms = {a["MetricName"] for a in cw.describe_alarms(AlarmNamePrefix="prod-app-")["MetricAlarms"]}
    assert alarms == {"AuroraReplicaLag", "CPUUtilization", "DatabaseConnections", "ReplicationSlotDiskUsage"}
    now = datetime.now(UTC)
    lag = cw.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="AuroraReplicaLag",
        Dimensions=[{"Name": "DBClusterIdentifier", "Value": "prod-app"}],
        StartTime=now - timedelta(minutes=60),
        EndTime=now + timedelta(minutes=1),
        Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert lag and lag[0]["Maximum"] < 100

    [glob] = rds.describe_global_clusters(GlobalClusterIdentifier="prod-app-global")["GlobalClusters"]
    members = {m["DBClusterArn"]: m for m in glob["GlobalClusterMembers"]}
    assert members[fleet.prod.arn]["IsWriter"]
    assert members[fleet.secondary.arn]["SynchronizationStatus"] == "connected"
    eu = aws_env.client("rds", "eu-west-1").describe_db_clusters(DBClusterIdentifier="prod-app-eu")
    [eu_member] = eu["DBClusters"][0]["DBClusterMembers"]
    assert eu_member["IsClusterWriter"] is False  # a secondary has readers only

    [bgd] = rds.describe_blue_green_deployments(BlueGreenDeploymentIdentifier=fleet.blue_green_id)[
        "BlueGreenDeployments"
    ]
    assert bgd["Status"] == "AVAILABLE" and bgd["Source"] == fleet.prod.arn
    green = rds.describe_db_clusters(DBClusterIdentifier=fleet.green_cluster_id)["DBClusters"][0]
    assert green["DBClusterParameterGroup"] == fleet.green_cluster_parameter_group
    assert _params(rds, green["DBClusterParameterGroup"])["rds.logical_replication"] == "1"  # the incident

    rep = rds.describe_db_clusters(DBClusterIdentifier="reporting")["DBClusters"][0]
    assert not rep["DeletionProtection"] and rep["BackupRetentionPeriod"] == 1
    rep_key = aws_env.client("kms").describe_key(KeyId=rep["KmsKeyId"])["KeyMetadata"]
    assert rep_key["KeyManager"] == "AWS"
    rep_insts = rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": ["reporting"]}])
    assert {i["DBInstanceClass"] for i in rep_insts["DBInstances"]} == {"db.r6g.large", "db.t4g.medium"}
    assert len({i["AvailabilityZone"] for i in rep_insts["DBInstances"]}) == 1

    legacy = rds.describe_db_clusters(DBClusterIdentifier="legacy-billing")["DBClusters"][0]
    assert legacy["DBClusterParameterGroup"] == "default.aurora-postgresql13"
    assert _params(rds, "default.aurora-postgresql13")["rds.force_ssl"] == "0"
    versions = rds.describe_db_engine_versions(
        Engine="aurora-postgresql", EngineVersion="13.9", IncludeAll=True
    )
    assert versions["DBEngineVersions"][0]["Status"] == "deprecated"
    pending = rds.describe_pending_maintenance_actions(
        Filters=[{"Name": "db-cluster-id", "Values": ["legacy-billing"]}]
    )["PendingMaintenanceActions"]
    assert pending[0]["PendingMaintenanceActionDetails"][0]["ForcedApplyDate"] < now + timedelta(days=30)
    assert {m["DBClusterParameterGroupStatus"] for m in legacy["DBClusterMembers"]} == {
        "in-sync",
        "pending-reboot",
    }


def test_production_cluster_with_one_planted_fault(aws_env: SimulatedAws) -> None:
    built = build_production_cluster(
        aws_env, "eu-west-1", "careful", cluster_params={"rds.force_ssl": "0"}, with_proxy=False
    )
    rds = aws_env.client("rds", "eu-west-1")
    assert _params(rds, built.cluster_parameter_group or "")["rds.force_ssl"] == "0"
    c = rds.describe_db_clusters(DBClusterIdentifier="careful")["DBClusters"][0]
    assert c["MasterUserSecret"]["SecretStatus"] == "active"  # managed master password by default
    assert len(built.instances) == 3 and rds.describe_db_proxies()["DBProxies"] == []


def test_builders_instance_layout(aws_env: SimulatedAws) -> None:
    create_cluster(aws_env, "us-east-1", "x", storage_encrypted=False)
    ids = create_instances(
        aws_env,
        "us-east-1",
        "x",
        [("db.r6g.large", "us-east-1a", 0), ("db.t4g.medium", "us-east-1a", 0)],
        performance_insights=False,
    )
    rds = aws_env.client("rds")
    got = {i["DBInstanceIdentifier"]: i for i in rds.describe_db_instances()["DBInstances"]}
    assert [got[i]["DBInstanceClass"] for i in ids] == ["db.r6g.large", "db.t4g.medium"]
    assert [got[i]["PromotionTier"] for i in ids] == [0, 0]
    assert not any(got[i]["PerformanceInsightsEnabled"] for i in ids)


def test_scale_fleet_small(aws_env: SimulatedAws) -> None:
    fleet = build_scale_fleet(aws_env, clusters=50, instances_per_cluster=2, parameter_groups=4)
    assert fleet.instances == 100 and {r: len(v) for r, v in fleet.clusters.items()} == {
        "us-east-1": 25,
        "eu-west-1": 25,
    }
    rds = aws_env.client("rds", "eu-west-1")
    first = rds.describe_db_clusters(MaxRecords=20)
    assert len(first["DBClusters"]) == 20 and first["Marker"]
    groups = {c["DBClusterParameterGroup"] for c in first["DBClusters"]}
    assert groups == {"scale-pg-001", "scale-pg-003"}
