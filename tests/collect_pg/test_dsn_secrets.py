"""Passwords holding URI delimiters ('?', '#', '@', '/', '%40', space) in --pg-dsn: libpq reads them one
way, a pattern another. The password must appear in no DatabaseState, snapshot JSON, error, log line or
terminal output — whether the login works, is refused, or the value cannot be parsed at all."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.collect.postgres import DbOptions, collect_database, parse_pg_dsn_options
from auditor.errors import UsageError
from auditor.models.snapshot import Snapshot
from tests.collect_pg.conftest import make_cluster

pytestmark = pytest.mark.postgres


def _forms(password: str) -> set[str]:
    """The password as typed and percent-encoded, and its random core (so a partial leak is caught too)."""
    core = password.split("-")[-1]
    return {password, quote(password, safe=""), core}


def _assert_absent(password: str, texts: list[str]) -> None:
    for text in texts:
        for form in _forms(password):
            assert form not in text, f"password leaked into: {text[:300]}"


def _snapshot_json(state: Any, errors: list[Any]) -> str:
    return Snapshot(
        tool_version="test", taken_at=datetime.now(UTC), databases=(state,), errors=tuple(errors)
    ).to_json()


# Delimiters libpq accepts unencoded inside the userinfo password (it ends the userinfo at the first '@'
# or '/', fe-connect.c conninfo_uri_parse_options), and the encoded forms of the ones it does not.
@pytest.mark.parametrize(
    "prefix, encode",
    [
        ("s3cr?t", False),  # the reviewer's case: a regex stopping at '?' stored it in clear
        ("s3cr#t", False),
        ("a?b#c", False),
        ("x?password=y", False),
        ("s3cr@t", True),  # '%40'
        ("s3cr/t", True),  # '%2F'
        ("s3cr t", True),  # '%20'
    ],
)
def test_password_with_delimiters_logs_in_and_shows_nowhere(pg, prefix, encode, caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    password = f"{prefix}-{uuid.uuid4().hex}"
    role = f"delim_{uuid.uuid4().hex[:8]}"
    pg.create_password_role(role, password)
    pw = quote(password, safe="") if encode else password
    dsn = f"postgresql://{role}:{pw}@127.0.0.1:{pg.port}/postgres?sslmode=disable"
    cluster = make_cluster()
    dsns = parse_pg_dsn_options([f"{cluster.id}={dsn}"], None)
    state, errors = collect_database(cluster, DbOptions(dsns=dsns), None)
    # It logged in: libpq read exactly this password (so the test checks the password really used).
    assert state.status == "collected" and errors == [], state.reason
    assert state.connection == f"postgresql://{role}:***@127.0.0.1:{pg.port}/postgres?sslmode=disable"
    # ... and a wrong one with the same delimiters is refused without echoing either.
    wrong = f"{prefix}-{uuid.uuid4().hex}"
    wpw = quote(wrong, safe="") if encode else wrong
    bad = {cluster.id: f"postgresql://{role}:{wpw}@127.0.0.1:{pg.port}/postgres?sslmode=disable"}
    state2, errors2 = collect_database(cluster, DbOptions(dsns=bad), None)
    assert [e.code for e in errors2] == ["AuthFailed"]
    out = capsys.readouterr()
    texts = [
        _snapshot_json(state, errors),
        _snapshot_json(state2, errors2),
        *(e.message for e in errors2),
        caplog.text,
        out.out,
        out.err,
    ]
    _assert_absent(password, texts)
    _assert_absent(wrong, texts)
    assert role in texts[0] and "***" in texts[0]


@pytest.mark.parametrize(
    "userinfo, reason",
    [
        ("audit:s3cr t-{core}", "unexpected spaces"),  # libpq would quote the token in its message
        ("audit:s3cr%zz-{core}", "invalid percent-encoded token"),
        ("audit:s3cr@t-{core}", "percent-encode '@'"),  # libpq: password 's3cr', host 't-...@h'
        ("audit:s3cr/t-{core}", "percent-encode '@'"),  # libpq: host 'audit', port 's3cr'
        ("audit:/{core}", "percent-encode '@'"),  # libpq: no user, database '...@h:5432/app'
    ],
)
def test_unparsable_dsn_error_names_cluster_and_reason_only(userinfo: str, reason: str) -> None:
    core = uuid.uuid4().hex
    value = f"prod=postgresql://{userinfo.format(core=core)}@db.example.com:5432/app"
    with pytest.raises(UsageError) as info:
        parse_pg_dsn_options([value], None)
    msg = str(info.value)
    assert "--pg-dsn for prod:" in msg and reason in msg and "\n" not in msg
    assert core not in msg and "s3cr" not in msg and "db.example.com" not in msg


def test_other_parse_errors_never_echo_the_value() -> None:
    core = uuid.uuid4().hex
    for value, needle in [
        (f"postgresql://audit:{core}@h/db", "no cluster to apply it to"),
        (f"prod postgresql://audit:p={core}@h/db", "the text before '=' is not a cluster id"),
        (f"prod=host=h password={core}", "must be a URI"),
        (f"audit:{core}", "expected [CLUSTER_ID=]postgresql://"),
    ]:
        with pytest.raises(UsageError) as info:
            parse_pg_dsn_options([value], None)
        assert needle in str(info.value) and core not in str(info.value)


def test_cli_usage_error_for_a_password_with_a_space() -> None:
    # The reviewer's case through the CLI: exit 2, one line on stderr, no password (no AWS call is made:
    # --pg-dsn is parsed before collection starts).
    core = uuid.uuid4().hex
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "prod",
            "--region",
            "us-east-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--pg-dsn",
            f"prod=postgresql://audit:s3cr t{core}@db.example.com:5432/app",
            "--out",
            "unused-reports",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "--pg-dsn for prod" in result.output and core not in result.output
