"""A blue/green deployment in the simulated AWS, with real PostgreSQL servers standing in for the writers.

`build(sim, ...)` makes blue `prod-app` (Aurora PostgreSQL 16.8, in Global Database `prod-app-global` with a
connected secondary in eu-west-1 whose lag series is inside the prod budget) and a deployment to 16.9.
`incident=True` plants the production incident on green's cluster parameter group
(rds.logical_replication = 1); the slot half of the incident is planted in PostgreSQL by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.sim import SimulatedAws
from auditor.sim.builders import (
    create_blue_green,
    create_global_cluster,
    create_parameter_group,
    put_metric_series,
)
from auditor.sim.fleet import PROD_CLUSTER_PARAMS, build_production_cluster

PRIMARY, SECONDARY = "us-east-1", "eu-west-1"


@dataclass(frozen=True)
class Scenario:
    bgd_id: str
    bgd_name: str
    blue: str
    blue_arn: str
    green: str
    green_cpg: str
    global_id: str
    secondary_arn: str


def build(sim: SimulatedAws, *, incident: bool = False, global_db: bool = True) -> Scenario:
    gid = "prod-app-global" if global_db else None
    if gid:
        create_global_cluster(sim, gid, engine_version="16.8")
    # Moto refuses a blue/green source with a Secrets-Manager-managed password (TESTING.md).
    blue = build_production_cluster(
        sim,
        PRIMARY,
        "prod-app",
        engine_version="16.8",
        manage_master_password=False,
        global_cluster_id=gid,
        with_proxy=False,
    )
    secondary_arn = ""
    if gid:
        eu = build_production_cluster(
            sim,
            SECONDARY,
            "prod-app-eu",
            engine_version="16.8",
            readers=0,
            global_cluster_id=gid,
            secondary=True,
            with_proxy=False,
            with_scaling=False,
            with_alarms=False,
            replica_lag_ms=None,
        )
        secondary_arn = eu.arn
        # CloudWatch publishes Global Database lag by DBClusterIdentifier and by + SourceRegion (as the demo).
        for dims in (
            {"DBClusterIdentifier": "prod-app-eu"},
            {"DBClusterIdentifier": "prod-app-eu", "SourceRegion": PRIMARY},
        ):
            put_metric_series(
                sim, SECONDARY, "AuroraGlobalDBReplicationLag", dims, [120.0, 180.0, 150.0, 140.0]
            )
    params = dict(PROD_CLUSTER_PARAMS)
    if incident:
        params["rds.logical_replication"] = "1"  # the old CDC experiment, left on
    green_cpg = create_parameter_group(
        sim,
        PRIMARY,
        "prod-app-cluster-green",
        kind="cluster",
        family="aurora-postgresql16",
        parameters=params,
    )
    bgd = create_blue_green(
        sim,
        PRIMARY,
        "prod-app-16-9-upgrade",
        blue.arn,
        target_engine_version="16.9",
        target_cluster_parameter_group=green_cpg,
        target_db_parameter_group=blue.db_parameter_group,
    )
    bgd_id = str(bgd["BlueGreenDeploymentIdentifier"])
    green_id = str(bgd["Target"]).rsplit(":", 1)[-1]
    # Moto creates green's instances without Performance Insights or monitoring; AWS copies them from blue.
    green = sim.client("rds", PRIMARY).describe_db_clusters(DBClusterIdentifier=green_id)["DBClusters"][0]
    for m in green["DBClusterMembers"]:
        sim.set_instance(
            PRIMARY,
            m["DBInstanceIdentifier"],
            performance_insights=True,
            performance_insights_kms_key_id=blue.kms_key_arn,
            performance_insights_retention_days=7,
            monitoring_interval=60,
        )
    sim.set_blue_green_status(bgd_id, "AVAILABLE", switchover_status="AVAILABLE")
    return Scenario(
        bgd_id=bgd_id,
        bgd_name="prod-app-16-9-upgrade",
        blue="prod-app",
        blue_arn=blue.arn,
        green=green_id,
        green_cpg=green_cpg,
        global_id=gid or "",
        secondary_arn=secondary_arn,
    )
