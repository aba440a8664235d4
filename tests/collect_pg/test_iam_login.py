"""Which login the collector uses without --pg-dsn (moto in-process for AWS, the real local server):
an IAM auth token only for --pg-user (AWS accepts one only for a user granted rds_iam, and the master user
is not by default), else the managed master secret; a refused IAM login falls back to the secret.

The local server has no IAM: a trusted role accepts the token like any password (an IAM login that works),
a password role refuses it (an IAM login AWS refuses, e.g. a user without rds_iam)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.api import db_options
from auditor.cli import cli
from auditor.cli_support import run_options
from auditor.collect.postgres import DbOptions, collect_database
from auditor.fleet import _db_options
from auditor.models.snapshot import MasterUserSecret
from tests.collect_pg.conftest import REGION, capture_tokens, endpoint_cluster, master_secret
from tests.plugins.postgres import PASSWORD_ROLE, PASSWORD_ROLE_PASSWORD

pytestmark = pytest.mark.postgres


@pytest.fixture()
def iam_role(pg: Any) -> Iterator[str]:
    """A pg_monitor login the local server trusts (stands in for a user granted rds_iam)."""
    name = f"aurora_audit_{uuid.uuid4().hex[:8]}"
    pg.execute(f"CREATE ROLE {name} LOGIN IN ROLE pg_monitor")
    yield name
    pg.execute(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'",
        f"DROP ROLE IF EXISTS {name}",
    )


def _secret_cluster(pg: Any, aws: Any, username: str, password: str, **kw: Any) -> tuple[Any, str]:
    arn = master_secret(aws, username, password)
    secret = MasterUserSecret(secret_arn=arn)
    cluster = endpoint_cluster(pg, master_username="postgres", iam_auth=True, master_user_secret=secret, **kw)
    return cluster, arn


def _texts(state: Any, errors: list[Any], caplog: Any, capsys: Any) -> list[str]:
    out = capsys.readouterr()
    return [state.model_dump_json(), *(e.model_dump_json() for e in errors), caplog.text, out.out, out.err]


def test_iam_on_without_pg_user_uses_the_master_secret(pg, aws, monkeypatch) -> None:
    tokens = capture_tokens(aws, monkeypatch)
    cluster, arn = _secret_cluster(pg, aws, PASSWORD_ROLE, PASSWORD_ROLE_PASSWORD)
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file), aws)
    assert errors == [] and state.status == "collected", state.reason
    assert tokens == []  # no token for the master user: AWS would refuse it without rds_iam
    assert state.connection == (
        f"postgresql://{PASSWORD_ROLE}@127.0.0.1:{pg.port}/postgres?sslmode=verify-full "
        f"(password: Secrets Manager master secret {arn}; IAM auth is on but no --pg-user was given)"
    )
    assert aws.call_log.count("secretsmanager.GetSecretValue") == 1


def test_pg_user_gets_the_iam_token(pg, aws, monkeypatch, iam_role) -> None:
    tokens = capture_tokens(aws, monkeypatch)
    cluster, _ = _secret_cluster(pg, aws, PASSWORD_ROLE, PASSWORD_ROLE_PASSWORD)
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file, user=iam_role), aws)
    assert errors == [] and state.status == "collected", state.reason
    assert len(tokens) == 1 and f"DBUser={iam_role}" in tokens[0]
    assert state.connection == (
        f"postgresql://{iam_role}@127.0.0.1:{pg.port}/postgres?sslmode=verify-full (password: IAM auth token)"
    )
    assert aws.call_log.count("secretsmanager.GetSecretValue") == 0  # the secret is not read when IAM works


def test_refused_iam_login_falls_back_to_the_master_secret(pg, aws, monkeypatch, caplog, capsys) -> None:
    secret_pw = f"Secr?t#{uuid.uuid4().hex}"
    pg.create_password_role("fallback_admin", secret_pw)
    cluster, arn = _secret_cluster(pg, aws, "fallback_admin", secret_pw)
    tokens = capture_tokens(aws, monkeypatch)
    caplog.set_level(logging.DEBUG)  # after set-up: botocore logs the test's own CreateSecret body
    # PASSWORD_ROLE must give its scram password: the token is refused, like a user without rds_iam.
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file, user=PASSWORD_ROLE), aws)
    assert errors == [] and state.status == "collected", state.reason
    assert len(tokens) == 1 and f"DBUser={PASSWORD_ROLE}" in tokens[0]
    assert state.connection == (
        f"postgresql://fallback_admin@127.0.0.1:{pg.port}/postgres?sslmode=verify-full "
        f"(password: Secrets Manager master secret {arn}; "
        f"the IAM auth token login as {PASSWORD_ROLE} was refused (AuthFailed))"
    )
    assert aws.call_log.count("secretsmanager.GetSecretValue") == 1
    signature = tokens[0].split("X-Amz-Signature=")[1]
    for text in _texts(state, errors, caplog, capsys):
        assert tokens[0] not in text and signature not in text and secret_pw not in text


def test_refused_iam_login_without_a_secret_is_an_auth_error(pg, aws) -> None:
    cluster = endpoint_cluster(pg, master_username="postgres", iam_auth=True)
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file, user=PASSWORD_ROLE), aws)
    assert state.status == "error" and [(e.operation, e.code) for e in errors] == [("Connect", "AuthFailed")]
    assert state.connection and state.connection.startswith(f"postgresql://{PASSWORD_ROLE}@")
    assert "(password: IAM auth token)" in state.connection


def test_fallback_secret_also_refused(pg, aws, caplog, capsys) -> None:
    wrong = f"Wr?ng#{uuid.uuid4().hex}"
    cluster, arn = _secret_cluster(pg, aws, PASSWORD_ROLE, wrong)
    caplog.set_level(logging.DEBUG)  # after set-up (see above)
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file, user=PASSWORD_ROLE), aws)
    assert state.status == "error" and [e.code for e in errors] == ["AuthFailed"]
    assert f"master secret {arn}" in errors[0].message
    assert f"IAM auth token login as {PASSWORD_ROLE} was refused" in errors[0].message
    for text in _texts(state, errors, caplog, capsys):
        assert wrong not in text


def test_fallback_secret_unreadable(pg, aws) -> None:
    arn = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:rds!cluster-missing-AbCdEf"
    cluster = endpoint_cluster(
        pg, master_username="postgres", iam_auth=True, master_user_secret=MasterUserSecret(secret_arn=arn)
    )
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file, user=PASSWORD_ROLE), aws)
    assert [(e.operation, e.code) for e in errors] == [("Connect", "SecretUnavailable")]
    assert "ResourceNotFoundException" in errors[0].message
    assert "was refused (AuthFailed)" in errors[0].message


def test_iam_off_secret_logs_in_as_its_own_user_not_pg_user(pg, aws, monkeypatch, iam_role) -> None:
    tokens = capture_tokens(aws, monkeypatch)
    cluster, arn = _secret_cluster(pg, aws, PASSWORD_ROLE, PASSWORD_ROLE_PASSWORD)
    cluster = cluster.model_copy(update={"iam_auth": False})
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file, user=iam_role), aws)
    assert errors == [] and state.status == "collected", state.reason
    assert tokens == [] and state.connection and state.connection.startswith(f"postgresql://{PASSWORD_ROLE}@")


def test_iam_on_no_secret_no_pg_user_tries_the_master_user(pg, aws, monkeypatch, iam_role) -> None:
    # Nothing to fall back on: the master user's token is the only login left (works if it has rds_iam).
    tokens = capture_tokens(aws, monkeypatch)
    cluster = endpoint_cluster(pg, master_username=iam_role, iam_auth=True)
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file), aws)
    assert errors == [] and state.status == "collected", state.reason
    assert len(tokens) == 1 and f"DBUser={iam_role}" in tokens[0]


def test_pg_user_reaches_db_options_for_check_gate_and_fleet() -> None:
    opts = run_options(pg_user="aurora_audit", pg_dsns=("c2=postgresql://u@h/db",))
    assert opts.pg_user == "aurora_audit"
    assert db_options(opts, "c1").user == "aurora_audit"
    fleet = _db_options(opts)
    assert fleet.user == "aurora_audit" and fleet.dsns == {"c2": "postgresql://u@h/db"}
    assert db_options(run_options(), "c1").user is None
    for command in ("check", "gate", "fleet"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0 and "--pg-user NAME" in result.output, command
