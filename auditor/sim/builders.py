"""Small builders that create AWS resources in a SimulatedAws through boto3, the way an operator would.

Defaults describe a careful production cluster; every fault is one keyword away, so a test can build
a good cluster and plant exactly one fault. All calls go through the sim's front endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.sim.server import SimulatedAws

ENGINE = "aurora-postgresql"
STATIC_PASSWORD = "sim-only-not-a-secret-1"  # moto needs one for blue/green sources; never a real secret


def family_of(engine_version: str) -> str:
    return f"aurora-postgresql{engine_version.split('.', 1)[0]}"


def create_kms_key(sim: SimulatedAws, region: str, alias: str | None = None) -> str:
    """A customer-managed KMS key in moto's KMS; returns its ARN."""
    kms = sim.client("kms", region)
    arn = str(kms.create_key(Description=alias or "aurora-audit sim key")["KeyMetadata"]["Arn"])
    if alias:
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=arn)
    return arn


def aws_managed_rds_key(sim: SimulatedAws, region: str) -> str:
    """The region's stand-in for the AWS-managed aws/rds key (a moto key that DescribeKey reports as
    KeyManager=AWS), used when a cluster is encrypted without a customer-managed key."""
    kms = sim.client("kms", region)
    for a in kms.list_aliases()["Aliases"]:
        if a["AliasName"] == "alias/sim-aws-rds" and a.get("TargetKeyId"):
            return str(kms.describe_key(KeyId=a["TargetKeyId"])["KeyMetadata"]["Arn"])
    arn = create_kms_key(sim, region, alias="sim-aws-rds")
    sim.mark_aws_managed_key(arn)
    return arn


def create_parameter_group(
    sim: SimulatedAws,
    region: str,
    name: str,
    *,
    kind: str = "cluster",
    family: str = "aurora-postgresql16",
    parameters: dict[str, str] | None = None,
    description: str | None = None,
) -> str:
    """A custom cluster (kind="cluster") or DB (kind="db") parameter group with user-set values."""
    rds = sim.client("rds", region)
    desc = description or f"{name} ({family})"
    params = [
        {"ParameterName": k, "ParameterValue": str(v), "ApplyMethod": "pending-reboot"}
        for k, v in (parameters or {}).items()
    ]
    if kind == "cluster":
        rds.create_db_cluster_parameter_group(
            DBClusterParameterGroupName=name, DBParameterGroupFamily=family, Description=desc
        )
        for i in range(0, len(params), 20):  # AWS accepts at most 20 parameters per modify call
            rds.modify_db_cluster_parameter_group(
                DBClusterParameterGroupName=name, Parameters=params[i : i + 20]
            )
    else:
        rds.create_db_parameter_group(
            DBParameterGroupName=name, DBParameterGroupFamily=family, Description=desc
        )
        for i in range(0, len(params), 20):
            rds.modify_db_parameter_group(DBParameterGroupName=name, Parameters=params[i : i + 20])
    return name


def create_global_cluster(
    sim: SimulatedAws, global_id: str, *, engine_version: str, storage_encrypted: bool = True
) -> dict[str, Any]:
    """The global cluster itself. Moto quirk (TESTING.md): create it first, then its members with
    GlobalClusterIdentifier; moto keeps global clusters in its us-east-1 backend."""
    rds = sim.client("rds", "us-east-1")
    return dict(
        rds.create_global_cluster(
            GlobalClusterIdentifier=global_id,
            Engine=ENGINE,
            EngineVersion=engine_version,
            StorageEncrypted=storage_encrypted,
            DeletionProtection=True,
        )["GlobalCluster"]
    )


def create_cluster(
    sim: SimulatedAws,
    region: str,
    cluster_id: str,
    *,
    engine_version: str = "16.8",
    cluster_parameter_group: str | None = None,
    deletion_protection: bool = True,
    backup_retention: int = 14,
    storage_encrypted: bool = True,
    kms_key_id: str | None = None,
    iam_auth: bool = True,
    log_exports: Sequence[str] = ("postgresql",),
    copy_tags: bool = True,
    manage_master_password: bool = True,
    global_cluster_id: str | None = None,
    secondary: bool = False,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An Aurora PostgreSQL cluster. `secondary=True` makes a Global Database secondary (no master user).

    With `manage_master_password=False` the cluster gets a static master password. Moto ignores a password
    given together with GlobalClusterIdentifier, so a global primary gets it through ModifyDBCluster after.
    """
    rds = sim.client("rds", region)
    kwargs: dict[str, Any] = {
        "DBClusterIdentifier": cluster_id,
        "Engine": ENGINE,
        "EngineVersion": engine_version,
        "DeletionProtection": deletion_protection,
        "BackupRetentionPeriod": backup_retention,
        "StorageEncrypted": storage_encrypted,
        "EnableIAMDatabaseAuthentication": iam_auth,
        "EnableCloudwatchLogsExports": list(log_exports),
        "CopyTagsToSnapshot": copy_tags,
        "Port": 5432,
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }
    if cluster_parameter_group:
        kwargs["DBClusterParameterGroupName"] = cluster_parameter_group
    if storage_encrypted:
        kwargs["KmsKeyId"] = kms_key_id or aws_managed_rds_key(sim, region)
    if global_cluster_id:
        kwargs["GlobalClusterIdentifier"] = global_cluster_id
    if not secondary:
        kwargs["MasterUsername"] = "app_admin"
        kwargs["DatabaseName"] = "app"
        if manage_master_password:
            kwargs["ManageMasterUserPassword"] = True
        else:
            kwargs["MasterUserPassword"] = STATIC_PASSWORD
    cluster = dict(rds.create_db_cluster(**kwargs)["DBCluster"])
    if global_cluster_id and not secondary and not manage_master_password:
        rds.modify_db_cluster(
            DBClusterIdentifier=cluster_id, MasterUserPassword=STATIC_PASSWORD, ApplyImmediately=True
        )
    return cluster


def create_instance(
    sim: SimulatedAws,
    region: str,
    instance_id: str,
    cluster_id: str,
    *,
    instance_class: str = "db.r6g.xlarge",
    availability_zone: str | None = None,
    promotion_tier: int = 1,
    db_parameter_group: str | None = None,
    performance_insights: bool = True,
    performance_insights_kms_key_id: str | None = None,
    monitoring_interval: int = 60,
    ca_certificate: str | None = None,
) -> dict[str, Any]:
    """An instance in a cluster (the first one created becomes the writer, as in Aurora)."""
    rds = sim.client("rds", region)
    kwargs: dict[str, Any] = {
        "DBInstanceIdentifier": instance_id,
        "DBClusterIdentifier": cluster_id,
        "Engine": ENGINE,
        "DBInstanceClass": instance_class,
        "PromotionTier": promotion_tier,
        "EnablePerformanceInsights": performance_insights,
        "MonitoringInterval": monitoring_interval,
        "PubliclyAccessible": False,
        "AutoMinorVersionUpgrade": True,
    }
    if monitoring_interval:
        kwargs["MonitoringRoleArn"] = f"arn:aws:iam::{sim.account_id}:role/rds-monitoring-role"
    if availability_zone:
        kwargs["AvailabilityZone"] = availability_zone
    if db_parameter_group:
        kwargs["DBParameterGroupName"] = db_parameter_group
    if performance_insights and performance_insights_kms_key_id:
        kwargs["PerformanceInsightsKMSKeyId"] = performance_insights_kms_key_id
    if ca_certificate:
        kwargs["CACertificateIdentifier"] = ca_certificate
    return dict(rds.create_db_instance(**kwargs)["DBInstance"])


def create_instances(
    sim: SimulatedAws,
    region: str,
    cluster_id: str,
    layout: Iterable[tuple[str, str, int]],
    **common: Any,
) -> list[str]:
    """Several instances: layout = [(instance_class, availability_zone, promotion_tier), ...], writer first.
    Instances are named <cluster>-1, <cluster>-2, ..."""
    ids = []
    for n, (cls, az, tier) in enumerate(layout, start=1):
        iid = f"{cluster_id}-{n}"
        create_instance(
            sim,
            region,
            iid,
            cluster_id,
            instance_class=cls,
            availability_zone=az,
            promotion_tier=tier,
            **common,
        )
        ids.append(iid)
    return ids


def default_subnets(sim: SimulatedAws, region: str) -> list[str]:
    """Subnet ids of the region's default VPC (moto's EC2 creates one subnet per AZ)."""
    ec2 = sim.client("ec2", region)
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    return [str(s["SubnetId"]) for s in subnets][:3]


def create_proxy(
    sim: SimulatedAws,
    region: str,
    name: str,
    cluster_id: str,
    *,
    require_tls: bool = True,
    iam_auth: str = "REQUIRED",
) -> str:
    """An RDS Proxy for PostgreSQL fronting a cluster (credentials in a Secrets Manager secret)."""
    secret_arn = str(
        sim.client("secretsmanager", region).create_secret(
            Name=f"{name}/proxy-user", SecretString=json.dumps({"username": "proxy_user", "password": "x"})
        )["ARN"]
    )
    rds = sim.client("rds", region)
    rds.create_db_proxy(
        DBProxyName=name,
        EngineFamily="POSTGRESQL",
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": secret_arn, "IAMAuth": iam_auth}],
        RoleArn=f"arn:aws:iam::{sim.account_id}:role/{name}-secrets",
        VpcSubnetIds=default_subnets(sim, region),
        RequireTLS=require_tls,
        IdleClientTimeout=1800,
    )
    rds.register_db_proxy_targets(DBProxyName=name, DBClusterIdentifiers=[cluster_id])
    return name


def register_read_replica_scaling(
    sim: SimulatedAws, region: str, cluster_id: str, *, min_capacity: int = 2, max_capacity: int = 8
) -> None:
    """App Auto Scaling of rds:cluster:ReadReplicaCount with a target-tracking policy on reader CPU."""
    aas = sim.client("application-autoscaling", region)
    resource_id = f"cluster:{cluster_id}"
    aas.register_scalable_target(
        ServiceNamespace="rds",
        ResourceId=resource_id,
        ScalableDimension="rds:cluster:ReadReplicaCount",
        MinCapacity=min_capacity,
        MaxCapacity=max_capacity,
    )
    aas.put_scaling_policy(
        PolicyName=f"{cluster_id}-reader-cpu",
        ServiceNamespace="rds",
        ResourceId=resource_id,
        ScalableDimension="rds:cluster:ReadReplicaCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 60.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "RDSReaderAverageCPUUtilization"},
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 300,
        },
    )


ALARM_DEFAULTS: dict[str, tuple[float, str, str]] = {
    # metric: (threshold, comparison, statistic) — values from the production runbook
    "AuroraReplicaLag": (100.0, "GreaterThanThreshold", "Maximum"),
    "CPUUtilization": (80.0, "GreaterThanThreshold", "Average"),
    "DatabaseConnections": (4000.0, "GreaterThanThreshold", "Maximum"),
    "ReplicationSlotDiskUsage": (10 * 1024**3, "GreaterThanThreshold", "Maximum"),
}


def create_alarms(
    sim: SimulatedAws, region: str, cluster_id: str, metrics: Iterable[str] = tuple(ALARM_DEFAULTS)
) -> list[str]:
    cw = sim.client("cloudwatch", region)
    names = []
    for metric in metrics:
        threshold, comparison, statistic = ALARM_DEFAULTS.get(
            metric, (1.0, "GreaterThanThreshold", "Maximum")
        )
        name = f"{cluster_id}-{metric}"
        cw.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/RDS",
            MetricName=metric,
            Dimensions=[{"Name": "DBClusterIdentifier", "Value": cluster_id}],
            Statistic=statistic,
            Period=60,
            EvaluationPeriods=5,
            Threshold=threshold,
            ComparisonOperator=comparison,
            AlarmActions=[f"arn:aws:sns:{region}:{sim.account_id}:dba-pager"],
            ActionsEnabled=True,
        )
        names.append(name)
    return names


def put_metric_series(
    sim: SimulatedAws,
    region: str,
    metric: str,
    dimensions: dict[str, str],
    values: Sequence[float],
    *,
    unit: str = "Milliseconds",
    minutes_apart: int = 1,
) -> None:
    """Datapoints ending now, one every `minutes_apart` minutes (newest last)."""
    cw = sim.client("cloudwatch", region)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            "Timestamp": now - timedelta(minutes=minutes_apart * (len(values) - 1 - i)),
            "Value": float(v),
            "Unit": unit,
        }
        for i, v in enumerate(values)
    ]
    for i in range(0, len(data), 20):
        cw.put_metric_data(Namespace="AWS/RDS", MetricData=data[i : i + 20])


def create_blue_green(
    sim: SimulatedAws,
    region: str,
    name: str,
    source_cluster_arn: str,
    *,
    target_engine_version: str,
    target_cluster_parameter_group: str | None = None,
    target_db_parameter_group: str | None = None,
) -> dict[str, Any]:
    """A blue/green deployment. Moto refuses a source whose master password Secrets Manager manages
    (AttributeError -> HTTP 500): create the source with manage_master_password=False."""
    rds = sim.client("rds", region)
    kwargs: dict[str, Any] = {
        "BlueGreenDeploymentName": name,
        "Source": source_cluster_arn,
        "TargetEngineVersion": target_engine_version,
        "Tags": [{"Key": "aurora-audit:target-engine-version", "Value": target_engine_version}],
    }
    if target_cluster_parameter_group:
        kwargs["TargetDBClusterParameterGroupName"] = target_cluster_parameter_group
    if target_db_parameter_group:
        kwargs["TargetDBParameterGroupName"] = target_db_parameter_group
    bgd = dict(rds.create_blue_green_deployment(**kwargs)["BlueGreenDeployment"])
    _green_inherits_blue(sim, region, source_cluster_arn, str(bgd["Target"]))
    return bgd


# What AWS copies from blue to green (green is a clone of blue's storage and configuration: Aurora User
# Guide, "Overview of Amazon Aurora blue/green deployments"); moto's green leaves these at their defaults.
_INHERITED = (
    "IAMDatabaseAuthenticationEnabled",
    "DeletionProtection",
    "BackupRetentionPeriod",
    "CopyTagsToSnapshot",
    "EnabledCloudwatchLogsExports",
    "StorageEncrypted",
    "KmsKeyId",
    "MasterUserSecret",
)


def _green_inherits_blue(sim: SimulatedAws, region: str, blue_arn: str, green_arn: str) -> None:
    rds = sim.client("rds", region)
    blue = rds.describe_db_clusters(DBClusterIdentifier=blue_arn.rsplit(":", 1)[-1])["DBClusters"][0]
    green_id = green_arn.rsplit(":", 1)[-1]
    fields = {k: blue[k] for k in _INHERITED if k in blue}
    if fields:
        sim.set_cluster(region, green_id, fields=fields)
