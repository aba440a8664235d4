"""In-database collector: reads replication slots, settings and table facts from a cluster's writer.

One read-only session per cluster (psycopg 3). Failures are data: a connection or query failure becomes
`DatabaseState(status="error")` plus a `CollectionError`, never an exception. Secrets (passwords, IAM auth
tokens, Secrets Manager values) never leave this module: DSNs are shown redacted and every error text is
scrubbed of the secrets this module knows about before it is stored or logged.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict

from auditor.collect import pg_queries as q
from auditor.collect.pg_dsn import parse_pg_dsn_options, quiet_aws_debug, redact_dsn, scrub
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

__all__ = ["DbOptions", "collect_database", "open_connection", "parse_pg_dsn_options", "redact_dsn"]

APPLICATION_NAME = "aurora-audit"


class _AwsContext(Protocol):  # the slice of auditor.collect.aws.AwsContext this module uses
    def client(self, service: str, region: str) -> Any: ...


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
    user: str | None = None  # DB user without a DSN (IAM or secret); default: the cluster's master user


# ---------------------------------------------------------------- connecting


class _Failure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Target:
    params: dict[str, Any]
    description: str  # redacted, for DatabaseState.connection
    secrets: list[str]


def _writer_id(cluster: Cluster) -> str | None:
    return next((m.instance_id for m in cluster.members if m.is_writer), None)


def _session_options(options: DbOptions, dsn_options: str | None) -> str:
    lock = options.lock_timeout_ms if options.lock_timeout_ms is not None else options.statement_timeout_ms
    parts = [
        f"-c statement_timeout={int(options.statement_timeout_ms)}",
        f"-c lock_timeout={int(lock)}",
        f"-c idle_in_transaction_session_timeout={int(options.idle_in_transaction_timeout_ms)}",
    ]
    if dsn_options:
        parts.append(dsn_options)  # the DSN's own settings win over our timeouts ...
    parts.append("-c default_transaction_read_only=on")  # ... but never over read-only (last -c wins)
    return " ".join(parts)


def _base_params(options: DbOptions) -> dict[str, Any]:
    params: dict[str, Any] = {
        "connect_timeout": str(max(2, int(options.connect_timeout_s))),
        "application_name": APPLICATION_NAME,
        "sslmode": "verify-full",
    }
    rootcert = options.sslrootcert or os.environ.get("PGSSLROOTCERT")
    if rootcert:
        params["sslrootcert"] = rootcert
    return params


def _resolve_target(cluster: Cluster, options: DbOptions, aws_ctx: _AwsContext | None) -> _Target:
    params = _base_params(options)
    dsn = options.dsns.get(cluster.id)
    if dsn:
        given = conninfo_to_dict(dsn)
        secrets = [str(given[k]) for k in ("password", "sslpassword") if given.get(k)]
        params.update(given)  # the DSN's own settings win
        dsn_opts = given.get("options")
        params["options"] = _session_options(options, str(dsn_opts) if dsn_opts else None)
        desc = redact_dsn(dsn)
        if "sslmode" not in given:  # our default, not PGSSLMODE: TLS stays verified unless the URI says
            desc += f" (sslmode={params['sslmode']})"
        return _Target(params, desc, secrets)

    if not cluster.endpoint:
        raise _Failure(
            "NoEndpoint", f"cluster {cluster.id} has no writer endpoint; pass --pg-dsn {cluster.id}=URI"
        )
    user = options.user or cluster.master_username
    dbname = cluster.database_name or "postgres"
    port = cluster.port or 5432
    if aws_ctx is None:
        raise _Failure(
            "NoCredentials", f"no AWS context to fetch credentials; pass --pg-dsn {cluster.id}=URI"
        )
    password: str | None = None
    how = ""
    if cluster.iam_auth:
        if not user:
            raise _Failure("NoCredentials", f"cluster {cluster.id} has no master username; pass --pg-dsn")
        try:
            # RDS User Guide, "Connecting to your DB cluster using IAM authentication": the token is a
            # SigV4 presigned URL made locally (no API call), valid 15 minutes, used as the password.
            with quiet_aws_debug():
                password = aws_ctx.client("rds", cluster.region).generate_db_auth_token(
                    DBHostname=cluster.endpoint, Port=port, DBUsername=user, Region=cluster.region
                )
            how = "IAM auth token"
        except Exception as exc:  # noqa: BLE001 - any credential problem is recorded, not raised
            log.info("IAM auth token for %s not available: %s", cluster.id, type(exc).__name__)
    if password is None and cluster.master_user_secret and cluster.master_user_secret.secret_arn:
        arn = cluster.master_user_secret.secret_arn
        try:
            with quiet_aws_debug():
                resp = aws_ctx.client("secretsmanager", cluster.region).get_secret_value(SecretId=arn)
            secret = json.loads(resp.get("SecretString") or "{}")
            password = secret.get("password")
            user = options.user or secret.get("username") or user
            how = f"Secrets Manager master secret {arn}"
        except Exception as exc:  # noqa: BLE001 - message from botocore never holds the value; keep it short
            code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
            raise _Failure("SecretUnavailable", f"could not read master secret {arn}: {code}") from None
    if password is None:
        raise _Failure(
            "NoCredentials",
            f"cluster {cluster.id}: IAM auth is off and no managed master secret is readable; "
            f"pass --pg-dsn {cluster.id}=postgresql://user@host:5432/db",
        )
    if not user:
        raise _Failure("NoCredentials", f"cluster {cluster.id}: no database user known; pass --pg-dsn")
    params.update(host=cluster.endpoint, port=str(port), dbname=dbname, user=user, password=password)
    params["options"] = _session_options(options, None)
    desc = f"postgresql://{user}@{cluster.endpoint}:{port}/{dbname}?sslmode=verify-full (password: {how})"
    return _Target(params, desc, [password])


def _classify_connect(exc: BaseException) -> str:
    if isinstance(exc, psycopg.errors.ConnectionTimeout):
        return "Timeout"
    sqlstate = getattr(exc, "sqlstate", None)
    text = str(exc).lower()
    if sqlstate in ("28P01", "28000") or "password authentication failed" in text or "pg_hba.conf" in text:
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


def open_connection(cluster: Cluster, options: DbOptions, aws_ctx: _AwsContext | None) -> psycopg.Connection:
    """The read-only session collect_database uses (exposed for tests). Raises on failure."""
    target = _resolve_target(cluster, options, aws_ctx)
    return psycopg.connect(autocommit=True, **target.params)


# ---------------------------------------------------------------- collecting


def collect_database(
    cluster: Cluster, options: DbOptions, aws_ctx: _AwsContext | None
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
        target = _resolve_target(cluster, options, aws_ctx)
    except _Failure as f:
        err = failed(f.code, "Connect", f.message)
        log.warning("%s: %s", cluster.id, err.message)
        return DatabaseState(status="error", reason=err.message, **base), [err]
    except psycopg.Error:
        err = failed("BadDsn", "Connect", f"the --pg-dsn for {cluster.id} is not a valid libpq URI")
        return DatabaseState(status="error", reason=err.message, **base), [err]

    base["connection"] = target.description
    started = time.monotonic()
    try:
        conn = psycopg.connect(autocommit=True, **target.params)
    except Exception as exc:  # noqa: BLE001 - psycopg/libpq/OS errors all become data
        code = _classify_connect(exc)
        hint = ""
        if code == "TLS":
            hint = (
                "; TLS is verified by default (sslmode=verify-full): give the RDS CA bundle "
                "(--pg-sslrootcert PATH or PGSSLROOTCERT), or set sslmode in the --pg-dsn URI"
            )
        err = failed(
            code, "Connect", f"could not connect to {target.description}: {exc}{hint}", target.secrets
        )
        log.warning("%s: %s", cluster.id, err.message)
        return DatabaseState(status="error", reason=err.message, **base), [err]

    errors: list[CollectionError] = []
    version_num = 0
    try:
        with conn:
            version_num = conn.info.server_version  # from the startup ParameterStatus, no query needed
            rows, queries = _run_sections(conn, version_num, errors, failed, target.secrets)
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
