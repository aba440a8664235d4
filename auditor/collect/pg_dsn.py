"""--pg-dsn parsing and secret hygiene for the in-database collector.

`redact_dsn` / `describe_conninfo` show a connection rebuilt from what libpq parsed (never the text the
user typed: a password may hold '?', '#' or '@', which a pattern misjudges); `scrub` removes known secrets
(and anything shaped like one: URI userinfo, password=..., SigV4 signatures) from text such as libpq error
messages, which can quote a connection string. `quiet_aws_debug` keeps botocore's DEBUG logging away from
secret-handling calls.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus

import psycopg
from psycopg.conninfo import conninfo_to_dict

from auditor.errors import UsageError

_SCHEMES = ("postgresql://", "postgres://")
_CLUSTER_ID = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")


def _shown_id(text: str) -> str:
    """The text before '=' as the user typed it, when it cannot be part of a URI (and so of a password)."""
    return repr(text) if re.fullmatch(r"[\w .-]{1,63}", text) else "the text before '='"


def _libpq_reason(exc: Exception) -> str:
    """libpq's parse message without what it quotes: every PQconninfoParse message puts the offending
    token (which can be a password) in double quotes after a fixed text (fe-connect.c)."""
    head = str(exc).split('"', 1)[0].strip().rstrip(":").strip()
    return head or "unparsable"


def _misread(parsed: dict[str, Any]) -> bool:
    """libpq ends the userinfo at the first '@' or '/' (fe-connect.c conninfo_uri_parse_options), so an
    unencoded '@' or '/' in a password moves part of it into the host, port or database name."""
    host, port, dbname = (str(parsed.get(k) or "") for k in ("host", "port", "dbname"))
    if "@" in host or "@" in port or not re.fullmatch(r"[0-9,]*", port):
        return True
    return "@" in dbname and not parsed.get("user") and not parsed.get("password")


def parse_pg_dsn_options(values: Iterable[str], default_cluster: str | None) -> dict[str, str]:
    """`--pg-dsn [CLUSTER_ID=]URI` values -> {cluster id: URI}. A value starting with the scheme applies
    to `default_cluster` (the audited cluster; blue for gate). Raises UsageError: one line naming the
    cluster and the reason, never the value (it can hold a password)."""
    out: dict[str, str] = {}
    for raw in values:
        value = raw.strip()
        if value.lower().startswith(_SCHEMES):
            if not default_cluster:
                raise UsageError(
                    "--pg-dsn postgresql://...: no cluster to apply it to; write CLUSTER_ID=postgresql://..."
                )
            cluster, dsn = default_cluster, value
        elif "=" in value:
            cluster, dsn = value.split("=", 1)
            cluster, dsn = cluster.strip(), dsn.strip()
            if not _CLUSTER_ID.match(cluster):
                raise UsageError(
                    f"--pg-dsn: {_shown_id(cluster)} is not a cluster id; "
                    "expected [CLUSTER_ID=]postgresql://user@host:5432/db"
                )
            if not dsn.lower().startswith(_SCHEMES):
                raise UsageError(
                    f"--pg-dsn for {cluster}: the connection string must be a URI "
                    "starting with postgresql:// or postgres://"
                )
        else:
            # No scheme, no '=': echoed only when shaped like a cluster id (so it holds no userinfo).
            shown = f" {value}" if _CLUSTER_ID.match(value) else ""
            raise UsageError(
                f"--pg-dsn{shown}: expected [CLUSTER_ID=]postgresql://user@host:5432/db"
                + ("" if shown else " (value not shown: it may hold a password)")
            )
        try:
            parsed = conninfo_to_dict(dsn)
        except psycopg.Error as exc:
            # libpq's message quotes the bad token (possibly a password): keep only its fixed text.
            raise UsageError(
                f"--pg-dsn for {cluster}: not a valid libpq connection URI ({_libpq_reason(exc)}); "
                "percent-encode special characters in the user or password (space %20, @ %40, / %2F)"
            ) from None
        if _misread(parsed):
            raise UsageError(
                f"--pg-dsn for {cluster}: libpq would read part of the user or password as the host, port "
                "or database name; percent-encode '@' (%40) and '/' (%2F) in them"
            )
        if cluster in out:
            raise UsageError(f"--pg-dsn given twice for cluster {cluster}")
        out[cluster] = dsn
    return out


_SECRET_KEYS = ("password", "sslpassword")
_ANY_USERINFO = re.compile(r"(postgres(?:ql)?://[^:@/\s]*):\S*@", re.IGNORECASE)  # to the LAST '@'
_QUERY_SECRET = re.compile(r"([?&](?:ssl)?password=)[^&#\s]*", re.IGNORECASE)
_KW_SECRET = re.compile(r"(\b(?:ssl)?password\s*=\s*)('(?:\\.|[^'\\])*'|[^\s'&]+)", re.IGNORECASE)
_AWS_SIG = re.compile(r"(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s\"']+", re.IGNORECASE)


def describe_conninfo(params: Mapping[str, Any], *, password_marker: bool | None = None) -> str:
    """`postgresql://user[:***]@host:port/dbname?sslmode=...` from libpq's parsed keywords: built from
    what libpq will use, so no part of a password can show (the password itself is never read here)."""
    if password_marker is None:
        password_marker = any(params.get(k) for k in _SECRET_KEYS)
    user = quote(str(params.get("user") or ""), safe="")
    hosts = str(params.get("host") or params.get("hostaddr") or "").split(",")
    ports = str(params.get("port") or "").split(",")
    query: list[str] = []
    shown: list[str] = []
    for i, h in enumerate(hosts):
        port = ports[i] if i < len(ports) else ports[-1]
        if h.startswith("/"):  # a Unix-socket directory goes in the query (libpq URI syntax)
            query.append(f"host={quote(h, safe='/')}")
            continue
        h = f"[{h}]" if ":" in h else quote(h, safe=".-_~")
        shown.append(f"{h}:{port}" if port else h)
    auth = f"{user}{':***' if password_marker else ''}@" if user or password_marker else ""
    dbname = quote(str(params.get("dbname") or ""), safe="")
    if params.get("sslmode"):
        query.insert(0, f"sslmode={quote(str(params['sslmode']), safe='')}")
    return f"postgresql://{auth}{','.join(shown)}/{dbname}" + (f"?{'&'.join(query)}" if query else "")


def redact_dsn(dsn: str) -> str:
    """A DSN for display: rebuilt from what libpq parses (user, host, port, dbname, sslmode; the password
    as ***). A DSN libpq cannot parse, or would misread, is not shown at all."""
    try:
        parsed = conninfo_to_dict(dsn)
    except psycopg.Error:
        parsed = None
    if parsed is None or (dsn.lower().startswith(_SCHEMES) and _misread(parsed)):
        return "postgresql://*** (not shown: libpq cannot parse it)"
    return describe_conninfo(parsed)


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
