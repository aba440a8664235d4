"""The simulated AWS front: every answer goes through a real boto3 client (botocore's parser and model)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from auditor.sim import SimControl, SimulatedAws
from auditor.sim.builders import create_cluster, create_instance, create_parameter_group
from auditor.sim.wire import parse_rds, serialize_rds

pytestmark = pytest.mark.moto_server


def _all(client, op: str, key: str, **kw) -> list[dict]:
    out: list[dict] = []
    for page in client.get_paginator(op).paginate(**kw):
        out += page[key]
    return out


def test_env_points_boto3_at_the_front(aws_env: SimulatedAws) -> None:
    rds = boto3.client("rds")  # region, endpoint and keys all from the environment
    assert rds.meta.endpoint_url == aws_env.endpoint_url
    assert rds.describe_db_clusters()["DBClusters"] == []


def test_engine_versions_available_and_deprecated(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    available = _all(rds, "describe_db_engine_versions", "DBEngineVersions", Engine="aurora-postgresql")
    everything = _all(
        rds, "describe_db_engine_versions", "DBEngineVersions", Engine="aurora-postgresql", IncludeAll=True
    )
    assert {v["Status"] for v in available} == {"available"}
    deprecated = {v["EngineVersion"] for v in everything if v["Status"] == "deprecated"}
    assert "13.9" in deprecated and "13.9" not in {v["EngineVersion"] for v in available}
    v168 = next(v for v in available if v["EngineVersion"] == "16.8")
    assert v168["DBParameterGroupFamily"] == "aurora-postgresql16"
    assert any(
        t["EngineVersion"] == "16.9" and not t["IsMajorVersionUpgrade"] for t in v168["ValidUpgradeTarget"]
    )
    aws_env.set_engine_version_status("16.8", "deprecated")
    one = rds.describe_db_engine_versions(Engine="aurora-postgresql", EngineVersion="16.8", IncludeAll=True)
    assert one["DBEngineVersions"][0]["Status"] == "deprecated"


def test_major_engine_version_lifecycle(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    majors = rds.describe_db_major_engine_versions(Engine="aurora-postgresql")["DBMajorEngineVersions"]
    v13 = next(m for m in majors if m["MajorEngineVersion"] == "13")
    names = [lc["LifecycleSupportName"] for lc in v13["SupportedEngineLifecycles"]]
    assert names == ["open-source-rds-standard-support", "open-source-rds-extended-support"]
    std = v13["SupportedEngineLifecycles"][0]
    assert std["LifecycleSupportEndDate"].date().isoformat() == "2026-02-28"
    aws_env.set_major_version_lifecycle("16", standard_end="2026-12-31")
    v16 = rds.describe_db_major_engine_versions(Engine="aurora-postgresql", MajorEngineVersion="16")
    end = v16["DBMajorEngineVersions"][0]["SupportedEngineLifecycles"][0]["LifecycleSupportEndDate"]
    assert end.date().isoformat() == "2026-12-31"


def test_certificates(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    resp = rds.describe_certificates()
    assert resp["DefaultCertificateForNewLaunches"] == "rds-ca-rsa2048-g1"
    ids = {c["CertificateIdentifier"] for c in resp["Certificates"]}
    assert {"rds-ca-2019", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"} <= ids
    with pytest.raises(ClientError) as err:
        rds.describe_certificates(CertificateIdentifier="rds-ca-nope")
    assert err.value.response["Error"]["Code"] == "CertificateNotFound"


def test_pending_maintenance_filters_and_regions(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    arn = "arn:aws:rds:us-east-1:123456789012:cluster:legacy"
    forced = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    aws_env.set_pending_maintenance(arn, "db-upgrade", forced_apply_date=forced, description="upgrade")
    aws_env.set_pending_maintenance("arn:aws:rds:us-east-1:123456789012:db:other-1", "system-update")
    got = rds.describe_pending_maintenance_actions(Filters=[{"Name": "db-cluster-id", "Values": ["legacy"]}])
    [entry] = got["PendingMaintenanceActions"]
    assert entry["ResourceIdentifier"] == arn
    assert entry["PendingMaintenanceActionDetails"][0]["ForcedApplyDate"] == forced
    assert len(rds.describe_pending_maintenance_actions()["PendingMaintenanceActions"]) == 2
    eu = aws_env.client("rds", "eu-west-1")
    assert eu.describe_pending_maintenance_actions()["PendingMaintenanceActions"] == []


def test_cluster_parameters_page_at_100_and_merge_user_values(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    create_parameter_group(aws_env, "us-east-1", "pg", parameters={"rds.logical_replication": "1"})
    first = rds.describe_db_cluster_parameters(DBClusterParameterGroupName="pg", MaxRecords=100)
    assert len(first["Parameters"]) == 100 and first["Marker"]
    second = rds.describe_db_cluster_parameters(
        DBClusterParameterGroupName="pg", MaxRecords=100, Marker=first["Marker"]
    )
    assert second["Parameters"][0]["ParameterName"] > first["Parameters"][-1]["ParameterName"]
    everything = _all(rds, "describe_db_cluster_parameters", "Parameters", DBClusterParameterGroupName="pg")
    names = [p["ParameterName"] for p in everything]
    assert len(names) == len(set(names)) > 120
    by_name = {p["ParameterName"]: p for p in everything}
    for required in (
        "rds.force_ssl",
        "max_connections",
        "log_statement",
        "log_min_duration_statement",
        "max_replication_slots",
        "max_wal_senders",
        "shared_preload_libraries",
    ):
        assert required in by_name
    lr = by_name["rds.logical_replication"]
    assert (lr["ParameterValue"], lr["Source"], lr["DataType"], lr["ApplyType"]) == (
        "1",
        "user",
        "boolean",
        "static",
    )
    assert by_name["max_connections"]["Source"] == "system"
    assert {"Description", "AllowedValues", "IsModifiable", "ApplyMethod"} <= set(by_name["rds.force_ssl"])
    user = rds.describe_db_cluster_parameters(DBClusterParameterGroupName="pg", Source="user")["Parameters"]
    assert [p["ParameterName"] for p in user] == ["rds.logical_replication"]
    with pytest.raises(ClientError) as err:
        rds.describe_db_cluster_parameters(DBClusterParameterGroupName="pg", MaxRecords=10)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_default_parameter_groups_exist(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    params = _all(
        rds,
        "describe_db_cluster_parameters",
        "Parameters",
        DBClusterParameterGroupName="default.aurora-postgresql15",
    )
    assert {p["ParameterName"]: p.get("ParameterValue") for p in params}["rds.force_ssl"] == "0"
    db = _all(rds, "describe_db_parameters", "Parameters", DBParameterGroupName="default.aurora-postgresql16")
    assert "shared_buffers" in {p["ParameterName"] for p in db}
    assert "rds.logical_replication" not in {p["ParameterName"] for p in db}  # cluster-level only
    groups = rds.describe_db_cluster_parameter_groups(
        DBClusterParameterGroupName="default.aurora-postgresql16"
    )
    assert groups["DBClusterParameterGroups"][0]["DBParameterGroupFamily"] == "aurora-postgresql16"
    with pytest.raises(ClientError):
        rds.describe_db_cluster_parameters(DBClusterParameterGroupName="no-such-group")


def test_instance_enrichment_learnt_and_overridden(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    create_cluster(aws_env, "us-east-1", "c1")
    create_instance(aws_env, "us-east-1", "c1-1", "c1", performance_insights=True, monitoring_interval=30)
    create_instance(aws_env, "us-east-1", "c1-2", "c1", performance_insights=False, monitoring_interval=0)
    insts = {i["DBInstanceIdentifier"]: i for i in rds.describe_db_instances()["DBInstances"]}
    assert insts["c1-1"]["PerformanceInsightsEnabled"] is True and insts["c1-1"]["MonitoringInterval"] == 30
    assert insts["c1-2"]["PerformanceInsightsEnabled"] is False and insts["c1-2"]["MonitoringInterval"] == 0
    assert insts["c1-1"]["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert insts["c1-1"]["CertificateDetails"]["ValidTill"].year == 2061
    aws_env.set_instance(
        "us-east-1", "c1-2", parameter_apply_status="pending-reboot", ca_certificate="rds-ca-2019"
    )
    aws_env.set_member_parameter_status("us-east-1", "c1", "pending-reboot", instance_id="c1-2")
    i2 = rds.describe_db_instances(DBInstanceIdentifier="c1-2")["DBInstances"][0]
    assert i2["DBParameterGroups"][0]["ParameterApplyStatus"] == "pending-reboot"
    assert i2["CertificateDetails"]["ValidTill"].year == 2024
    members = rds.describe_db_clusters(DBClusterIdentifier="c1")["DBClusters"][0]["DBClusterMembers"]
    assert {m["DBInstanceIdentifier"]: m["DBClusterParameterGroupStatus"] for m in members} == {
        "c1-1": "in-sync",
        "c1-2": "pending-reboot",
    }


def test_describe_db_clusters_pages_like_aws(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    for n in range(25):
        create_cluster(aws_env, "us-east-1", f"c{n:02d}", storage_encrypted=False)
    first = rds.describe_db_clusters(MaxRecords=20)
    assert len(first["DBClusters"]) == 20 and first["Marker"]
    rest = rds.describe_db_clusters(MaxRecords=20, Marker=first["Marker"])
    assert len(rest["DBClusters"]) == 5 and "Marker" not in rest
    assert "KmsKeyId" not in first["DBClusters"][0]  # moto's "default_kms_key_id" placeholder removed


def test_global_sync_status_and_blue_green_overrides(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    rds.create_global_cluster(GlobalClusterIdentifier="g", Engine="aurora-postgresql", EngineVersion="16.8")
    create_cluster(aws_env, "us-east-1", "p", global_cluster_id="g", manage_master_password=False)
    sec = create_cluster(aws_env, "eu-west-1", "s", global_cluster_id="g", secondary=True)
    members = rds.describe_global_clusters()["GlobalClusters"][0]["GlobalClusterMembers"]
    assert {m["DBClusterArn"]: m.get("SynchronizationStatus") for m in members}[
        sec["DBClusterArn"]
    ] == "connected"
    aws_env.set_sync_status("g", sec["DBClusterArn"], "pending-resync")
    members = rds.describe_global_clusters()["GlobalClusters"][0]["GlobalClusterMembers"]
    assert {m["DBClusterArn"]: m.get("SynchronizationStatus") for m in members}[sec["DBClusterArn"]] == (
        "pending-resync"
    )
    src = rds.describe_db_clusters(DBClusterIdentifier="p")["DBClusters"][0]["DBClusterArn"]
    bgd = rds.create_blue_green_deployment(
        BlueGreenDeploymentName="b", Source=src, TargetEngineVersion="16.9"
    )
    bgd_id = bgd["BlueGreenDeployment"]["BlueGreenDeploymentIdentifier"]
    aws_env.set_blue_green_status(
        bgd_id,
        "SWITCHOVER_FAILED",
        switchover_status="SWITCHOVER_FAILED",
        status_details="Switchover timed out",
    )
    d = rds.describe_blue_green_deployments(BlueGreenDeploymentIdentifier=bgd_id)["BlueGreenDeployments"][0]
    assert d["Status"] == "SWITCHOVER_FAILED" and d["StatusDetails"] == "Switchover timed out"
    assert {s["Status"] for s in d["SwitchoverDetails"]} == {"SWITCHOVER_FAILED"}


def test_faults_access_denied_count_and_other_protocols(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    aws_env.deny("DescribeDBClusters", count=1)
    with pytest.raises(ClientError) as err:
        rds.describe_db_clusters()
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert rds.describe_db_clusters()["DBClusters"] == []  # count=1: only the first call failed
    aws_env.deny("ListKeys")
    with pytest.raises(ClientError) as err:
        aws_env.client("kms").list_keys()  # JSON protocol
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    aws_env.fail_5xx("DescribeAlarms")
    with pytest.raises(ClientError) as err:
        aws_env.client("cloudwatch").describe_alarms()  # RPC v2 CBOR protocol
    assert err.value.response["Error"]["Code"] == "InternalFailure"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_throttling_is_deterministic_and_latency_applies(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")  # max_attempts=1: no retries hide the throttles
    aws_env.set_throttling(0.5, operations=["DescribeDBClusters"])
    codes = []
    for _ in range(10):
        try:
            rds.describe_db_clusters()
            codes.append("ok")
        except ClientError as e:
            codes.append(e.response["Error"]["Code"])
    assert codes.count("Throttling") == 5 and codes.count("ok") == 5
    aws_env.clear_faults()
    aws_env.set_latency(300, "DescribeDBInstances")
    start = time.monotonic()
    rds.describe_db_instances()
    assert time.monotonic() - start >= 0.3  # a floor the sleep guarantees, not a benchmark


def test_control_endpoint_drives_a_running_sim(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    create_cluster(aws_env, "us-east-1", "c1")
    create_instance(aws_env, "us-east-1", "c1-1", "c1", performance_insights=False)
    control = SimControl(aws_env.endpoint_url)  # what a test does while the CLI runs in a subprocess
    control.set_instance("us-east-1", "c1-1", performance_insights=True, performance_insights_kms_key_id="k")
    control.deny("DescribeDBProxies")
    inst = rds.describe_db_instances(DBInstanceIdentifier="c1-1")["DBInstances"][0]
    assert inst["PerformanceInsightsEnabled"] is True and inst["PerformanceInsightsKMSKeyId"] == "k"
    with pytest.raises(ClientError):
        rds.describe_db_proxies()
    state = control.state()
    assert state["instances"]["us-east-1/c1-1"]["PerformanceInsightsEnabled"] is True
    assert state["calls"]["DescribeDBProxies"] == 1


def test_reset_clears_moto_overrides_and_faults(aws_env: SimulatedAws) -> None:
    rds = aws_env.client("rds")
    create_cluster(aws_env, "us-east-1", "c1")
    aws_env.set_pending_maintenance("arn:aws:rds:us-east-1:123456789012:cluster:c1", "system-update")
    aws_env.deny("DescribeCertificates")
    aws_env.reset()
    assert rds.describe_db_clusters()["DBClusters"] == []
    assert rds.describe_pending_maintenance_actions()["PendingMaintenanceActions"] == []
    assert rds.describe_certificates()["Certificates"]


def test_serializer_round_trips_through_botocore() -> None:
    result = {
        "Parameters": [
            {
                "ParameterName": "a",
                "ParameterValue": "<1&>",
                "IsModifiable": True,
                "SupportedEngineModes": ["x"],
            }
        ],
        "Marker": "m",
    }
    body = serialize_rds("DescribeDBClusterParameters", result)
    assert b'xmlns="http://rds.amazonaws.com/doc/2014-10-31/"' in body
    assert b"<DescribeDBClusterParametersResult><Parameters><Parameter>" in body
    assert parse_rds("DescribeDBClusterParameters", body) == result


def test_a_subprocess_sees_the_sim_through_env_only(aws_env: SimulatedAws) -> None:
    import json
    import os
    import subprocess
    import sys

    create_cluster(aws_env, "us-east-1", "c1")
    create_instance(aws_env, "us-east-1", "c1-1", "c1", performance_insights=False)
    SimControl(aws_env.endpoint_url).set_instance("us-east-1", "c1-1", monitoring_interval=15)
    code = (
        "import boto3, json; i = boto3.client('rds').describe_db_instances()['DBInstances'][0];"
        "print(json.dumps([i['DBInstanceIdentifier'], i['MonitoringInterval']]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | aws_env.env()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == ["c1-1", 15]
