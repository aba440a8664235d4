"""Connecting without a DSN (IAM auth token, Secrets Manager master secret; moto in-process for AWS),
and the rule that no secret ever reaches a DatabaseState, a CollectionError, a log line or the terminal."""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import quote

import pytest

from auditor.collect.postgres import DbOptions, collect_database, parse_pg_dsn_options
from auditor.errors import UsageError
from auditor.models.snapshot import MasterUserSecret
from tests.collect_pg.conftest import REGION, capture_tokens, endpoint_cluster, make_cluster, master_secret
from tests.plugins.postgres import PASSWORD_ROLE, PASSWORD_ROLE_PASSWORD

pytestmark = pytest.mark.postgres


def test_master_secret_over_verified_tls(pg, aws) -> None:
    arn = master_secret(aws, PASSWORD_ROLE, PASSWORD_ROLE_PASSWORD)
    cluster = endpoint_cluster(
        pg,
        master_username="ignored_admin",
        iam_auth=False,
        master_user_secret=MasterUserSecret(secret_arn=arn),
    )
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file), aws)
    assert errors == [] and state.status == "collected", state.reason
    assert state.connection == (
        f"postgresql://{PASSWORD_ROLE}@127.0.0.1:{pg.port}/postgres?sslmode=verify-full "
        f"(password: Secrets Manager master secret {arn})"
    )
    assert aws.call_log.count("secretsmanager.GetSecretValue") == 1


def test_master_secret_with_the_wrong_ca_is_a_tls_error(pg, aws) -> None:
    arn = master_secret(aws, PASSWORD_ROLE, PASSWORD_ROLE_PASSWORD)
    cluster = endpoint_cluster(pg, iam_auth=False, master_user_secret=MasterUserSecret(secret_arn=arn))
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.other_ca_file), aws)
    assert state.status == "error" and [(e.operation, e.code) for e in errors] == [("Connect", "TLS")]


def test_unreadable_secret_is_recorded(pg, aws) -> None:
    arn = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:rds!cluster-missing-AbCdEf"
    cluster = endpoint_cluster(pg, iam_auth=False, master_user_secret=MasterUserSecret(secret_arn=arn))
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file), aws)
    assert state.status == "error"
    assert [(e.operation, e.code) for e in errors] == [("Connect", "SecretUnavailable")]
    assert "ResourceNotFoundException" in errors[0].message


def test_iam_token_is_used_as_password_and_never_shown(pg, aws, monkeypatch, caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = capture_tokens(aws, monkeypatch)
    cluster = endpoint_cluster(pg, master_username=PASSWORD_ROLE, iam_auth=True)
    state, errors = collect_database(cluster, DbOptions(sslrootcert=pg.ca_file), aws)
    # The local server does not know IAM: the token is refused like a wrong password.
    assert [(e.operation, e.code) for e in errors] == [("Connect", "AuthFailed")]
    assert state.connection and "(password: IAM auth token)" in state.connection
    assert len(tokens) == 1 and "X-Amz-Signature=" in tokens[0] and tokens[0].startswith("127.0.0.1:")
    signature = tokens[0].split("X-Amz-Signature=")[1]
    out = capsys.readouterr()
    for text in (
        state.model_dump_json(),
        *(e.model_dump_json() for e in errors),
        caplog.text,
        out.out,
        out.err,
    ):
        assert tokens[0] not in text and signature not in text


def test_a_planted_password_appears_nowhere(pg, aws, monkeypatch, caplog, capsys) -> None:
    planted = f"Pl@nted:{uuid.uuid4().hex}/Pw"
    wrong = f"Wr0ng:{uuid.uuid4().hex}"
    pg.create_password_role("planted_role", planted)
    # Set-up (creating the secrets) happens before DEBUG capture starts: botocore logs request bodies.
    arn = master_secret(aws, "planted_role", planted)
    arn2 = master_secret(aws, "planted_role", wrong)
    caplog.set_level(logging.DEBUG)  # from here on every logger, psycopg's and botocore's too
    texts: list[str] = []

    def record(state: Any, errors: list[Any]) -> None:
        texts.append(state.model_dump_json())
        texts.extend(e.model_dump_json() for e in errors)

    def dsn(password: str) -> str:
        return pg.dsn(user="planted_role", password=quote(password, safe=""))

    # 1. the right password in a DSN: it must work (so the password really was used) ...
    cluster = make_cluster()
    state, errors = collect_database(cluster, DbOptions(dsns={cluster.id: dsn(planted)}), None)
    assert state.status == "collected" and errors == []
    record(state, errors)
    # 2. ... a wrong one fails, in the DSN's query string this time
    bad = f"postgresql://planted_role@127.0.0.1:{pg.port}/postgres?sslmode=disable&password={quote(wrong)}"
    state, errors = collect_database(cluster, DbOptions(dsns={cluster.id: bad}), None)
    assert [e.code for e in errors] == ["AuthFailed"]
    record(state, errors)
    # 3. the same password from Secrets Manager, over verified TLS
    secret_cluster = endpoint_cluster(pg, iam_auth=False, master_user_secret=MasterUserSecret(secret_arn=arn))
    state, errors = collect_database(secret_cluster, DbOptions(sslrootcert=pg.ca_file), aws)
    assert state.status == "collected" and errors == []
    record(state, errors)
    # 4. a secret that fails: the wrong password from Secrets Manager
    secret_cluster2 = endpoint_cluster(
        pg, iam_auth=False, master_user_secret=MasterUserSecret(secret_arn=arn2)
    )
    state, errors = collect_database(secret_cluster2, DbOptions(sslrootcert=pg.ca_file), aws)
    assert [e.code for e in errors] == ["AuthFailed"]
    record(state, errors)
    # 5. a malformed --pg-dsn carrying the password
    with pytest.raises(UsageError) as info:
        parse_pg_dsn_options([f"prod-app=postgresql://planted_role:{planted}%zz@h/db"], None)
    texts.append(str(info.value))

    out = capsys.readouterr()
    texts += [caplog.text, out.out, out.err]
    forms = {planted, quote(planted, safe=""), wrong, quote(wrong, safe=""), planted.split(":")[1], wrong[6:]}
    for text in texts:
        for form in forms:
            assert form not in text, f"secret leaked into: {text[:200]}"
    assert any("***" in t for t in texts)
