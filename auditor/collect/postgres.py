"""In-database collector: reads replication slots, settings and table facts from a cluster's writer.

One read-only session per cluster (psycopg 3). Failures are data: a connection or query failure becomes
`DatabaseState(status="error")` plus a `CollectionError`, never an exception. Secrets (passwords, IAM auth
tokens, Secrets Manager values) never leave this module: DSNs are shown redacted and every error text is
scrubbed of the secrets this module knows about before it is stored or logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from auditor.collect import pg_queries as q
from auditor.collect.pg_dsn import parse_pg_dsn_options, redact_dsn, scrub
from auditor.collect.pg_login import (
    APPLICATION_NAME,
    AwsContextLike,
    LoginFailure,
    Target,
    fallback_target,
    resolve_target,
)
from auditor.models.snapshot import (
    Cluster,
    CollectionError,
    DatabaseState,
    LongTransaction,
    Publication,
    ReplicationConnection,
    ReplicationSlot,
    Subscription,
    TableRef,
)

log = logging.getLogger(__name__)

__all__ = [
    "APPLICATION_NAME",
    "DbOptions",
    "collect_database",
    "open_connection",
    "parse_pg_dsn_options",
    "redact_dsn",
]


@dataclass(frozen=True)
class DbOptions:
    """How to reach each cluster's PostgreSQL writer, and how patient to be."""

    dsns: dict[str, str] = field(default_factory=dict)  # cluster id -> libpq URI (from --pg-dsn)
    no_db: bool = False
    sslrootcert: str | None = None  # CA bundle (--pg-sslrootcert); else PGSSLROOTCERT
    connect_timeout_s: int = 5
    statement_timeout_ms: int = 5000
    lock_timeout_ms: int | None = None  # None: same as statement_timeout_ms
    idle_in_transaction_timeout_ms: int = 10000
    user: str | None = None  # --pg-user: DB user for the IAM auth token login (no DSN); see pg_login


# ---------------------------------------------------------------- connecting


def _writer_id(cluster: Cluster) -> str | None:
    return next((m.instance_id for m in cluster.members if m.is_writer), None)


def _classify_connect(exc: BaseException) -> str:
    if isinstance(exc, psycopg.errors.ConnectionTimeout):
        return "Timeout"
    sqlstate = getattr(exc, "sqlstate", None)
    text = str(exc).lower()
    # IAM logins are checked by PAM on RDS ("PAM authentication failed for user"), passwords by scram/md5.
    if sqlstate in ("28P01", "28000") or "authentication failed" in text or "pg_hba.conf" in text:
        return "AuthFailed"
    if "ssl" in text or "certificate" in text or "tls" in text:
        return "TLS"
    if "connection refused" in text:
        return "ConnectionRefused"
    if "timeout" in text or "timed out" in text:
        return "Timeout"
    if "could not translate host name" in text or "name or service not known" in text:
        return "DnsFailure"
    if "does not exist" in text:
        return "DatabaseNotFound"
    return "ConnectFailed"


def _classify_query(exc: BaseException) -> str:
    if isinstance(exc, pg_errors.QueryCanceled):
        return "StatementTimeout"
    if isinstance(exc, pg_errors.LockNotAvailable):
        return "LockTimeout"
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return "PermissionDenied"
    if isinstance(exc, psycopg.OperationalError):
        return "ConnectionLost"
    sqlstate = getattr(exc, "sqlstate", None)
    return f"SQLSTATE{sqlstate}" if sqlstate else "QueryFailed"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def open_connection(
    cluster: Cluster, options: DbOptions, aws_ctx: AwsContextLike | None
) -> psycopg.Connection:
    """The read-only session collect_database uses (exposed for tests). Raises on failure."""
    target = resolve_target(cluster, options, aws_ctx)
    return psycopg.connect(autocommit=True, **target.params)


@dataclass
class _Session:
    pg: psycopg.Connection
    target: Target


class _ConnectFailed(Exception):
    def __init__(self, code: str, message: str, target: Target, secrets: list[str]) -> None:
        super().__init__(code)
        self.code, self.message, self.target, self.secrets = code, message, target, secrets


def _connect(
    cluster: Cluster, options: DbOptions, aws_ctx: AwsContextLike | None, target: Target
) -> _Session:
    """Connect with `target`; a refused IAM login falls back to the master secret (pg_login)."""
    secrets = list(target.secrets)
    while True:
        try:
            return _Session(psycopg.connect(autocommit=True, **target.params), target)
        except Exception as exc:  # noqa: BLE001 - psycopg/libpq/OS errors all become data
            code = _classify_connect(exc)
            message = f"could not connect to {target.description}: {exc}"
            if code == "TLS":
                message += (
                    "; TLS is verified by default (sslmode=verify-full): give the RDS CA bundle "
                    "(--pg-sslrootcert PATH or PGSSLROOTCERT), or set sslmode in the --pg-dsn URI"
                )
            if code != "AuthFailed":
                raise _ConnectFailed(code, message, target, secrets) from None
            try:
                nxt = fallback_target(cluster, options, aws_ctx, target, code)
            except LoginFailure as f:
                raise _ConnectFailed(f.code, f"{message}; then {f.message}", target, secrets) from None
            if nxt is None:
                raise _ConnectFailed(code, message, target, secrets) from None
            log.info("%s: %s; trying the master secret", cluster.id, _one_line(scrub(message, secrets)))
            target = nxt
            secrets += target.secrets


# ---------------------------------------------------------------- collecting


def collect_database(
    cluster: Cluster, options: DbOptions, aws_ctx: AwsContextLike | None
) -> tuple[DatabaseState, list[CollectionError]]:
    """Read the in-database state of `cluster`'s writer. Never raises for connection or query failures."""
    base: dict[str, Any] = {
        "cluster_id": cluster.id,
        "region": cluster.region,
        "instance_id": _writer_id(cluster),
    }
    if options.no_db:
        return DatabaseState(status="skipped", reason="in-database checks skipped (--no-db)", **base), []

    def failed(code: str, operation: str, message: str, secrets: Iterable[str] = ()) -> CollectionError:
        return CollectionError(
            resource=cluster.id,
            resource_kind="database",
            operation=operation,
            region=cluster.region,
            account=cluster.account,
            cluster=cluster.id,
            code=code,
            message=_one_line(scrub(message, secrets)),
        )

    try:
        target = resolve_target(cluster, options, aws_ctx)
    except LoginFailure as f:
        err = failed(f.code, "Connect", f.message)
        log.warning("%s: %s", cluster.id, err.message)
        return DatabaseState(status="error", reason=err.message, **base), [err]
    except psycopg.Error:
        err = failed("BadDsn", "Connect", f"the --pg-dsn for {cluster.id} is not a valid libpq URI")
        return DatabaseState(status="error", reason=err.message, **base), [err]

    base["connection"] = target.description
    started = time.monotonic()
    try:
        conn = _connect(cluster, options, aws_ctx, target)
    except _ConnectFailed as f:
        base["connection"] = f.target.description
        err = failed(f.code, "Connect", f.message, f.secrets)
        log.warning("%s: %s", cluster.id, err.message)
        return DatabaseState(status="error", reason=err.message, **base), [err]
    target = conn.target
    base["connection"] = target.description
    errors: list[CollectionError] = []
    version_num = 0
    try:
        with conn.pg:
            version_num = conn.pg.info.server_version  # from the startup ParameterStatus, no query needed
            rows, queries = _run_sections(conn.pg, version_num, errors, failed, target.secrets)
    except Exception as exc:  # noqa: BLE001 - e.g. connection dropped while closing
        errors.append(failed(_classify_query(exc), "Query", str(exc), target.secrets))
        rows, queries = {}, 0
    log.info(
        "%s: in-database collection took %.3fs, %d queries", cluster.id, time.monotonic() - started, queries
    )

    if not rows:
        reason = errors[0].message if errors else "nothing could be read"
        return DatabaseState(status="error", reason=reason, queries=queries, **base), errors
    if errors:  # some sections are missing: an empty tuple there means "unknown", not "none"
        base["reason"] = "partial: " + "; ".join(f"{e.operation} failed ({e.code})" for e in errors)
    try:
        return _build_state(base, rows, queries, version_num), errors
    except ValueError as exc:  # pydantic ValidationError: a row we cannot type (should not happen)
        err = failed("UnexpectedRow", "Query", f"could not read the result: {exc}", target.secrets)
        return DatabaseState(status="error", reason=err.message, queries=queries, **base), [*errors, err]


def _run_sections(
    conn: psycopg.Connection, version_num: int, errors: list[CollectionError], failed: Any, secrets: list[str]
) -> tuple[dict[str, Any], int]:
    """All sections in one statement; on failure, each section alone so one bad catalog costs only itself."""
    queries = 1
    try:
        row = conn.execute(q.combined_sql(version_num)).fetchone()
        if row is not None:
            return dict(zip(q.SECTIONS, row, strict=True)), queries
        first: BaseException = RuntimeError("no row")
    except psycopg.OperationalError as exc:
        if conn.closed or conn.broken:
            errors.append(failed(_classify_query(exc), "Query", str(exc), secrets))
            return {}, queries
        first = exc
    except psycopg.Error as exc:
        first = exc
    log.info("combined in-database query failed (%s); reading sections one by one", _classify_query(first))
    rows: dict[str, Any] = {}
    for section in q.SECTIONS:
        queries += 1
        try:
            r = conn.execute(q.single_sql(section, version_num)).fetchone()
            rows[section] = r[0] if r else []
        except psycopg.Error as exc:
            errors.append(failed(_classify_query(exc), q.OPERATION[section], str(exc), secrets))
            if conn.closed or conn.broken:
                break
    return rows, queries


def _tables(rows: list[dict[str, Any]], what: str, cluster_id: str) -> tuple[TableRef, ...]:
    if len(rows) > q.TABLE_LIMIT:
        log.info("%s: more than %d %s; listing the first %d", cluster_id, q.TABLE_LIMIT, what, q.TABLE_LIMIT)
    return tuple(TableRef(**r) for r in rows[: q.TABLE_LIMIT])


def _build_state(base: dict[str, Any], rows: dict[str, Any], queries: int, version_num: int) -> DatabaseState:
    server = (rows.get(q.SERVER) or [{}])[0]
    oldest = rows.get(q.OLDEST_XACT) or []
    cid = base["cluster_id"]
    return DatabaseState(
        status="collected",
        collected_at=datetime.now(UTC),
        server_version=server.get("server_version"),
        server_version_num=server.get("server_version_num") or version_num or None,
        database=server.get("database"),
        settings={r["name"]: r["setting"] for r in rows.get(q.SETTINGS) or []},
        slots=tuple(ReplicationSlot(**r) for r in rows.get(q.SLOTS) or []),
        replication=tuple(ReplicationConnection(**r) for r in rows.get(q.REPLICATION) or []),
        oldest_transaction=LongTransaction(**oldest[0]) if oldest else None,
        tables_without_pk=_tables(rows.get(q.NO_PK) or [], "tables without a primary key", cid),
        unlogged_tables=_tables(rows.get(q.UNLOGGED) or [], "unlogged tables", cid),
        publications=tuple(Publication(**r) for r in rows.get(q.PUBLICATIONS) or []),
        subscriptions=tuple(Subscription(**r) for r in rows.get(q.SUBSCRIPTIONS) or []),
        queries=queries,
        **base,
    )
