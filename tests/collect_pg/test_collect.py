"""The in-database collector against a real PostgreSQL 15 server: what it reads."""

from __future__ import annotations

import time

import psycopg
import pytest

from auditor.collect.postgres import DbOptions, collect_database, open_connection, parse_pg_dsn_options
from auditor.models.snapshot import DatabaseState
from tests.collect_pg.conftest import make_cluster, make_wal

pytestmark = pytest.mark.postgres

MB = 1024 * 1024
SEG = 16 * MB  # the default wal_segment_size


def collect(dsn: str, **opts: object) -> DatabaseState:
    state, errors = collect_database(make_cluster(), DbOptions(dsns={"prod-app": dsn}, **opts), None)  # type: ignore[arg-type]
    assert errors == []
    assert state.status == "collected", state.reason
    return state


def slot(state: DatabaseState, name: str):  # type: ignore[no-untyped-def]
    return next(s for s in state.slots if s.name == name)


def test_basic_collection_in_one_statement(pg, pg_dsn) -> None:
    t0 = time.perf_counter()
    state = collect(pg_dsn)
    elapsed = time.perf_counter() - t0
    assert state.queries == 1  # every section in one round trip
    assert state.server_version_num == int(pg.execute("SHOW server_version_num")[0][0])
    assert state.server_version and state.server_version.startswith(str(state.server_version_num // 10000))
    assert state.database == "postgres" and state.instance_id == "prod-app-1"
    assert state.settings["wal_level"] == "logical"
    assert state.settings["max_replication_slots"] == "10"
    assert state.settings["max_wal_senders"] == "10"
    assert "max_slot_wal_keep_size" in state.settings and "synchronous_commit" in state.settings
    assert "rds.logical_replication" not in state.settings  # absent off RDS: simply absent
    assert state.connection == pg_dsn  # no password in it to redact
    assert state.slots == () and state.oldest_transaction is None
    assert DatabaseState.model_validate_json(state.model_dump_json()) == state  # snapshot JSON round-trip
    print(f"\nMEASURE one collection: queries={state.queries} wall={elapsed * 1000:.1f} ms")


def test_reserved_slot_and_inactive(pg, pg_dsn) -> None:
    pg.execute("SELECT pg_create_logical_replication_slot('s_reserved', 'test_decoding')")
    s = slot(collect(pg_dsn), "s_reserved")
    assert (s.slot_type, s.plugin, s.database) == ("logical", "test_decoding", "postgres")
    assert s.wal_status == "reserved" and s.active is False and s.active_pid is None
    assert s.temporary is False and s.restart_lsn and s.confirmed_flush_lsn
    assert s.retained_wal_bytes is not None and 0 <= s.retained_wal_bytes < SEG


def test_extended_slot_retains_tens_of_mb(pg, pg_dsn) -> None:
    # extended: the slot holds WAL beyond max_wal_size, within max_slot_wal_keep_size (-1 = unlimited).
    pg.set_settings(max_wal_size="32MB", max_slot_wal_keep_size="-1")
    pg.execute("SELECT pg_create_logical_replication_slot('s_ext', 'test_decoding')")
    make_wal(pg, 6)
    pg.execute("CHECKPOINT")
    state = collect(pg_dsn)
    s = slot(state, "s_ext")
    after = pg.execute(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots "
        "WHERE slot_name = 's_ext'"
    )[0][0]
    assert s.wal_status == "extended"
    assert s.safe_wal_size is None  # unlimited max_slot_wal_keep_size
    assert s.retained_wal_bytes is not None and 5 * SEG <= s.retained_wal_bytes <= after
    assert state.settings["max_wal_size"] == "32" and state.settings["max_slot_wal_keep_size"] == "-1"


def test_unreserved_then_lost(pg, pg_dsn) -> None:
    # unreserved: beyond max_slot_wal_keep_size but no checkpoint has removed the WAL yet;
    # lost: a checkpoint removed it and invalidated the slot (restart_lsn becomes NULL).
    pg.set_settings(max_wal_size="1GB", max_slot_wal_keep_size="16MB")
    pg.execute("SELECT pg_create_logical_replication_slot('s_gone', 'test_decoding')")
    make_wal(pg, 4)
    s = slot(collect(pg_dsn), "s_gone")
    assert s.wal_status == "unreserved"
    assert s.safe_wal_size is not None and s.safe_wal_size < 0
    assert s.retained_wal_bytes is not None and s.retained_wal_bytes >= 3 * SEG
    pg.execute("CHECKPOINT")
    s = slot(collect(pg_dsn), "s_gone")
    assert s.wal_status == "lost"
    assert s.restart_lsn is None and s.retained_wal_bytes is None


def test_active_slot_consumed_by_pg_recvlogical(pg, pg_dsn, recvlogical) -> None:
    pg.execute(
        "SELECT pg_create_logical_replication_slot('s_active', 'test_decoding')",
        "SELECT pg_create_logical_replication_slot('s_idle', 'test_decoding')",
    )
    proc = recvlogical("s_active")
    state = collect(pg_dsn)
    active, idle = slot(state, "s_active"), slot(state, "s_idle")
    assert active.active is True and active.active_pid is not None
    assert idle.active is False and idle.active_pid is None
    consumers = [r for r in state.replication if r.slot_name == "s_active"]
    assert len(consumers) == 1
    assert consumers[0].pid == active.active_pid
    assert consumers[0].application_name == "pg_recvlogical"
    assert consumers[0].client_addr == "127.0.0.1" and consumers[0].state == "streaming"
    assert proc.poll() is None


def test_temporary_slot(pg, pg_dsn) -> None:
    with pg.connect() as holder:
        holder.execute("SELECT pg_create_logical_replication_slot('s_tmp', 'test_decoding', true)")
        assert slot(collect(pg_dsn), "s_tmp").temporary is True


def test_tables_without_pk_and_unlogged(pg, pg_dsn) -> None:
    pg.execute(
        "CREATE TABLE public.no_pk (a int, b text)",
        "INSERT INTO public.no_pk SELECT g, 'x' FROM generate_series(1, 500) g",
        "ANALYZE public.no_pk",
        "CREATE TABLE public.with_pk (id int PRIMARY KEY)",
        "CREATE TABLE public.unique_only (id int UNIQUE NOT NULL)",
        "CREATE UNLOGGED TABLE public.scratch (id int PRIMARY KEY)",
        "CREATE SCHEMA app",
        'CREATE TABLE app."Mixed Case" (x int)',
        "CREATE TEMP TABLE tmp_no_pk (x int)",
        # extension-owned tables are the extension's business (pg_depend deptype 'e')
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
        "CREATE TABLE public.ext_owned (x int)",
        "ALTER EXTENSION pg_stat_statements ADD TABLE public.ext_owned",
        "CREATE VIEW public.v AS SELECT 1 AS one",
    )
    state = collect(pg_dsn)
    no_pk = {(t.schema_name, t.name): t for t in state.tables_without_pk}
    assert set(no_pk) == {("public", "no_pk"), ("public", "unique_only"), ("app", "Mixed Case")}
    assert no_pk[("public", "no_pk")].estimated_rows == 500
    assert [(t.schema_name, t.name) for t in state.unlogged_tables] == [("public", "scratch")]
    pg.execute(
        "ALTER EXTENSION pg_stat_statements DROP TABLE public.ext_owned", "DROP EXTENSION pg_stat_statements"
    )


def test_oldest_open_transaction_without_query_text(pg, pg_dsn) -> None:
    with pg.connect(autocommit=False) as holder:
        holder.execute("SELECT 'planted-query-text-5e1b' AS secretish, txid_current()")
        time.sleep(1.2)
        state = collect(pg_dsn)
        oldest = state.oldest_transaction
        assert oldest is not None
        assert oldest.pid == holder.info.backend_pid
        assert oldest.age_s >= 1.0
        assert oldest.state == "idle in transaction" and oldest.usename == "postgres"
        assert oldest.backend_type == "client backend"
        assert "planted-query-text-5e1b" not in state.model_dump_json()


def test_publications_and_subscriptions(pg, pg_dsn) -> None:
    pg.execute(
        "CREATE TABLE public.t (id int PRIMARY KEY)",
        "CREATE PUBLICATION pub_all FOR ALL TABLES",
        "CREATE PUBLICATION pub_t FOR TABLE public.t",
    )
    pg.execute(
        "CREATE SUBSCRIPTION sub_off CONNECTION 'host=127.0.0.1 dbname=postgres password=subsecret' "
        "PUBLICATION pub_t WITH (connect = false, enabled = false, slot_name = 'sub_slot')"
    )
    try:
        state = collect(pg_dsn)
        assert [(p.name, p.all_tables) for p in state.publications] == [("pub_all", True), ("pub_t", False)]
        assert [(s.name, s.enabled, s.slot_name) for s in state.subscriptions] == [
            ("sub_off", False, "sub_slot")
        ]
        assert "subsecret" not in state.model_dump_json()
    finally:
        pg.execute("ALTER SUBSCRIPTION sub_off SET (slot_name = NONE)", "DROP SUBSCRIPTION sub_off")


def test_session_is_read_only_with_timeouts(pg, pg_dsn) -> None:
    # The DSN tries to turn read-only off: our -c comes last and wins; its other settings still win.
    dsn = pg.dsn(options="-c%20default_transaction_read_only%3Doff%20-c%20lock_timeout%3D1234")
    cluster = make_cluster()
    with open_connection(cluster, DbOptions(dsns={cluster.id: dsn}, statement_timeout_ms=4321), None) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('default_transaction_read_only', "
                "'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', "
                "'application_name')"
            ).fetchall()
        )
        assert settings == {
            "default_transaction_read_only": "on",
            "statement_timeout": "4321",
            "lock_timeout": "1234",
            "idle_in_transaction_session_timeout": "10000",
            "application_name": "aurora-audit",
        }
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE must_not_exist (id int)")
    assert pg.execute("SELECT to_regclass('public.must_not_exist') IS NULL")[0][0] is True


def test_blue_and_green_writers_on_two_servers(pg, pg_server_factory) -> None:
    green = pg_server_factory("green")
    try:
        green.execute("SELECT pg_create_logical_replication_slot('green_only', 'test_decoding')")
        pg.execute("SELECT pg_create_logical_replication_slot('blue_only', 'test_decoding')")
        dsns = parse_pg_dsn_options([pg.dsn(), f"prod-app-green-abc123={green.dsn()}"], "prod-app")
        options = DbOptions(dsns=dsns)
        blue_state, blue_errors = collect_database(make_cluster("prod-app"), options, None)
        green_state, green_errors = collect_database(make_cluster("prod-app-green-abc123"), options, None)
        assert blue_errors == green_errors == []
        assert [s.name for s in blue_state.slots] == ["blue_only"]
        assert [s.name for s in green_state.slots] == ["green_only"]
        assert green_state.cluster_id == "prod-app-green-abc123"
        assert green_state.instance_id == "prod-app-green-abc123-1"
    finally:
        green.reset()


def test_server_sees_exactly_one_statement(pg, pg_dsn) -> None:
    # Count what the server received (log_statement=all, lines tagged with application_name), not what
    # the client believes it sent: psycopg adds no hidden queries (type lookups, BEGIN) in autocommit.
    pg.set_settings(log_statement="all", log_line_prefix="[%a] ")
    log_file = pg.root / "log"
    start = log_file.stat().st_size
    state = collect(pg_dsn)
    pg.execute("SELECT 1")  # a later line, so the collector's lines are surely flushed
    with open(log_file, errors="replace") as f:
        f.seek(start)
        ours = [line for line in f if line.startswith("[aurora-audit]") and "statement:" in line]
    assert len(ours) == state.queries == 1
