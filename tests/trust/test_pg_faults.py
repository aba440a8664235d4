"""PostgreSQL faults through `aurora-audit check --pg-dsn` on a real server: refused, timed out, bad password,
a statement timeout and a permission denial on the slots catalog. The in-database rules (RS01-RS05) become
`error` — never a pass on data that was not read — the AWS-side rules evaluate as usual, and the run exits 2
(RS02/RS03 are critical) with its reports, marked incomplete.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.sim import SimulatedAws
from auditor.sim.fleet import build_production_cluster
from tests.plugins.postgres import PASSWORD_ROLE, PASSWORD_ROLE_PASSWORD, free_port
from tests.trust import stats
from tests.trust.conftest import invoke_main

pytestmark = [pytest.mark.moto_server, pytest.mark.postgres]
REGION = "us-east-1"
RS = {"RS01", "RS02", "RS03", "RS04", "RS05"}


@pytest.fixture(scope="module")
def careful(sim: SimulatedAws) -> Iterator[str]:
    """One production cluster in the sim for the module (the audits only read it)."""
    sim.reset()
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("AWS_"):
                mp.delenv(name, raising=False)
        for name, value in sim.env().items():
            mp.setenv(name, value)
        build_production_cluster(sim, REGION, "prod-app")
        yield "prod-app"


def check(cluster: str, dsn: str, out: Path) -> tuple[int | None, dict[str, Any], str]:
    r = invoke_main(
        [
            "check",
            cluster,
            "--region",
            REGION,
            "--baseline",
            "prod",
            "--pg-dsn",
            f"{cluster}={dsn}",
            "--format",
            "json",
            "--out",
            str(out),
        ]
    )
    assert "Traceback" not in r.stderr and not r.error_lines, r.stderr
    return r.code, json.loads((out / "report.json").read_text()), r.stdout


def rs_statuses(report: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in report["findings"]:
        if f["rule_id"] in RS:
            out.setdefault(f["rule_id"], set()).add(f["status"])
    return out


def assert_db_rules_error(code: int | None, report: dict[str, Any], what: str, error_code: str) -> str:
    statuses = rs_statuses(report)
    assert set(statuses) == RS, statuses
    assert all(s == {"error"} for s in statuses.values()), statuses
    assert code == 2 and report["complete"] is False
    others = [f for f in report["findings"] if f["rule_id"] not in RS]
    assert others and not [f for f in others if f["status"] == "error"]  # the AWS side evaluated
    assert error_code in {e.get("code") for e in report["errors"]}, report["errors"]
    stats.fault(what, "RS01-RS05 error, AWS rules evaluated, exit 2", 1)
    return next(f["message"] for f in report["findings"] if f["rule_id"] == "RS01")


def test_clean_database_passes(careful: str, pg, tmp_path: Path) -> None:  # noqa: ANN001
    code, report, _ = check(careful, pg.dsn(), tmp_path)
    assert rs_statuses(report) == {r: {"pass"} for r in RS}
    assert code == 0, [f for f in report["findings"] if f["status"] not in ("pass", "skipped")]


def test_connection_refused(careful: str, pg, tmp_path: Path) -> None:  # noqa: ANN001
    port = free_port()
    code, report, _ = check(
        careful, f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable", tmp_path
    )
    assert "Connection refused" in assert_db_rules_error(
        code, report, "PostgreSQL connection refused", "ConnectionRefused"
    )


def test_connect_timeout(careful: str, tmp_path: Path) -> None:
    with socket.socket() as s:  # accepts the TCP handshake (backlog), never answers the startup packet
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        port = s.getsockname()[1]
        dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable&connect_timeout=2"
        code, report, _ = check(careful, dsn, tmp_path)
    assert "timeout" in assert_db_rules_error(code, report, "PostgreSQL connect timeout", "Timeout")


def test_bad_password(careful: str, pg, tmp_path: Path) -> None:  # noqa: ANN001
    code, report, stdout = check(careful, pg.dsn(user=PASSWORD_ROLE, password="Wr0ngPw-trust-31d"), tmp_path)
    msg = assert_db_rules_error(code, report, "PostgreSQL bad password", "AuthFailed")
    assert "AuthFailed" in msg or "password authentication failed" in msg
    assert "Wr0ngPw-trust-31d" not in json.dumps(report) + stdout


def test_statement_timeout_on_the_slots_catalog(
    careful: str,
    pg,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    # Once the collector is connected, another session takes ACCESS EXCLUSIVE on the pg_replication_slots
    # view (taking it earlier would block the connection itself): reading slots waits until the statement
    # timeout cancels it; the other sections are read.
    from auditor.collect import postgres as pg_collect

    real_connect = pg_collect.psycopg.connect
    with pg.connect(autocommit=False) as locker:

        def connect(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            conn = real_connect(*args, **kwargs)
            locker.execute("LOCK TABLE pg_catalog.pg_replication_slots IN ACCESS EXCLUSIVE MODE")
            return conn

        monkeypatch.setattr(pg_collect.psycopg, "connect", connect)
        options = "-c%20statement_timeout%3D300%20-c%20lock_timeout%3D60000"
        code, report, _ = check(careful, pg.dsn(options=options), tmp_path)
        locker.rollback()
    assert any(e["operation"] == "Query pg_replication_slots" for e in report["errors"]), report["errors"]
    assert "statement timeout" in assert_db_rules_error(
        code, report, "PostgreSQL statement timeout (slots)", "StatementTimeout"
    )


def test_permission_denied_on_the_slots_view(careful: str, pg, tmp_path: Path) -> None:  # noqa: ANN001
    pg.execute("CREATE DATABASE hardened")
    pg.execute("REVOKE ALL ON pg_catalog.pg_replication_slots FROM PUBLIC", dbname="hardened")
    dsn = pg.dsn(user=PASSWORD_ROLE, password=PASSWORD_ROLE_PASSWORD, dbname="hardened")
    code, report, _ = check(careful, dsn, tmp_path)
    assert "permission denied" in assert_db_rules_error(
        code, report, "PostgreSQL permission denied (slots)", "PermissionDenied"
    )
