"""--pg-dsn parsing, DSN redaction, and version gating of the collector's SQL (no server needed)."""

from __future__ import annotations

import pytest

from auditor.collect import pg_queries as q
from auditor.collect.pg_dsn import scrub as _scrub
from auditor.collect.postgres import DbOptions, collect_database, parse_pg_dsn_options, redact_dsn
from auditor.errors import UsageError
from auditor.models.snapshot import Cluster


def test_scheme_value_applies_to_default_cluster() -> None:
    got = parse_pg_dsn_options(["postgresql://u@h:5432/db?sslmode=verify-full"], "prod-app")
    assert got == {"prod-app": "postgresql://u@h:5432/db?sslmode=verify-full"}


def test_named_values_and_postgres_scheme() -> None:
    got = parse_pg_dsn_options(
        ["prod-app=postgresql://u@blue:5432/db", "prod-app-green-abc123=postgres://u@green/db"], "prod-app"
    )
    assert got == {
        "prod-app": "postgresql://u@blue:5432/db",
        "prod-app-green-abc123": "postgres://u@green/db",
    }


def test_only_first_equals_splits() -> None:
    got = parse_pg_dsn_options(["c1=postgresql://u:p=q@h/db?sslmode=require&application_name=x"], None)
    assert got == {"c1": "postgresql://u:p=q@h/db?sslmode=require&application_name=x"}


@pytest.mark.parametrize(
    "value, needle",
    [
        ("just-text", "expected [CLUSTER_ID=]postgresql://"),
        ("c1=host=h password=hunter2", "must be a URI"),
        ("=postgresql://u@h/db", "is not a cluster id"),
        ("bad id=postgresql://u@h/db", "is not a cluster id"),
        ("c1=postgresql://u@h/db?bogus=1", "not a valid libpq connection URI"),
        ("c1=postgresql://u:hunter2%zz@h/db", "not a valid libpq connection URI"),
    ],
)
def test_malformed_values_are_one_line_usage_errors(value: str, needle: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_pg_dsn_options([value], "c1")
    msg = str(info.value)
    assert needle in msg
    assert "\n" not in msg
    assert "hunter2" not in msg


def test_scheme_value_without_default_cluster() -> None:
    with pytest.raises(UsageError, match="no cluster to apply it to"):
        parse_pg_dsn_options(["postgresql://u:s3cret@h/db"], None)


def test_duplicate_cluster_rejected() -> None:
    with pytest.raises(UsageError, match="given twice"):
        parse_pg_dsn_options(["postgresql://u@a/db", "c1=postgresql://u@b/db"], "c1")


def test_usage_error_never_echoes_password() -> None:
    with pytest.raises(UsageError) as info:
        # libpq itself would quote the bad token ("Sup3rS3cret%zz") in its message
        parse_pg_dsn_options(["c1=postgresql://admin:Sup3rS3cret%zz@h/db?password=Other"], None)
    assert "Sup3rS3cret" not in str(info.value) and "Other" not in str(info.value)


@pytest.mark.parametrize(
    "dsn, expected",
    [
        ("postgresql://admin:pa:ss@h:5432/db", "postgresql://admin:***@h:5432/db"),
        ("postgres://admin@h/db", "postgresql://admin@h/db"),
        ("postgresql://:onlypw@h/db", "postgresql://:***@h/db"),
        (
            "postgresql://u@h/db?sslmode=require&password=x%20y&application_name=a",
            "postgresql://u:***@h/db?sslmode=require",
        ),
        # libpq's own reading: a '?' or '#' before the '@' is part of the password, not a query/fragment
        ("postgresql://audit:s3cr?t@db.example.com:5432/app", "postgresql://audit:***@db.example.com:5432/app"),
        ("postgresql://audit:s3cr#t@db.example.com:5432/app", "postgresql://audit:***@db.example.com:5432/app"),
        ("postgresql://audit:a?b#c@h/app?sslmode=require", "postgresql://audit:***@h/app?sslmode=require"),
        ("postgresql://audit:s3cr%40t@h/app", "postgresql://audit:***@h/app"),
        ("postgresql://u@h1:5432,h2:5433/db", "postgresql://u@h1:5432,h2:5433/db"),
        ("postgresql://u@[::1]:5432/db", "postgresql://u@[::1]:5432/db"),
        ("postgresql://u:pw@/db?host=/tmp", "postgresql://u:***@/db?host=/tmp"),
        ("host=h password='a b\\'c' user=u", "postgresql://u:***@h/"),
        ("host=h password=abc sslpassword=def", "postgresql://:***@h/"),
        # what libpq cannot parse, or would misread (part of a password as host/port/db), is not shown
        ("postgresql://u@h/db?PASSWORD=z", "postgresql://*** (not shown: libpq cannot parse it)"),
        ("postgresql://audit:s3cr t@h/app", "postgresql://*** (not shown: libpq cannot parse it)"),
        ("postgresql://audit:s3cr@t@h/app", "postgresql://*** (not shown: libpq cannot parse it)"),
        ("postgresql://audit:s3cr/t@h/app", "postgresql://*** (not shown: libpq cannot parse it)"),
    ],
)
def test_redact_dsn(dsn: str, expected: str) -> None:
    assert redact_dsn(dsn) == expected


def test_scrub_removes_known_secrets_and_signatures() -> None:
    token = "h:5432/?Action=connect&DBUser=u&X-Amz-Signature=abc123&X-Amz-Security-Token=tok%2F"
    text = f"failed for postgresql://u:pw1@h/db token={token} raw pw1 and pw%201"
    out = _scrub(text, ["pw1", "pw 1"])
    assert "pw1" not in out and "abc123" not in out and "tok%2F" not in out and "pw%201" not in out


def test_version_gating_of_slot_columns() -> None:
    pg12 = q.single_sql(q.SLOTS, 120000)
    pg13 = q.single_sql(q.SLOTS, 130000)
    assert "NULL::text AS wal_status" in pg12 and "NULL::bigint AS safe_wal_size" in pg12
    assert "wal_status AS wal_status" in pg13 and "safe_wal_size AS safe_wal_size" in pg13
    assert "temporary AS temporary" in pg12
    assert "NULL::boolean AS temporary" in q.single_sql(q.SLOTS, 90600)


def test_no_query_text_is_ever_selected() -> None:
    sql = q.combined_sql(170000)
    assert " query" not in sql.replace("query_", "") and "subconninfo" not in sql


def test_no_db_is_skipped_without_connecting() -> None:
    cluster = Cluster(id="c1", region="us-east-1", engine="aurora-postgresql", engine_version="15.4")
    state, errors = collect_database(cluster, DbOptions(no_db=True), None)
    assert state.status == "skipped" and "--no-db" in (state.reason or "")
    assert errors == [] and state.queries == 0
