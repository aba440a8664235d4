"""Read-only by construction: the guard, the shipped least-privilege policy, the read-only database session.

- Every operation of every service aurora-audit uses that is not in the allow-list is refused by an
  AwsContext client BEFORE sending: the simulated AWS never sees it and its state does not change.
- The policy shipped in the package (auditor/policy/aurora-audit-readonly.json) is exactly what the
  generator makes from the allow-list, holds only Describe*/List*/Get*, and is the one the README shows.
  (test_aws_faults.py proves every call of check + gate + fleet is in it.)
- The PostgreSQL session the CLI opens refuses writes even when the --pg-dsn asks for read-write;
  tests/collect_pg/test_collect.py::test_session_is_read_only_with_timeouts proves the same at the
  collector level.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from botocore import xform_name

from auditor.collect import postgres as pg_collect
from auditor.collect.aws import READ_ONLY_OPERATIONS, AwsContext, AwsOptions, ReadOnlyViolation, iam_actions
from auditor.collect.iam import NOT_IN_POLICY, POLICY_PATH, READ_PREFIXES, policy_actions, policy_json
from auditor.sim import SimulatedAws
from auditor.sim.builders import create_cluster, create_parameter_group
from tests.trust import stats
from tests.trust.conftest import REPO, invoke_main

REGION = "us-east-1"


# ---------------------------------------------------------------- the guard, against the sim


def _moto_state(sim: SimulatedAws) -> dict[str, Any]:
    rds = sim.client("rds", REGION)
    c = rds.describe_db_clusters(DBClusterIdentifier="ro-app")["DBClusters"][0]
    params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName="ro-app-cpg", Source="user")
    return {
        "deletion_protection": c["DeletionProtection"],
        "retention": c["BackupRetentionPeriod"],
        "params": {p["ParameterName"]: p.get("ParameterValue") for p in params["Parameters"]},
        "alarms": len(sim.client("cloudwatch", REGION).describe_alarms()["MetricAlarms"]),
    }


@pytest.mark.moto_server
def test_writes_are_refused_before_the_sim_sees_them(aws_env: SimulatedAws) -> None:
    cpg = create_parameter_group(
        aws_env,
        REGION,
        "ro-app-cpg",
        kind="cluster",
        family="aurora-postgresql16",
        parameters={"rds.force_ssl": "1"},
    )
    create_cluster(aws_env, REGION, "ro-app", cluster_parameter_group=cpg)
    before_state = _moto_state(aws_env)
    ctx = AwsContext(AwsOptions(region=REGION, endpoint_url=aws_env.endpoint_url))
    rds = ctx.client("rds", REGION)
    seen_before = aws_env.calls()
    attempts = [
        lambda: rds.delete_db_cluster(DBClusterIdentifier="ro-app", SkipFinalSnapshot=True),
        lambda: rds.modify_db_cluster_parameter_group(
            DBClusterParameterGroupName="ro-app-cpg",
            Parameters=[
                {"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "immediate"}
            ],
        ),
        lambda: rds.modify_db_cluster(DBClusterIdentifier="ro-app", DeletionProtection=False),
        lambda: rds.failover_db_cluster(DBClusterIdentifier="ro-app"),
        lambda: rds.switchover_blue_green_deployment(BlueGreenDeploymentIdentifier="bgd-x"),
        lambda: ctx.client("cloudwatch", REGION).delete_alarms(AlarmNames=["x"]),
        lambda: ctx.client("secretsmanager", REGION).put_secret_value(SecretId="x", SecretString="y"),
    ]
    for attempt in attempts:
        with pytest.raises(ReadOnlyViolation, match="before sending"):
            attempt()
    assert aws_env.calls() == seen_before  # the sim received nothing at all
    assert _moto_state(aws_env) == before_state
    assert ctx.call_log.total == 0
    stats.fault(
        "write operation through an AwsContext client (named)", "refused before sending", len(attempts)
    )


@pytest.mark.moto_server
def test_every_operation_outside_the_allow_list_is_refused_unsent(aws_env: SimulatedAws) -> None:
    ctx = AwsContext(AwsOptions(region=REGION, endpoint_url=aws_env.endpoint_url))
    seen_before = aws_env.calls()
    refused = 0
    for service, allowed in READ_ONLY_OPERATIONS.items():
        client = ctx.client(service, REGION)
        for op in client.meta.service_model.operation_names:
            if op in allowed:
                continue
            with pytest.raises(ReadOnlyViolation):
                getattr(client, xform_name(op))()
            refused += 1
    assert aws_env.calls() == seen_before
    assert refused > 300  # rds alone has well over 100 operations
    stats.fault(
        "every non-allow-listed operation of rds/sts/kms/secretsmanager/cloudwatch/"
        "application-autoscaling/ec2",
        "refused before sending",
        refused,
    )


# ---------------------------------------------------------------- the shipped policy


def test_shipped_policy_is_what_the_generator_makes() -> None:
    assert POLICY_PATH.read_text(encoding="utf-8") == policy_json(), (
        "regenerate: python -m auditor.collect.iam --write"
    )
    assert POLICY_PATH.is_relative_to(Path(pg_collect.__file__).resolve().parents[1])  # inside the package


def test_policy_holds_only_reads_and_all_of_the_allow_list() -> None:
    doc = json.loads(POLICY_PATH.read_text())
    actions = policy_actions(doc)
    assert actions == set(iam_actions()) - NOT_IN_POLICY
    assert all(a.split(":", 1)[1].startswith(READ_PREFIXES) for a in actions), sorted(actions)
    assert not [a for a in actions if "*" in a]  # no wildcards: each action named
    assert all(st["Effect"] == "Allow" for st in doc["Statement"])
    secret = [st for st in doc["Statement"] if "secretsmanager:GetSecretValue" in st["Action"]]
    assert secret and secret[0]["Resource"] == ["arn:aws:secretsmanager:*:*:secret:rds!cluster-*"]
    # every action names a real operation of its service (botocore's API model)
    session = boto3.Session(region_name=REGION)
    prefix_to_service = {"application-autoscaling": "application-autoscaling"}
    for a in actions:
        prefix, op = a.split(":", 1)
        assert op in session.client(prefix_to_service.get(prefix, prefix)).meta.service_model.operation_names


def test_readme_shows_the_shipped_policy() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Security and permissions", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block, "README: the policy JSON block is missing from 'Security and permissions'"
    assert json.loads(block.group(1)) == json.loads(POLICY_PATH.read_text())


# ---------------------------------------------------------------- the database session


@pytest.mark.postgres
@pytest.mark.moto_server
def test_cli_database_session_refuses_writes(
    aws_env: SimulatedAws,
    pg,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    create_cluster(aws_env, REGION, "ro-app", manage_master_password=False)
    real_connect = psycopg.connect
    probes: list[tuple[str, str]] = []

    def connect(*args: Any, **kwargs: Any) -> psycopg.Connection:
        conn = real_connect(*args, **kwargs)
        if not probes:  # probe the session the CLI opened, then hand it to the collector
            probes.append(("read_only", conn.execute("SHOW default_transaction_read_only").fetchone()[0]))  # type: ignore[index]
            for write in ("CREATE TABLE must_not_exist (id int)", "CREATE SCHEMA must_not_exist"):
                try:
                    conn.execute(write)
                    probes.append((write, "WROTE"))
                except psycopg.errors.ReadOnlySqlTransaction:
                    probes.append((write, "refused"))
        return conn

    monkeypatch.setattr(pg_collect.psycopg, "connect", connect)
    # The DSN asks for a read-write session; the collector's own -c comes last and wins.
    dsn = pg.dsn(options="-c%20default_transaction_read_only%3Doff")
    r = invoke_main(
        [
            "check",
            "ro-app",
            "--region",
            REGION,
            "--pg-dsn",
            f"ro-app={dsn}",
            "--format",
            "json",
            "--out",
            str(tmp_path),
        ]
    )
    assert r.code in (0, 1, 2) and "Traceback" not in r.stderr
    assert probes == [
        ("read_only", "on"),
        ("CREATE TABLE must_not_exist (id int)", "refused"),
        ("CREATE SCHEMA must_not_exist", "refused"),
    ]
    assert pg.execute("SELECT to_regclass('public.must_not_exist') IS NULL")[0][0] is True
    report = json.loads((tmp_path / "report.json").read_text())
    assert any(f["rule_id"] == "RS01" and f["status"] == "pass" for f in report["findings"])  # it did read
    stats.fault("write attempted on the CLI's PostgreSQL session (DSN asks read-write)", "refused", 2)


# Functions with side effects that a read-only transaction does NOT stop (PostgreSQL docs, "SET TRANSACTION":
# read-only forbids writes to tables and DDL, not e.g. replication slot functions or signalling backends).
SIDE_EFFECTS = re.compile(
    r"\b(pg_create_\w+|pg_drop_\w+|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_switch_wal|"
    r"pg_replication_origin_\w+|pg_advisory\w*|set_config|nextval|setval|lo_\w+|dblink\w*|pg_logical_emit_message|"
    r"pg_promote|pg_rotate_logfile|pg_stat_reset\w*|pg_notify|txid_current|pg_current_xact_id)\s*\(",
    re.I,
)


def test_every_statement_the_collector_sends_is_a_plain_select() -> None:
    from auditor.collect import pg_queries as q

    statements = [
        sql
        for version in (110000, 120000, 130000, 140000, 150000, 160000, 170000)
        for sql in [q.combined_sql(version), *(q.single_sql(s, version) for s in q.SECTIONS)]
    ]
    for sql in statements:
        assert sql.lstrip().upper().startswith("SELECT"), sql[:80]
        assert ";" not in sql, sql[:80]  # one statement each
        assert not SIDE_EFFECTS.search(sql), SIDE_EFFECTS.search(sql)
        assert not re.search(
            r"\b(INSERT|UPDATE|DELETE|MERGE|COPY|CREATE|ALTER|DROP|GRANT|TRUNCATE|LOCK)\b", sql
        )


@pytest.mark.postgres
def test_recommended_monitoring_role_reads_everything_and_cannot_create_slots(pg) -> None:  # noqa: ANN001
    # Read-only transactions do not stop replication-slot functions for a superuser, so SECURITY.md
    # recommends a login in pg_monitor (on Aurora: rds_superuser is not needed) for the audit.
    pg.create_password_role("audit_monitor", "monitor-pw-5c2e")
    pg.execute("GRANT pg_monitor TO audit_monitor")
    cluster_dsn = pg.dsn(user="audit_monitor", password="monitor-pw-5c2e")
    from tests.collect_pg.conftest import make_cluster

    cluster = make_cluster()
    state, errors = pg_collect.collect_database(
        cluster, pg_collect.DbOptions(dsns={cluster.id: cluster_dsn}), None
    )
    assert state.status == "collected" and errors == [], errors
    with (
        psycopg.connect(cluster_dsn, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT pg_create_logical_replication_slot('must_not_exist', 'test_decoding')")
    assert pg.execute("SELECT count(*) FROM pg_replication_slots")[0][0] == 0
