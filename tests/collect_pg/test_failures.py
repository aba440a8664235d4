"""Failures are data: refused, timed out, bad password, TLS, statement timeout, permission denied."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from auditor.collect import pg_queries as q
from auditor.collect.postgres import DbOptions, collect_database
from auditor.models.snapshot import CollectionError, DatabaseState
from tests.collect_pg.conftest import make_cluster
from tests.plugins.postgres import PASSWORD_ROLE, PASSWORD_ROLE_PASSWORD, free_port

pytestmark = pytest.mark.postgres


def run(dsn: str, **opts: object) -> tuple[DatabaseState, list[CollectionError]]:
    cluster = make_cluster()
    return collect_database(cluster, DbOptions(dsns={cluster.id: dsn}, **opts), None)  # type: ignore[arg-type]


def assert_connect_error(state: DatabaseState, errors: list[CollectionError], code: str) -> CollectionError:
    assert state.status == "error" and state.queries == 0
    assert len(errors) == 1
    err = errors[0]
    assert (err.operation, err.code, err.resource, err.cluster) == ("Connect", code, "prod-app", "prod-app")
    assert err.resource_kind == "database" and err.region == "us-east-1"
    assert state.reason == err.message and "\n" not in err.message
    return err


def test_connection_refused(pg) -> None:
    port = free_port()  # nothing listens there
    state, errors = run(f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable")
    err = assert_connect_error(state, errors, "ConnectionRefused")
    assert str(port) in err.message


@pytest.fixture()
def silent_listener() -> Iterator[int]:
    """A TCP port that accepts the handshake (kernel backlog) but never answers the startup packet."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])


def test_connect_timeout(silent_listener: int) -> None:
    state, errors = run(
        f"postgresql://postgres@127.0.0.1:{silent_listener}/postgres?sslmode=disable", connect_timeout_s=2
    )
    assert_connect_error(state, errors, "Timeout")


def test_wrong_password(pg) -> None:
    state, errors = run(pg.dsn(user=PASSWORD_ROLE, password="not-the-password-91ac"))
    err = assert_connect_error(state, errors, "AuthFailed")
    assert "not-the-password-91ac" not in err.message and PASSWORD_ROLE in err.message
    assert state.connection == pg.dsn(user=PASSWORD_ROLE, password="***")


def test_right_password_works(pg) -> None:
    state, errors = run(pg.dsn(user=PASSWORD_ROLE, password=PASSWORD_ROLE_PASSWORD))
    assert errors == [] and state.status == "collected"


def test_tls_verify_full_against_the_wrong_ca_fails(pg) -> None:
    # No sslmode in the DSN: the collector's default (verify-full) applies, with the given CA bundle.
    dsn = f"postgresql://postgres@127.0.0.1:{pg.port}/postgres"
    state, errors = run(dsn, sslrootcert=pg.other_ca_file)
    err = assert_connect_error(state, errors, "TLS")
    assert "certificate" in err.message


def test_tls_verify_full_against_the_right_ca_works(pg) -> None:
    dsn = f"postgresql://postgres@127.0.0.1:{pg.port}/postgres"
    state, errors = run(dsn, sslrootcert=pg.ca_file)
    assert errors == [] and state.status == "collected"


def test_tls_required_by_default_without_a_ca_bundle(pg, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.postgresql/root.crt either
    state, errors = run(f"postgresql://postgres@127.0.0.1:{pg.port}/postgres")
    assert_connect_error(state, errors, "TLS")


def test_dsn_sslmode_wins(pg) -> None:
    state, errors = run(f"postgresql://postgres@127.0.0.1:{pg.port}/postgres?sslmode=require")
    assert errors == [] and state.status == "collected"


def test_statement_timeout_costs_only_the_blocked_section(pg) -> None:
    # Another session holds an ACCESS EXCLUSIVE lock on pg_publication: reading it waits until
    # statement_timeout cancels it (lock_timeout set higher so the statement timeout fires first).
    with pg.connect(autocommit=False) as locker:
        locker.execute("LOCK TABLE pg_catalog.pg_publication IN ACCESS EXCLUSIVE MODE")
        state, errors = run(pg.dsn(), statement_timeout_ms=300, lock_timeout_ms=60000)
        locker.rollback()
    assert state.status == "collected"
    assert state.reason == "partial: Query pg_publication failed (StatementTimeout)"
    assert [(e.operation, e.code) for e in errors] == [("Query pg_publication", "StatementTimeout")]
    assert "statement timeout" in errors[0].message
    assert state.queries == 1 + len(q.SECTIONS)  # the combined statement, then each section alone
    assert state.settings["wal_level"] == "logical" and state.server_version_num


def test_lock_timeout_is_its_own_code(pg) -> None:
    with pg.connect(autocommit=False) as locker:
        locker.execute("LOCK TABLE pg_catalog.pg_publication IN ACCESS EXCLUSIVE MODE")
        state, errors = run(pg.dsn(), statement_timeout_ms=60000, lock_timeout_ms=200)
        locker.rollback()
    assert [(e.operation, e.code) for e in errors] == [("Query pg_publication", "LockTimeout")]


def test_permission_denied_on_pg_subscription_is_recorded(pg) -> None:
    # A hardened database revokes even PUBLIC's column grants on pg_subscription (ACLs of shared
    # catalogs live in each database's pg_class, so this stays inside the throwaway database).
    pg.execute("CREATE DATABASE hardened")
    pg.execute("REVOKE ALL ON pg_catalog.pg_subscription FROM PUBLIC", dbname="hardened")
    state, errors = run(pg.dsn(user=PASSWORD_ROLE, password=PASSWORD_ROLE_PASSWORD, dbname="hardened"))
    assert state.status == "collected" and state.database == "hardened"
    assert [(e.operation, e.code, e.resource_kind) for e in errors] == [
        ("Query pg_subscription", "PermissionDenied", "database")
    ]
    assert "permission denied" in errors[0].message
    assert state.subscriptions == () and state.settings["wal_level"] == "logical"


def test_unknown_database(pg) -> None:
    state, errors = run(pg.dsn(dbname="no_such_db"))
    assert_connect_error(state, errors, "DatabaseNotFound")


def test_no_credentials_without_dsn() -> None:
    cluster = make_cluster(endpoint="127.0.0.1", port=5432, master_username="admin", iam_auth=False)

    class NoAws:
        def client(self, service: str, region: str) -> object:
            raise AssertionError("no AWS call expected")

    state, errors = collect_database(cluster, DbOptions(), NoAws())
    assert state.status == "error"
    assert [(e.operation, e.code) for e in errors] == [("Connect", "NoCredentials")]
    assert "--pg-dsn prod-app=" in errors[0].message
