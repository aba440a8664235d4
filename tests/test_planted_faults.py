"""Issue 4's planted-fault matrix, end to end: the simulated AWS holds a careful team's production cluster
(and its Global Database secondary); a real PostgreSQL stands in for its writer. The clean cluster passes the
shipped `prod` baseline with no `fail`; each single planted fault fails exactly the rules meant for it.

Precision and recall over the matrix are printed (run with -s to see them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from auditor.api import RunOptions, run_check
from auditor.models.findings import Status
from auditor.sim import SimulatedAws
from auditor.sim.builders import create_global_cluster, create_instance, create_proxy, put_metric_series
from auditor.sim.fleet import build_production_cluster

PRIMARY, SECONDARY = "us-east-1", "eu-west-1"


@dataclass
class Built:
    sim: SimulatedAws
    prod: object
    secondary: object


def build_careful_team(
    sim: SimulatedAws, *, secondary_version: str = "16.8", with_proxy: bool = True
) -> Built:
    create_global_cluster(sim, "prod-app-global", engine_version="16.8")
    prod = build_production_cluster(
        sim, PRIMARY, "prod-app", global_cluster_id="prod-app-global", with_proxy=with_proxy
    )
    eu = build_production_cluster(
        sim,
        SECONDARY,
        "prod-app-eu",
        engine_version=secondary_version,
        readers=1,
        global_cluster_id="prod-app-global",
        secondary=True,
        with_proxy=False,
        with_scaling=False,
        replica_lag_ms=None,
    )
    lag = [150.0 + (n * 13) % 90 for n in range(30)]
    # As AWS publishes it: under the metric group with SourceRegion (the collector must find it there).
    dims = {"DBClusterIdentifier": "prod-app-eu", "SourceRegion": PRIMARY}
    put_metric_series(sim, SECONDARY, "AuroraGlobalDBReplicationLag", dims, lag)
    put_metric_series(sim, SECONDARY, "AuroraGlobalDBRPOLag", dims, lag)
    return Built(sim, prod, eu)


def _fails(built: Built, pg_dsn: str) -> tuple[set[tuple[str, str]], list]:
    opts = RunOptions(regions=(PRIMARY,), baselines=("prod",), pg_dsns=(f"prod-app={pg_dsn}",))
    result = run_check("prod-app", opts).result
    return {(f.rule_id, f.resource.id) for f in result.findings if f.status is Status.FAIL}, result.findings


# ---- the faults: each plants one thing a reviewer could get wrong


def burstable_tier0_reader(b: Built, pg) -> None:  # noqa: ANN001
    create_instance(
        b.sim,
        PRIMARY,
        "prod-app-t",
        "prod-app",
        instance_class="db.t4g.medium",
        availability_zone=f"{PRIMARY}b",
        promotion_tier=0,
        db_parameter_group=b.prod.db_parameter_group,
        performance_insights_kms_key_id=b.prod.kms_key_arn,
    )


def one_az(b: Built, pg) -> None:  # noqa: ANN001
    for iid in b.prod.instances:
        b.sim.set_instance(PRIMARY, iid, fields={"AvailabilityZone": f"{PRIMARY}a"})


def deletion_protection_off(b: Built, pg) -> None:  # noqa: ANN001
    b.sim.client("rds", PRIMARY).modify_db_cluster(DBClusterIdentifier="prod-app", DeletionProtection=False)


def retention_one_day(b: Built, pg) -> None:  # noqa: ANN001
    b.sim.client("rds", PRIMARY).modify_db_cluster(DBClusterIdentifier="prod-app", BackupRetentionPeriod=1)


def force_ssl_off(b: Built, pg) -> None:  # noqa: ANN001
    b.sim.client("rds", PRIMARY).modify_db_cluster_parameter_group(
        DBClusterParameterGroupName=b.prod.cluster_parameter_group,
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "immediate"}],
    )


def no_alarms(b: Built, pg) -> None:  # noqa: ANN001
    cw = b.sim.client("cloudwatch", PRIMARY)
    names = [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]]
    cw.delete_alarms(AlarmNames=names)


def proxy_without_tls(b: Built, pg) -> None:  # noqa: ANN001
    # moto's ModifyDBProxy does not implement RequireTLS, so the proxy is built without it (with_proxy=False).
    create_proxy(b.sim, PRIMARY, "prod-app-proxy", "prod-app", require_tls=False)


def inactive_slot(b: Built, pg) -> None:  # noqa: ANN001
    pg.execute("SELECT pg_create_logical_replication_slot('debezium_orders', 'test_decoding')")


FAULTS: dict[str, tuple[Callable[[Built, object], None], set[tuple[str, str]], dict]] = {
    # fault: (plant, the failures it must cause, build options)
    "tier-0 burstable reader": (burstable_tier0_reader, {("HA03", "prod-app"), ("HA04", "prod-app-t")}, {}),
    "one AZ": (one_az, {("HA02", "prod-app")}, {}),
    "deletion protection off": (deletion_protection_off, {("CL01", "prod-app")}, {}),
    "retention 1 day": (retention_one_day, {("CL02", "prod-app")}, {}),
    # force_ssl off on the primary also makes the Global Database secondary's group differ from it (GD05).
    "rds.force_ssl 0": (
        force_ssl_off,
        {
            ("PG01", "prod-app-cluster-aurora-postgresql16"),
            ("PG05", "prod-app-cluster-aurora-postgresql16"),
            ("GD05", "prod-app-eu-cluster-aurora-postgresql16"),
        },
        {},
    ),
    "secondary on another engine version": (
        lambda b, pg: None,
        {("GD01", "prod-app-global")},
        {"secondary_version": "16.6"},
    ),
    "no alarms": (no_alarms, {("HA09", "prod-app")}, {}),
    "proxy without TLS": (proxy_without_tls, {("HA07", "prod-app-proxy")}, {"with_proxy": False}),
    "inactive slot on the writer": (
        inactive_slot,
        {("RS01", "debezium_orders"), ("RS04", "debezium_orders")},
        {},
    ),
}

_MATRIX: dict[str, tuple[set, set]] = {}


def test_careful_production_cluster_passes_prod(aws_env: SimulatedAws, pg, pg_dsn: str) -> None:  # noqa: ANN001
    built = build_careful_team(aws_env)
    fails, findings = _fails(built, pg_dsn)
    assert fails == set(), fails
    errors = [(f.rule_id, f.resource.id, f.message) for f in findings if f.status is Status.ERROR]
    assert errors == []
    # every rule family applied, passes included
    assert {f.rule_id[:2] for f in findings} >= {"CL", "HA", "PG", "RS", "GD"}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_single_fault_fails_exactly_its_rules(aws_env: SimulatedAws, pg, pg_dsn: str, fault: str) -> None:  # noqa: ANN001
    plant, expected, build_opts = FAULTS[fault]
    built = build_careful_team(aws_env, **build_opts)
    plant(built, pg)
    fails, _ = _fails(built, pg_dsn)
    _MATRIX[fault] = (expected, fails)
    got = {(r, res) for r, res in fails}
    assert {r for r, _ in got} == {r for r, _ in expected}, f"{fault}: expected {expected}, got {got}"
    assert got == expected


def test_matrix_precision_and_recall() -> None:
    if len(_MATRIX) < len(FAULTS):
        pytest.skip("runs after the matrix (whole module)")
    tp = sum(len(exp & got) for exp, got in _MATRIX.values())
    fp = sum(len(got - exp) for exp, got in _MATRIX.values())
    fn = sum(len(exp - got) for exp, got in _MATRIX.values())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"\nplanted-fault matrix: {len(_MATRIX)} faults, precision {precision:.2f}, recall {recall:.2f}")
    assert precision == 1.0 and recall == 1.0
