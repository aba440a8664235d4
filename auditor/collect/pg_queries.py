"""SQL the in-database collector runs, gated by server_version_num (PostgreSQL 11-17).

Each section is one SELECT that returns a single `json` value (a JSON array of row objects), so the
happy path sends every section in ONE statement (one round trip); when that statement fails, the
collector re-runs the sections one by one so a single unreadable catalog (permission denied, a lock
that hits statement_timeout) costs only its own section. Only catalog views that PUBLIC can read are
used; no query text is ever selected from pg_stat_activity (it may hold secrets).

Column availability, from the PostgreSQL documentation of each view ("System Views" chapter):
- pg_replication_slots.temporary: 10+; wal_status and safe_wal_size: 13+.
- pg_stat_replication.replay_lag: 10+; pg_stat_activity.backend_type: 10+.
- pg_current_wal_lsn()/pg_wal_lsn_diff(): 10+ (pg_current_xlog_location before). Both raise
  "recovery is in progress" on a standby, so the current position comes from pg_last_wal_receive_lsn()
  there (the DSN may point at a reader).
- pg_subscription: shared catalog; PUBLIC may read only some columns (subconninfo holds a password),
  and a hardened database may revoke even those -> permission denied is an expected, recorded outcome.
"""

from __future__ import annotations

# Section keys double as the `Query <what>` in CollectionError.operation (see OPERATION below).
SERVER = "server"
SLOTS = "slots"
REPLICATION = "replication"
SETTINGS = "settings"
OLDEST_XACT = "oldest_transaction"
NO_PK = "tables_without_pk"
UNLOGGED = "unlogged_tables"
PUBLICATIONS = "publications"
SUBSCRIPTIONS = "subscriptions"

SECTIONS: tuple[str, ...] = (
    SERVER,
    SLOTS,
    REPLICATION,
    SETTINGS,
    OLDEST_XACT,
    NO_PK,
    UNLOGGED,
    PUBLICATIONS,
    SUBSCRIPTIONS,
)

# What a CollectionError names as its operation when a section cannot be read.
OPERATION: dict[str, str] = {
    SERVER: "Query server version",
    SLOTS: "Query pg_replication_slots",
    REPLICATION: "Query pg_stat_replication",
    SETTINGS: "Query pg_settings",
    OLDEST_XACT: "Query pg_stat_activity",
    NO_PK: "Query tables without primary key",
    UNLOGGED: "Query unlogged tables",
    PUBLICATIONS: "Query pg_publication",
    SUBSCRIPTIONS: "Query pg_subscription",
}

# Settings read from pg_settings (absent ones, e.g. rds.* off RDS, are simply absent).
# Values are pg_settings.setting, i.e. in the setting's base unit (max_slot_wal_keep_size,
# max_wal_size and wal_keep_size in MB; -1 = unlimited).
SETTING_NAMES: tuple[str, ...] = (
    "wal_level",
    "max_replication_slots",
    "max_wal_senders",
    "max_slot_wal_keep_size",
    "max_wal_size",
    "wal_keep_size",  # 13+
    "wal_keep_segments",  # before 13
    "synchronous_commit",
    "rds.logical_replication",
    "server_version_num",
)

# At most this many tables per table list: one is enough to fail a rule, thousands would bloat
# the snapshot. The collector logs when a list is cut.
TABLE_LIMIT = 1000

_CURRENT_LSN = "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END"

_USER_TABLES = """
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%'
      AND n.nspname NOT LIKE 'pg\\_temp\\_%'
      AND c.relpersistence <> 't'
      -- extension-owned tables (pg_depend deptype 'e') are the extension's business
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_class'::regclass
                        AND d.objid = c.oid AND d.deptype = 'e')
"""


def _agg(select: str) -> str:
    """Wrap a row-returning SELECT so it yields one json array ('[]' when empty)."""
    return f"(SELECT coalesce(json_agg(q), '[]'::json) FROM ({select}) q)"


def section_sql(section: str, version_num: int) -> str:
    """A scalar-subquery expression returning the section's rows as a json array."""
    if section == SERVER:
        return _agg(
            "SELECT current_setting('server_version') AS server_version, "
            "current_setting('server_version_num')::int AS server_version_num, "
            "current_database() AS database, pg_is_in_recovery() AS in_recovery"
        )
    if section == SLOTS:
        temporary = "temporary" if version_num >= 100000 else "NULL::boolean"
        wal_status = "wal_status" if version_num >= 130000 else "NULL::text"
        safe = "safe_wal_size" if version_num >= 130000 else "NULL::bigint"
        return _agg(
            "SELECT slot_name::text AS name, slot_type, plugin::text AS plugin, database::text AS database, "
            f"active, active_pid, {temporary} AS temporary, {wal_status} AS wal_status, "
            f"{safe} AS safe_wal_size, restart_lsn::text AS restart_lsn, "
            "confirmed_flush_lsn::text AS confirmed_flush_lsn, "
            # retained WAL computed by the server (AWS: "Logical replication slots ... restart_lsn")
            f"pg_wal_lsn_diff({_CURRENT_LSN}, restart_lsn)::bigint AS retained_wal_bytes "
            "FROM pg_catalog.pg_replication_slots ORDER BY slot_name"
        )
    if section == REPLICATION:
        return _agg(
            "SELECT r.pid, r.application_name, host(r.client_addr) AS client_addr, r.state, r.sync_state, "
            "(SELECT s.slot_name::text FROM pg_catalog.pg_replication_slots s "
            " WHERE s.active_pid = r.pid LIMIT 1) AS slot_name, "
            "extract(epoch FROM r.replay_lag)::float8 AS replay_lag_s "
            "FROM pg_catalog.pg_stat_replication r ORDER BY r.pid"
        )
    if section == SETTINGS:
        names = ", ".join(f"'{n}'" for n in SETTING_NAMES)
        return _agg(f"SELECT name, setting FROM pg_catalog.pg_settings WHERE name IN ({names}) ORDER BY name")
    if section == OLDEST_XACT:
        backend_type = "backend_type" if version_num >= 100000 else "NULL::text"
        # No `query` column on purpose: statement text may contain secrets.
        return _agg(
            "SELECT pid, extract(epoch FROM (clock_timestamp() - xact_start))::float8 AS age_s, state, "
            f"application_name, usename::text AS usename, {backend_type} AS backend_type "
            "FROM pg_catalog.pg_stat_activity "
            "WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 1"
        )
    if section == NO_PK:
        return _agg(
            "SELECT n.nspname::text AS schema_name, c.relname::text AS name, "
            "CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS estimated_rows "
            f"{_USER_TABLES} "
            "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
            "WHERE i.indrelid = c.oid AND i.indisprimary) "
            f"ORDER BY 1, 2 LIMIT {TABLE_LIMIT + 1}"
        )
    if section == UNLOGGED:
        return _agg(
            "SELECT n.nspname::text AS schema_name, c.relname::text AS name, "
            "CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS estimated_rows "
            f"{_USER_TABLES} AND c.relpersistence = 'u' "
            f"ORDER BY 1, 2 LIMIT {TABLE_LIMIT + 1}"
        )
    if section == PUBLICATIONS:
        return _agg(
            "SELECT pubname::text AS name, puballtables AS all_tables "
            "FROM pg_catalog.pg_publication ORDER BY pubname"
        )
    if section == SUBSCRIPTIONS:
        # Only columns granted to PUBLIC (never subconninfo, which can hold a password).
        return _agg(
            "SELECT subname::text AS name, subenabled AS enabled, subslotname::text AS slot_name "
            "FROM pg_catalog.pg_subscription ORDER BY subname"
        )
    raise ValueError(f"unknown section {section!r}")


def combined_sql(version_num: int) -> str:
    """Every section in one statement: one row, one json column per section."""
    cols = ",\n  ".join(f"{section_sql(s, version_num)} AS {s}" for s in SECTIONS)
    return f"SELECT\n  {cols}"


def single_sql(section: str, version_num: int) -> str:
    return f"SELECT {section_sql(section, version_num)} AS {section}"
