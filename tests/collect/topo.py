"""A fully-featured Aurora PostgreSQL topology in moto, plus answers for what moto 5.2 lacks.

prod-app (us-east-1, the audited cluster): 3 instances in 3 AZs sharing one custom DB parameter group,
custom cluster parameter group, customer-managed KMS key, a Global Database with a secondary in
eu-west-1 (prod-app-eu, 1 instance), a blue/green deployment (green with rds.logical_replication=1),
an RDS Proxy tracking it, replica auto scaling with a target-tracking policy, CloudWatch alarms
(plus alarms on an unrelated cluster that must be left out) and replica-lag metrics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from auditor.collect.aws import AwsContext
from tests.collect.fakes import answer, patch

PRIMARY, SECONDARY = "us-east-1", "eu-west-1"
ACCOUNT = "123456789012"
DEFAULTS = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "aws" / "engine_default_parameters.json").read_text()
)["Parameters"]


@dataclass
class Topology:
    cluster: str = "prod-app"
    secondary: str = "prod-app-eu"
    other: str = "other-app"
    cluster_pg: str = "prod-app-pg16"
    green_pg: str = "prod-app-pg16-green"
    db_pg: str = "prod-app-db-pg16"
    instances: tuple[str, ...] = ("prod-app-1", "prod-app-2", "prod-app-3")
    secondary_instances: tuple[str, ...] = ("prod-app-eu-1",)
    kms_key_arn: str = ""
    bgd_id: str = ""
    bgd_name: str = "prod-app-upgrade"
    green: str = ""
    proxy: str = "prod-app-proxy"
    extra: dict[str, Any] = field(default_factory=dict)


def build(with_bgd: bool = True) -> Topology:
    """Create the topology (inside an active mock_aws)."""
    t = Topology()
    rds = boto3.client("rds", PRIMARY)
    kms = boto3.client("kms", PRIMARY)
    t.kms_key_arn = kms.create_key(Description="prod-app storage")["KeyMetadata"]["Arn"]

    for name in (t.cluster_pg, t.green_pg):
        rds.create_db_cluster_parameter_group(
            DBClusterParameterGroupName=name, DBParameterGroupFamily="aurora-postgresql16", Description=name
        )
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName=t.green_pg,
        Parameters=[
            {
                "ParameterName": "rds.logical_replication",
                "ParameterValue": "1",
                "ApplyMethod": "pending-reboot",
            }
        ],
    )
    rds.create_db_parameter_group(
        DBParameterGroupName=t.db_pg, DBParameterGroupFamily="aurora-postgresql16", Description="instances"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName=t.db_pg,
        Parameters=[
            {
                "ParameterName": "log_min_duration_statement",
                "ParameterValue": "1000",
                "ApplyMethod": "immediate",
            }
        ],
    )
    rds.create_global_cluster(
        GlobalClusterIdentifier="prod-global", Engine="aurora-postgresql", EngineVersion="16.4"
    )
    common: dict[str, Any] = dict(
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        MasterUsername="app_admin",
        MasterUserPassword="not-a-real-password-1",
        DatabaseName="app",
    )
    rds.create_db_cluster(
        DBClusterIdentifier=t.cluster,
        DBClusterParameterGroupName=t.cluster_pg,
        GlobalClusterIdentifier="prod-global",
        StorageEncrypted=True,
        KmsKeyId=t.kms_key_arn,
        DeletionProtection=True,
        BackupRetentionPeriod=14,
        EnableIAMDatabaseAuthentication=True,
        EnableCloudwatchLogsExports=["postgresql"],
        CopyTagsToSnapshot=True,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 16},
        AvailabilityZones=["us-east-1a", "us-east-1b", "us-east-1c"],
        Tags=[{"Key": "team", "Value": "payments"}],
        **common,
    )
    for n, (iid, az) in enumerate(zip(t.instances, ("us-east-1a", "us-east-1b", "us-east-1c"), strict=True)):
        rds.create_db_instance(
            DBInstanceIdentifier=iid,
            DBClusterIdentifier=t.cluster,
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.xlarge",
            AvailabilityZone=az,
            DBParameterGroupName=t.db_pg,
            PromotionTier=min(n, 15),
            Tags=[{"Key": "team", "Value": "payments"}],
        )
    # An unrelated cluster in the same region: its alarms, proxy and parameters stay out of the snapshot.
    rds.create_db_cluster(DBClusterIdentifier=t.other, **common)
    # A second audited cluster whose master password Secrets Manager manages (MasterUserSecret).
    rds.create_db_cluster(
        DBClusterIdentifier="prod-reports",
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        MasterUsername="app_admin",
        ManageMasterUserPassword=True,
        MasterUserSecretKmsKeyId=t.kms_key_arn,
        DBClusterParameterGroupName=t.cluster_pg,
        StorageEncrypted=True,
        KmsKeyId=t.kms_key_arn,
    )
    rds.create_db_instance(
        DBInstanceIdentifier="other-app-1",
        DBClusterIdentifier=t.other,
        Engine="aurora-postgresql",
        DBInstanceClass="db.t4g.medium",
    )

    eu = boto3.client("rds", SECONDARY)
    eu.create_db_cluster_parameter_group(
        DBClusterParameterGroupName=t.cluster_pg,
        DBParameterGroupFamily="aurora-postgresql16",
        Description="eu",
    )
    eu.create_db_cluster(
        DBClusterIdentifier=t.secondary,
        GlobalClusterIdentifier="prod-global",
        DBClusterParameterGroupName=t.cluster_pg,
        Engine="aurora-postgresql",
        EngineVersion="16.4",
    )
    eu.create_db_instance(
        DBInstanceIdentifier=t.secondary_instances[0],
        DBClusterIdentifier=t.secondary,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.xlarge",
    )

    arn = rds.describe_db_clusters(DBClusterIdentifier=t.cluster)["DBClusters"][0]["DBClusterArn"]
    if with_bgd:
        # moto 5.2 keeps no master password for a Global Database member and then fails to copy it to
        # green; give the backend one (in-process only) so the deployment can be created.
        from moto.rds.models import rds_backends

        rds_backends[ACCOUNT][PRIMARY].clusters[t.cluster]._master_user_password = "not-a-real-password-1"
        bgd = rds.create_blue_green_deployment(
            BlueGreenDeploymentName=t.bgd_name,
            Source=arn,
            TargetEngineVersion="16.6",
            TargetDBClusterParameterGroupName=t.green_pg,
            Tags=[{"Key": "aurora-audit:target-engine-version", "Value": "16.6"}],
        )["BlueGreenDeployment"]
        t.bgd_id = bgd["BlueGreenDeploymentIdentifier"]
        t.green = bgd["Target"].split(":")[-1]

    ec2 = boto3.client("ec2", PRIMARY)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"][
            "SubnetId"
        ]
        for n, az in enumerate("ab")
    ]
    sm = boto3.client("secretsmanager", PRIMARY)
    secret = sm.create_secret(Name="prod-app/proxy", SecretString='{"username":"app","password":"x"}')["ARN"]
    for name, target in ((t.proxy, t.cluster), ("other-proxy", t.other)):
        rds.create_db_proxy(
            DBProxyName=name,
            EngineFamily="POSTGRESQL",
            RequireTLS=True,
            IdleClientTimeout=1800,
            Auth=[
                {
                    "AuthScheme": "SECRETS",
                    "SecretArn": secret,
                    "IAMAuth": "REQUIRED",
                    "ClientPasswordAuthType": "POSTGRES_SCRAM_SHA_256",
                }
            ],
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/proxy",
            VpcSubnetIds=subnets,
        )
        rds.modify_db_proxy_target_group(
            DBProxyName=name,
            TargetGroupName="default",
            ConnectionPoolConfig={
                "MaxConnectionsPercent": 90,
                "MaxIdleConnectionsPercent": 10,
                "ConnectionBorrowTimeout": 120,
                "SessionPinningFilters": ["EXCLUDE_VARIABLE_SETS"],
            },
        )
        rds.register_db_proxy_targets(DBProxyName=name, DBClusterIdentifiers=[target])

    aas = boto3.client("application-autoscaling", PRIMARY)
    aas.register_scalable_target(
        ServiceNamespace="rds",
        ResourceId=f"cluster:{t.cluster}",
        ScalableDimension="rds:cluster:ReadReplicaCount",
        MinCapacity=2,
        MaxCapacity=6,
    )
    aas.put_scaling_policy(
        PolicyName="prod-app-cpu",
        ServiceNamespace="rds",
        ResourceId=f"cluster:{t.cluster}",
        ScalableDimension="rds:cluster:ReadReplicaCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 60.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "RDSReaderAverageCPUUtilization"},
        },
    )

    cw = boto3.client("cloudwatch", PRIMARY)
    topic = f"arn:aws:sns:{PRIMARY}:{ACCOUNT}:dba"
    alarms = [
        ("prod-app-replica-lag", "AuroraReplicaLag", "DBClusterIdentifier", t.cluster),
        ("prod-app-1-cpu", "CPUUtilization", "DBInstanceIdentifier", t.instances[0]),
        ("prod-app-connections", "DatabaseConnections", "DBClusterIdentifier", t.cluster),
        ("other-app-cpu", "CPUUtilization", "DBClusterIdentifier", t.other),
    ]
    for name, metric, dim, value in alarms:
        cw.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/RDS",
            MetricName=metric,
            Dimensions=[{"Name": dim, "Value": value}],
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=5,
            Threshold=1000.0,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[topic],
            ActionsEnabled=True,
        )
    cw.put_metric_alarm(  # metric math: the cluster is named inside Metrics[]
        AlarmName="prod-app-slot-lag",
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            {
                "Id": "m1",
                "ReturnData": True,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/RDS",
                        "MetricName": "OldestReplicationSlotLag",
                        "Dimensions": [{"Name": "DBClusterIdentifier", "Value": t.cluster}],
                    },
                    "Period": 300,
                    "Stat": "Maximum",
                },
            }
        ],
    )
    now = datetime.now(UTC)
    lag = {"prod-app-2": [3.0, 48.0, 11.0], "prod-app-3": [2.0, 5.0]}
    for iid, values in lag.items():
        cw.put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": "AuroraReplicaLag",
                    "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": iid}],
                    "Value": v,
                    "Unit": "Milliseconds",
                    "Timestamp": now - timedelta(minutes=3 + 5 * n),
                }
                for n, v in enumerate(values)
            ],
        )
    boto3.client("cloudwatch", SECONDARY).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "AuroraGlobalDBReplicationLag",
                "Dimensions": [{"Name": "DBClusterIdentifier", "Value": t.secondary}],
                "Value": v,
                "Unit": "Milliseconds",
                "Timestamp": now - timedelta(minutes=2 + 7 * n),
            }
            for n, v in enumerate([120.0, 850.0])
        ],
    )
    t.extra["cluster_arn"] = arn
    return t


# ---------------------------------------------------------------- answers for what moto lacks


def parameter_pages(user: list[dict[str, Any]]):  # noqa: ANN201
    """A DescribeDB(Cluster)Parameters responder: engine defaults merged with moto's user values, paged
    at MaxRecords with an opaque Marker, as RDS does."""

    def respond(params: dict[str, Any]) -> dict[str, Any]:
        merged = {p["ParameterName"]: dict(p) for p in DEFAULTS}
        for u in user:
            base = merged.get(
                u["ParameterName"], {"DataType": "string", "ApplyType": "dynamic", "IsModifiable": True}
            )
            merged[u["ParameterName"]] = {**base, **u, "Source": "user"}
        rows = sorted(merged.values(), key=lambda p: p["ParameterName"])
        size = int(params.get("MaxRecords", 100))
        start = int(params.get("Marker", "0") or 0)
        page = {"Parameters": rows[start : start + size]}
        if start + size < len(rows):
            page["Marker"] = str(start + size)
        return page

    return respond


def install_gaps(
    ctx: AwsContext,
    t: Topology,
    *,
    pending_reboot: str | None = "prod-app-3",
    certificate_details: bool = True,
) -> dict[str, Any]:
    """Answer, on ctx's clients, the RDS operations and fields moto 5.2 lacks (shapes: RDS API Reference)."""
    seen: dict[str, Any] = {}
    now = datetime.now(UTC).replace(microsecond=0)
    for region in (PRIMARY, SECONDARY):
        rds = ctx.client("rds", region)
        moto_rds = boto3.client("rds", region)  # unhooked, to read moto's user-set parameter values
        seen[f"{region}.DescribeDBEngineVersions"] = answer(
            rds,
            "DescribeDBEngineVersions",
            lambda p: {
                "DBEngineVersions": [
                    {
                        "Engine": p["Engine"],
                        "EngineVersion": p["EngineVersion"],
                        "MajorEngineVersion": "16",
                        "DBParameterGroupFamily": "aurora-postgresql16",
                        "DBEngineDescription": "Aurora (PostgreSQL)",
                        "DBEngineVersionDescription": "Aurora PostgreSQL (Compatible with PostgreSQL "
                        + p["EngineVersion"]
                        + ")",
                        "Status": "available",
                        "SupportsGlobalDatabases": True,
                        "SupportsReadReplica": True,
                    }
                ]
            },
        )
        seen[f"{region}.DescribeDBMajorEngineVersions"] = answer(
            rds,
            "DescribeDBMajorEngineVersions",
            lambda p: {
                "DBMajorEngineVersions": [
                    {
                        "Engine": p["Engine"],
                        "MajorEngineVersion": p["MajorEngineVersion"],
                        "SupportedEngineLifecycles": [
                            {
                                "LifecycleSupportName": "open-source-rds-standard-support",
                                "LifecycleSupportStartDate": datetime(2024, 1, 31, tzinfo=UTC),
                                "LifecycleSupportEndDate": datetime(2029, 2, 28, tzinfo=UTC),
                            },
                            {
                                "LifecycleSupportName": "open-source-rds-extended-support",
                                "LifecycleSupportStartDate": datetime(2029, 3, 1, tzinfo=UTC),
                                "LifecycleSupportEndDate": datetime(2032, 2, 29, tzinfo=UTC),
                            },
                        ],
                    }
                ]
            },
        )
        cluster_arn = (
            f"arn:aws:rds:{region}:{ACCOUNT}:cluster:{t.cluster if region == PRIMARY else t.secondary}"
        )
        seen[f"{region}.DescribePendingMaintenanceActions"] = answer(
            rds,
            "DescribePendingMaintenanceActions",
            {
                "PendingMaintenanceActions": [
                    {
                        "ResourceIdentifier": cluster_arn,
                        "PendingMaintenanceActionDetails": [
                            {
                                "Action": "system-update",
                                "AutoAppliedAfterDate": now + timedelta(days=20),
                                "ForcedApplyDate": now + timedelta(days=25),
                                "OptInStatus": "next-maintenance",
                                "CurrentApplyDate": now + timedelta(days=3),
                                "Description": "Aurora PostgreSQL 16.4.2 patch",
                            }
                        ],
                    },
                    {
                        "ResourceIdentifier": f"arn:aws:rds:{region}:{ACCOUNT}:cluster:{t.other}",
                        "PendingMaintenanceActionDetails": [
                            {"Action": "db-upgrade", "Description": "not ours"}
                        ],
                    },
                ]
            },
        )
        seen[f"{region}.DescribeCertificates"] = answer(
            rds,
            "DescribeCertificates",
            {
                "Certificates": [
                    {
                        "CertificateIdentifier": "rds-ca-default",
                        "CertificateType": "CA",
                        "Thumbprint": "abc123",
                        "ValidFrom": datetime(2021, 5, 25, tzinfo=UTC),
                        "ValidTill": datetime(2061, 5, 25, tzinfo=UTC),
                        "CertificateArn": f"arn:aws:rds:{region}::cert:rds-ca-default",
                        "CustomerOverride": False,
                    }
                ]
            },
        )
        for op, arg, method in (
            ("DescribeDBClusterParameters", "DBClusterParameterGroupName", "describe_db_cluster_parameters"),
            ("DescribeDBParameters", "DBParameterGroupName", "describe_db_parameters"),
        ):

            def responder(
                p: dict[str, Any], arg: str = arg, method: str = method, moto_rds: Any = moto_rds
            ) -> dict[str, Any]:
                user = getattr(moto_rds, method)(**{arg: p[arg]})["Parameters"]
                return parameter_pages(user)(p)

            seen[f"{region}.{op}"] = answer(rds, op, responder)

        def add_instance_fields(parsed: dict[str, Any]) -> None:
            for inst in parsed.get("DBInstances", []):
                inst.update(
                    PerformanceInsightsEnabled=True,
                    PerformanceInsightsKMSKeyId=t.kms_key_arn,
                    PerformanceInsightsRetentionPeriod=7,
                    MonitoringInterval=60,
                    PubliclyAccessible=False,
                )
                if certificate_details:
                    inst["CertificateDetails"] = {
                        "CAIdentifier": inst.get("CACertificateIdentifier", "rds-ca-default"),
                        "ValidTill": datetime(2061, 5, 25, tzinfo=UTC),
                    }
                if inst["DBInstanceIdentifier"] == pending_reboot:
                    for g in inst.get("DBParameterGroups", []):
                        g["ParameterApplyStatus"] = "pending-reboot"

        def add_global_fields(parsed: dict[str, Any]) -> None:
            for g in parsed.get("GlobalClusters", []):
                for m in g.get("GlobalClusterMembers", []):
                    if not m.get("IsWriter"):
                        m.setdefault("SynchronizationStatus", "connected")
                    m.setdefault("GlobalWriteForwardingStatus", "disabled")

        patch(rds, "DescribeDBInstances", add_instance_fields)
        patch(rds, "DescribeGlobalClusters", add_global_fields)
    return seen
