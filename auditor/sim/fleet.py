"""The demo fleet (modelled on the production topology this product was born from) and a scale fleet.

`build_demo_fleet` plants the incident: a blue/green deployment of `prod-app` whose green cluster
parameter group has rds.logical_replication=1 (an old CDC experiment left on), plus clusters with the
faults the rule catalogue is about. `build_production_cluster` builds one careful cluster for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from auditor.sim.builders import (
    create_alarms,
    create_blue_green,
    create_cluster,
    create_global_cluster,
    create_instances,
    create_kms_key,
    create_parameter_group,
    create_proxy,
    family_of,
    put_metric_series,
    register_read_replica_scaling,
)
from auditor.sim.server import SimulatedAws

PROD_CLUSTER_PARAMS = {
    "rds.force_ssl": "1",
    "rds.logical_replication": "0",
    "max_connections": "2000",
    "log_statement": "ddl",
    "log_min_duration_statement": "1000",
    "shared_preload_libraries": "pg_stat_statements,auto_explain",
    "ssl_min_protocol_version": "TLSv1.2",
}
PROD_DB_PARAMS = {"log_min_duration_statement": "1000", "log_statement": "ddl", "max_connections": "2000"}


@dataclass(frozen=True)
class BuiltCluster:
    region: str
    cluster_id: str
    arn: str
    instances: tuple[str, ...]
    cluster_parameter_group: str | None
    db_parameter_group: str | None
    kms_key_arn: str | None


def build_production_cluster(
    sim: SimulatedAws,
    region: str,
    cluster_id: str,
    *,
    engine_version: str = "16.8",
    readers: int = 2,
    cluster_params: dict[str, str] | None = None,
    db_params: dict[str, str] | None = None,
    manage_master_password: bool = True,
    global_cluster_id: str | None = None,
    secondary: bool = False,
    with_proxy: bool = True,
    with_scaling: bool = True,
    with_alarms: bool = True,
    replica_lag_ms: float | None = 20.0,
) -> BuiltCluster:
    """A cluster that passes the prod baseline: custom groups, CMK encryption, writer + readers over 3 AZs
    (tiers 0/1/1...), PI with the CMK, proxy (TLS + IAM REQUIRED), replica scaling 2-8, the four alarms."""
    family = family_of(engine_version)
    key = create_kms_key(sim, region, alias=f"{cluster_id}-storage")
    cpg = create_parameter_group(
        sim,
        region,
        f"{cluster_id}-cluster-{family}",
        kind="cluster",
        family=family,
        parameters=PROD_CLUSTER_PARAMS | (cluster_params or {}),
    )
    dpg = create_parameter_group(
        sim,
        region,
        f"{cluster_id}-db-{family}",
        kind="db",
        family=family,
        parameters=PROD_DB_PARAMS | (db_params or {}),
    )
    cluster = create_cluster(
        sim,
        region,
        cluster_id,
        engine_version=engine_version,
        cluster_parameter_group=cpg,
        kms_key_id=key,
        manage_master_password=manage_master_password,
        global_cluster_id=global_cluster_id,
        secondary=secondary,
        tags={"env": "prod", "team": "payments-platform"},
    )
    azs = [f"{region}a", f"{region}b", f"{region}c"]
    layout = [("db.r6g.2xlarge", azs[0], 0)] + [
        ("db.r6g.2xlarge", azs[(n + 1) % 3], 1) for n in range(readers)
    ]
    instances = create_instances(
        sim, region, cluster_id, layout, db_parameter_group=dpg, performance_insights_kms_key_id=key
    )
    if with_proxy:
        create_proxy(sim, region, f"{cluster_id}-proxy", cluster_id)
    if with_scaling:
        register_read_replica_scaling(sim, region, cluster_id, min_capacity=2, max_capacity=8)
    if with_alarms:
        create_alarms(sim, region, cluster_id)
    reader_ids = instances if secondary else instances[1:]  # a Global Database secondary has no writer
    if replica_lag_ms is not None and reader_ids:
        series = [replica_lag_ms * (0.6 + 0.4 * ((n * 7) % 10) / 10) for n in range(30)]
        put_metric_series(sim, region, "AuroraReplicaLag", {"DBClusterIdentifier": cluster_id}, series)
        for iid in reader_ids:
            put_metric_series(sim, region, "AuroraReplicaLag", {"DBInstanceIdentifier": iid}, series)
    return BuiltCluster(region, cluster_id, str(cluster["DBClusterArn"]), tuple(instances), cpg, dpg, key)


@dataclass(frozen=True)
class DemoFleet:
    primary_region: str
    secondary_region: str
    prod: BuiltCluster
    secondary: BuiltCluster
    global_cluster_id: str
    blue_green_id: str
    green_cluster_id: str
    green_cluster_parameter_group: str
    proxy: str
    reporting: BuiltCluster
    legacy_billing: BuiltCluster
    planted: dict[str, str] = field(default_factory=dict)  # resource -> the fault planted in it

    @property
    def cluster_ids(self) -> tuple[str, ...]:
        return (self.prod.cluster_id, self.reporting.cluster_id, self.legacy_billing.cluster_id)


def build_demo_fleet(
    sim: SimulatedAws, *, primary: str = "us-east-1", secondary: str = "eu-west-1"
) -> DemoFleet:
    version, target = "16.8", "16.9"
    family = family_of(version)
    create_global_cluster(sim, "prod-app-global", engine_version=version)
    # prod-app: the blue/green source. Moto's CreateBlueGreenDeployment copies the source's static master
    # password and fails on a Secrets-Manager-managed one (TESTING.md; AWS lists managed master passwords
    # among blue/green limitations too), so prod-app keeps a static password: CL05 is skipped while the
    # deployment exists, as AWS allows no managed master password there either.
    prod = build_production_cluster(
        sim,
        primary,
        "prod-app",
        engine_version=version,
        manage_master_password=False,
        global_cluster_id="prod-app-global",
        replica_lag_ms=25.0,
    )
    eu = build_production_cluster(
        sim,
        secondary,
        "prod-app-eu",
        engine_version=version,
        readers=0,
        global_cluster_id="prod-app-global",
        secondary=True,
        with_proxy=False,
        with_scaling=False,
        replica_lag_ms=18.0,
    )
    lag = [180.0 + (n * 37) % 120 for n in range(30)]
    # CloudWatch lists the Global Database metrics in the secondary's region both by DBClusterIdentifier and
    # by DBClusterIdentifier + SourceRegion ("CloudWatch metrics for Aurora"); publish both dimension sets.
    for dims in (
        {"DBClusterIdentifier": "prod-app-eu"},
        {"DBClusterIdentifier": "prod-app-eu", "SourceRegion": primary},
    ):
        put_metric_series(sim, secondary, "AuroraGlobalDBReplicationLag", dims, lag)
        put_metric_series(sim, secondary, "AuroraGlobalDBRPOLag", dims, [v * 1.5 for v in lag])

    # The incident: green's cluster parameter group has logical replication left on.
    green_cpg = create_parameter_group(
        sim,
        primary,
        f"prod-app-cluster-{family}-green",
        kind="cluster",
        family=family,
        parameters={**_prod_cluster_params(), "rds.logical_replication": "1"},
    )
    bgd = create_blue_green(
        sim,
        primary,
        "prod-app-16-9-upgrade",
        prod.arn,
        target_engine_version=target,
        target_cluster_parameter_group=green_cpg,
        target_db_parameter_group=prod.db_parameter_group,
    )
    green_id = str(bgd["Target"]).rsplit(":", 1)[-1]
    # Moto creates green's instances (<blue instance>-green-xxxxxx) itself but without Performance Insights or
    # monitoring; AWS copies them from blue, so the sim says so.
    green = sim.client("rds", primary).describe_db_clusters(DBClusterIdentifier=green_id)["DBClusters"][0]
    for m in green["DBClusterMembers"]:
        sim.set_instance(
            primary,
            m["DBInstanceIdentifier"],
            performance_insights=True,
            performance_insights_kms_key_id=prod.kms_key_arn,
            performance_insights_retention_days=7,
            monitoring_interval=60,
        )
        if not m["IsClusterWriter"]:
            green_lag = [15.0 + (n * 3) % 10 for n in range(30)]
            put_metric_series(
                sim,
                primary,
                "AuroraReplicaLag",
                {"DBInstanceIdentifier": m["DBInstanceIdentifier"]},
                green_lag,
            )
    sim.set_blue_green_status(
        bgd["BlueGreenDeploymentIdentifier"], "AVAILABLE", switchover_status="AVAILABLE"
    )

    reporting = _build_reporting(sim, primary)
    legacy = _build_legacy_billing(sim, primary)
    planted = {
        "prod-app": "static master password (blue/green source: CL05 skipped during the deployment)",
        green_id: "green cluster parameter group rds.logical_replication=1 (BG02)",
        "reporting": "burstable tier-0 reader in the writer's AZ, deletion protection off, 1-day backups, "
        "no PI, no alarms/proxy/scaling, replica lag ~850 ms",
        "legacy-billing": "aurora-postgresql 13.9 (deprecated, past standard support), default parameter "
        "groups (rds.force_ssl 0), unencrypted, no IAM auth/log exports, rds-ca-2019, forced maintenance "
        "in 14 days, reader pending-reboot",
    }
    return DemoFleet(
        primary,
        secondary,
        prod,
        eu,
        "prod-app-global",
        str(bgd["BlueGreenDeploymentIdentifier"]),
        green_id,
        green_cpg,
        "prod-app-proxy",
        reporting,
        legacy,
        planted,
    )


def _prod_cluster_params() -> dict[str, str]:
    return dict(PROD_CLUSTER_PARAMS)


def _build_reporting(sim: SimulatedAws, region: str) -> BuiltCluster:
    family = family_of("15.12")
    cpg = create_parameter_group(
        sim,
        region,
        f"reporting-cluster-{family}",
        kind="cluster",
        family=family,
        parameters={"rds.force_ssl": "1", "log_statement": "none", "max_connections": "400"},
    )
    cluster = create_cluster(
        sim,
        region,
        "reporting",
        engine_version="15.12",
        cluster_parameter_group=cpg,
        deletion_protection=False,
        backup_retention=1,
        kms_key_id=None,
        tags={"env": "prod", "team": "bi"},
    )
    layout = [("db.r6g.large", f"{region}a", 0), ("db.t4g.medium", f"{region}a", 0)]
    ids = create_instances(
        sim, region, "reporting", layout, performance_insights=False, monitoring_interval=0
    )
    # AuroraReplicaLag is published per reader (DBInstanceIdentifier), as AWS does
    put_metric_series(
        sim,
        region,
        "AuroraReplicaLag",
        {"DBInstanceIdentifier": ids[1]},
        [600.0 + (n * 53) % 250 for n in range(30)],
    )
    return BuiltCluster(region, "reporting", str(cluster["DBClusterArn"]), tuple(ids), cpg, None, None)


def _build_legacy_billing(sim: SimulatedAws, region: str) -> BuiltCluster:
    cluster = create_cluster(
        sim,
        region,
        "legacy-billing",
        engine_version="13.9",
        storage_encrypted=False,
        iam_auth=False,
        log_exports=(),
        copy_tags=False,
        manage_master_password=False,
        backup_retention=7,
        tags={"env": "prod", "team": "billing"},
    )
    layout = [("db.r5.xlarge", f"{region}a", 0), ("db.r5.xlarge", f"{region}b", 1)]
    ids = create_instances(
        sim, region, "legacy-billing", layout, performance_insights=False, ca_certificate="rds-ca-2019"
    )
    sim.set_instance(region, ids[1], parameter_apply_status="pending-reboot")
    put_metric_series(
        sim, region, "AuroraReplicaLag", {"DBInstanceIdentifier": ids[1]}, [40.0 + n % 7 for n in range(30)]
    )
    sim.set_member_parameter_status(region, "legacy-billing", "pending-reboot", instance_id=ids[1])
    now = datetime.now(UTC).replace(microsecond=0)
    sim.set_pending_maintenance(
        str(cluster["DBClusterArn"]),
        "db-upgrade",
        description="Upgrade to Aurora PostgreSQL 13.20: 13.9 is deprecated",
        auto_applied_after=now + timedelta(days=7),
        forced_apply_date=now + timedelta(days=14),
    )
    for iid in ids:
        sim.set_pending_maintenance(
            f"arn:aws:rds:{region}:{sim.account_id}:db:{iid}",
            "ca-certificate-rotation",
            description="Rotate the server certificate from rds-ca-2019 to rds-ca-rsa2048-g1",
            forced_apply_date=now + timedelta(days=14),
        )
    return BuiltCluster(
        region,
        "legacy-billing",
        str(cluster["DBClusterArn"]),
        tuple(ids),
        "default.aurora-postgresql13",
        "default.aurora-postgresql13",
        None,
    )


@dataclass(frozen=True)
class ScaleFleet:
    clusters: dict[str, tuple[str, ...]]  # region -> cluster ids
    instances: int
    parameter_groups: int


def build_scale_fleet(
    sim: SimulatedAws,
    clusters: int = 200,
    instances_per_cluster: int = 3,
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1"),
    parameter_groups: int = 20,
) -> ScaleFleet:
    """Many plain clusters for benchmarks: cluster i lives in regions[i % len(regions)] and uses one of
    `parameter_groups` cluster parameter groups (spread over the regions)."""
    groups: dict[str, list[str]] = {r: [] for r in regions}
    for g in range(parameter_groups):
        region = regions[g % len(regions)]
        groups[region].append(
            create_parameter_group(
                sim,
                region,
                f"scale-pg-{g:03d}",
                family="aurora-postgresql16",
                parameters={"rds.force_ssl": "1", "rds.logical_replication": "0", "max_connections": "1000"},
            )
        )
    out: dict[str, list[str]] = {r: [] for r in regions}
    n_inst = 0
    for i in range(clusters):
        region = regions[i % len(regions)]
        cid = f"scale-{i:04d}"
        pgs = groups[region]
        create_cluster(
            sim,
            region,
            cid,
            engine_version="16.8",
            cluster_parameter_group=pgs[len(out[region]) % len(pgs)] if pgs else None,
        )
        layout = [
            ("db.r6g.large", f"{region}{'abc'[k % 3]}", min(k, 1)) for k in range(instances_per_cluster)
        ]
        create_instances(sim, region, cid, layout)
        n_inst += instances_per_cluster
        out[region].append(cid)
    return ScaleFleet({r: tuple(v) for r, v in out.items()}, n_inst, parameter_groups)
