"""How the in-database collector logs in to a cluster's writer, and how the login is described.

Order (no `--pg-dsn`): an IAM auth token for `--pg-user` when IAM database authentication is on; the
cluster's RDS-managed master secret when there is no `--pg-user` (AWS accepts an IAM token only for a user
granted `rds_iam`, which the master user is not by default), when the token cannot be made, or when the IAM
login is refused (`fallback_target`); an IAM token for the master user when there is no secret to fall back
on. The description (DatabaseState.connection) names the method and the user, never a secret.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from psycopg.conninfo import conninfo_to_dict

from auditor.collect.pg_dsn import describe_conninfo, quiet_aws_debug

if TYPE_CHECKING:
    from auditor.collect.postgres import DbOptions
    from auditor.models.snapshot import Cluster

log = logging.getLogger(__name__)

APPLICATION_NAME = "aurora-audit"
IAM = "iam"
SECRET = "secret"
DSN = "dsn"


class AwsContextLike(Protocol):  # the slice of auditor.collect.aws.AwsContext used here
    def client(self, service: str, region: str) -> Any: ...


class LoginFailure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Target:
    params: dict[str, Any]
    description: str  # redacted, for DatabaseState.connection
    secrets: list[str]
    method: str = DSN
    user: str | None = None
    notes: list[str] = field(default_factory=list)


def session_options(options: DbOptions, dsn_options: str | None) -> str:
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


def _secret_arn(cluster: Cluster) -> str | None:
    return cluster.master_user_secret.secret_arn if cluster.master_user_secret else None


def resolve_target(cluster: Cluster, options: DbOptions, aws_ctx: AwsContextLike | None) -> Target:
    """The first login to try. Raises LoginFailure (no credentials) or psycopg.Error (a bad DSN)."""
    params = _base_params(options)
    dsn = options.dsns.get(cluster.id)
    if dsn:
        given = conninfo_to_dict(dsn)
        secrets = [str(given[k]) for k in ("password", "sslpassword") if given.get(k)]
        params.update(given)  # the DSN's own settings win (sslmode too; ours is verify-full, not PGSSLMODE)
        dsn_opts = given.get("options")
        params["options"] = session_options(options, str(dsn_opts) if dsn_opts else None)
        # Described from what libpq parsed, not from the text: a password may hold '?', '#' or '@'.
        desc = describe_conninfo(params, password_marker=bool(secrets))
        return Target(params, desc, secrets, DSN, str(given.get("user") or "") or None)

    if not cluster.endpoint:
        raise LoginFailure(
            "NoEndpoint", f"cluster {cluster.id} has no writer endpoint; pass --pg-dsn {cluster.id}=URI"
        )
    if aws_ctx is None:
        raise LoginFailure(
            "NoCredentials", f"no AWS context to fetch credentials; pass --pg-dsn {cluster.id}=URI"
        )
    notes: list[str] = []
    arn = _secret_arn(cluster)
    if cluster.iam_auth:
        if options.user or not arn:
            target = _iam_target(cluster, options, aws_ctx, options.user or cluster.master_username, notes)
            if target is not None:
                return target
        else:
            notes.append("IAM auth is on but no --pg-user was given")
    if arn:
        return secret_target(cluster, options, aws_ctx, notes)
    raise LoginFailure(
        "NoCredentials",
        f"cluster {cluster.id}: "
        + ("; ".join(notes) if notes else "IAM auth is off")
        + " and it has no managed master secret; "
        f"pass --pg-dsn {cluster.id}=postgresql://user@host:5432/db",
    )


def fallback_target(
    cluster: Cluster, options: DbOptions, aws_ctx: AwsContextLike | None, failed: Target, code: str
) -> Target | None:
    """After a refused IAM login: the master secret login, when the cluster has a secret."""
    if failed.method != IAM or aws_ctx is None or not _secret_arn(cluster):
        return None
    note = f"the IAM auth token login as {failed.user} was refused ({code})"
    return secret_target(cluster, options, aws_ctx, [*failed.notes, note])


def _endpoint(cluster: Cluster) -> tuple[str, int, str]:
    return str(cluster.endpoint), cluster.port or 5432, cluster.database_name or "postgres"


def _login(
    cluster: Cluster, options: DbOptions, user: str, password: str, how: str, method: str, notes: list[str]
) -> Target:
    host, port, dbname = _endpoint(cluster)
    params = _base_params(options)
    params.update(host=host, port=str(port), dbname=dbname, user=user, password=password)
    params["options"] = session_options(options, None)
    why = f"; {'; '.join(notes)}" if notes else ""
    desc = f"{describe_conninfo(params, password_marker=False)} (password: {how}{why})"
    return Target(params, desc, [password], method, user, notes)


def _iam_target(
    cluster: Cluster, options: DbOptions, aws_ctx: AwsContextLike, user: str | None, notes: list[str]
) -> Target | None:
    if not user:
        notes.append("IAM auth is on but no database user is known (pass --pg-user)")
        return None
    host, port, _ = _endpoint(cluster)
    try:
        # RDS User Guide, "Connecting to your DB cluster using IAM authentication": the token is a
        # SigV4 presigned URL made locally (no API call), valid 15 minutes, used as the password. AWS
        # accepts it only for a database user granted the rds_iam role.
        with quiet_aws_debug():
            token = aws_ctx.client("rds", cluster.region).generate_db_auth_token(
                DBHostname=host, Port=port, DBUsername=user, Region=cluster.region
            )
    except Exception as exc:  # noqa: BLE001 - any credential problem is recorded, not raised
        log.info("IAM auth token for %s not available: %s", cluster.id, type(exc).__name__)
        notes.append(f"no IAM auth token ({type(exc).__name__})")
        return None
    return _login(cluster, options, user, str(token), "IAM auth token", IAM, notes)


def secret_target(
    cluster: Cluster, options: DbOptions, aws_ctx: AwsContextLike, notes: list[str]
) -> Target:
    """Log in as the RDS-managed master secret's own user (--pg-user is for IAM only: the secret's
    password belongs to the master user)."""
    arn = str(_secret_arn(cluster))
    try:
        with quiet_aws_debug():
            resp = aws_ctx.client("secretsmanager", cluster.region).get_secret_value(SecretId=arn)
        secret = json.loads(resp.get("SecretString") or "{}")
    except Exception as exc:  # noqa: BLE001 - botocore's message never holds the value; keep it short
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
        before = f" ({'; '.join(notes)})" if notes else ""
        message = f"could not read master secret {arn}: {code}{before}"
        raise LoginFailure("SecretUnavailable", message) from None
    password = secret.get("password") if isinstance(secret, dict) else None
    user = (secret.get("username") if isinstance(secret, dict) else None) or cluster.master_username
    if not password or not user:
        raise LoginFailure("SecretUnavailable", f"master secret {arn} has no username/password")
    return _login(
        cluster, options, str(user), str(password), f"Secrets Manager master secret {arn}", SECRET, notes
    )
