"""--pg-dsn parsing and secret hygiene for the in-database collector.

`redact_dsn` hides passwords in libpq URIs and keyword strings; `scrub` removes known secrets (and anything
shaped like one: URI userinfo, password=..., SigV4 signatures) from text such as libpq error messages, which
can quote a connection string. `quiet_aws_debug` keeps botocore's DEBUG logging away from secret-handling
calls.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

import psycopg
from psycopg.conninfo import conninfo_to_dict

from auditor.errors import UsageError

_SCHEMES = ("postgresql://", "postgres://")
_CLUSTER_ID = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")


def parse_pg_dsn_options(values: Iterable[str], default_cluster: str | None) -> dict[str, str]:
    """`--pg-dsn [CLUSTER_ID=]URI` values -> {cluster id: URI}. A value starting with the scheme applies
    to `default_cluster` (the audited cluster; blue for gate). Raises UsageError (one line, redacted)."""
    out: dict[str, str] = {}
    for raw in values:
        value = raw.strip()
        if value.lower().startswith(_SCHEMES):
            if not default_cluster:
                raise UsageError(
                    f"--pg-dsn {redact_dsn(value)}: no cluster to apply it to; write CLUSTER_ID=postgresql://..."
                )
            cluster, dsn = default_cluster, value
        elif "=" in value:
            cluster, dsn = value.split("=", 1)
            cluster, dsn = cluster.strip(), dsn.strip()
            if not _CLUSTER_ID.match(cluster):
                raise UsageError(
                    f"--pg-dsn {redact_dsn(value)}: {cluster!r} is not a cluster id; "
                    "expected [CLUSTER_ID=]postgresql://user@host:5432/db"
                )
            if not dsn.lower().startswith(_SCHEMES):
                raise UsageError(
                    f"--pg-dsn {redact_dsn(value)}: the connection string for {cluster} must be a URI "
                    "starting with postgresql:// or postgres://"
                )
        else:
            raise UsageError(
                f"--pg-dsn {redact_dsn(value)}: expected [CLUSTER_ID=]postgresql://user@host:5432/db"
            )
        try:
            conninfo_to_dict(dsn)
        except psycopg.Error:
            # libpq's message can quote the URI (and so a password): do not repeat it.
            raise UsageError(
                f"--pg-dsn {redact_dsn(value)}: not a valid libpq connection URI "
                "(check percent-encoding of special characters in the user or password)"
            ) from None
        if cluster in out:
            raise UsageError(f"--pg-dsn given twice for cluster {cluster}")
        out[cluster] = dsn
    return out


# Userinfo runs to the LAST "@" before the query: an unencoded "@" or "/" in a password is a user error
# that libpq rejects or misparses, but the text must still be redacted (over-redacting is fine).
_URI_USERINFO = re.compile(r"((?:postgres(?:ql)?)://)([^?#\s]*)@", re.IGNORECASE)
_QUERY_SECRET = re.compile(r"([?&](?:ssl)?password=)[^&#]*", re.IGNORECASE)
_KW_SECRET = re.compile(r"(\b(?:ssl)?password\s*=\s*)('(?:\\.|[^'\\])*'|[^\s'&]+)", re.IGNORECASE)
_ANY_USERINFO = re.compile(r"(postgres(?:ql)?://[^:@/\s]*):[^?#\s]*@", re.IGNORECASE)
_AWS_SIG = re.compile(r"(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s\"']+", re.IGNORECASE)


def redact_dsn(dsn: str) -> str:
    """The DSN with its password (userinfo, `password=` query or keyword) replaced by ***."""

    def userinfo(m: re.Match[str]) -> str:
        user, sep, _ = m.group(2).partition(":")
        return f"{m.group(1)}{user}{':***' if sep else ''}@"

    out = _URI_USERINFO.sub(userinfo, dsn)
    out = _QUERY_SECRET.sub(r"\1***", out)
    return _KW_SECRET.sub(r"\1***", out)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove known secrets and anything shaped like one from a message (libpq can echo DSNs)."""
    for s in secrets:
        if s and len(s) >= 3:
            for form in {s, quote(s, safe=""), quote_plus(s)}:
                text = text.replace(form, "***")
    text = _ANY_USERINFO.sub(r"\1:***@", text)
    text = _QUERY_SECRET.sub(r"\1***", text)
    text = _KW_SECRET.sub(r"\1***", text)
    return _AWS_SIG.sub(r"\1***", text)


_QUIET_LOCK = threading.Lock()
_quiet_depth = 0
_quiet_saved: dict[str, int] = {}
_NOISY = ("botocore", "boto3", "urllib3")


@contextmanager
def quiet_aws_debug() -> Iterator[None]:
    """Silence botocore's DEBUG logging around calls that handle secrets: at DEBUG, botocore logs SigV4
    signatures (botocore.auth "Signature:") and response bodies (botocore.parsers "Response body:"),
    i.e. the IAM auth token's signature and the Secrets Manager SecretString."""
    global _quiet_depth
    with _QUIET_LOCK:
        if _quiet_depth == 0:
            for name in _NOISY:
                lg = logging.getLogger(name)
                _quiet_saved[name] = lg.level
                lg.setLevel(max(lg.getEffectiveLevel(), logging.INFO))
        _quiet_depth += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                for name, level in _quiet_saved.items():
                    logging.getLogger(name).setLevel(level)
                _quiet_saved.clear()
