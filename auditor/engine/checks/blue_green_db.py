"""BG06–BG09 — the in-database and downstream half of the blue/green gate (see checks/blue_green.py).

In-database state comes from each writer (PostgreSQL docs: pg_replication_slots, pg_stat_activity,
pg_subscription). Aurora PostgreSQL blue/green replicates blue -> green with logical replication (Aurora User
Guide, "Limitations and considerations for Amazon Aurora blue/green deployments"): tables need a primary key,
long transactions on blue delay switchover, and any slot that is not the deployment's own pins WAL.
"""

from __future__ import annotations

import fnmatch

from pydantic import ConfigDict

from auditor.engine import values
from auditor.engine.checks._util import errored, failed, passed, skipped, skipped_because, wal_size
from auditor.engine.checks.blue_green import LOGICAL_REPLICATION, Pair, bgd_ref, shown_value, with_clusters
from auditor.engine.checks.global_db import GLOBAL_LAG_METRICS, member_cluster, member_ref, secondaries
from auditor.engine.checks.parameters import actual_value
from auditor.engine.checks.slots import (
    SLOTS_QUERY,
    ExpectedSlotParams,
    database_or_outcome,
    db_ref,
    deployment_slots,
    slot_ref,
)
from auditor.engine.context import Context, cluster_ref, error_text
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline
from auditor.models.findings import DriftItem
from auditor.models.snapshot import Cluster, Snapshot

# ---------------------------------------------------------------- in-database helpers


def _section_error(ctx: Context, c: Cluster, operation: str) -> str | None:
    errs = [e for e in ctx.snapshot.errors if e.cluster == c.id and e.operation == operation]
    return error_text(errs) if errs else None


# ---------------------------------------------------------------- BG06 primary keys on blue


@register("bg-blue-primary-keys")
def blue_primary_keys(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None
        got = database_or_outcome(ctx, pair.blue, what="primary keys")
        if isinstance(got, Outcome):
            return [got]
        ref = db_ref(pair.blue)
        err = _section_error(ctx, pair.blue, "Query tables without primary key")
        if err:
            return [errored(ref, f"tables without a primary key could not be listed: {err}")]
        tables = [f"{t.schema_name}.{t.name}" for t in got.tables_without_pk]
        if not tables:
            return [passed(ref, "every user table on blue has a primary key")]
        shown = ", ".join(tables[:10]) + (f" (and {len(tables) - 10} more)" if len(tables) > 10 else "")
        return [
            failed(
                ref,
                f"{len(tables)} table(s) on blue have no primary key: {shown} — logical replication to green "
                "cannot apply their UPDATEs and DELETEs",
                diff({"tables_without_primary_key": []}, {"tables_without_primary_key": tables}),
            )
        ]

    return with_clusters(snap, ctx, judge)


# ---------------------------------------------------------------- BG07 long transactions on blue


@register("bg-blue-long-transactions")
def blue_long_transactions(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    budget = bl.blue_green.max_transaction_age_s

    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None
        ref = db_ref(pair.blue)
        if budget is None:
            return [skipped(ref, "blue_green.max_transaction_age_s")]
        got = database_or_outcome(ctx, pair.blue, what="open transactions")
        if isinstance(got, Outcome):
            return [got]
        err = _section_error(ctx, pair.blue, "Query pg_stat_activity")
        if err:
            return [errored(ref, f"open transactions could not be read: {err}")]
        t = got.oldest_transaction
        if t is None or t.age_s <= budget:
            age = "no open transaction" if t is None else f"oldest transaction {t.age_s:.0f} s"
            return [passed(ref, f"{age} (budget {budget:g} s)")]
        who = ", ".join(
            x for x in (f"pid {t.pid}" if t.pid else "", t.usename or "", t.application_name or "") if x
        )
        return [
            failed(
                ref,
                f"a transaction on blue has been open {t.age_s:.0f} s ({who}), over the {budget:g} s budget: "
                "switchover waits for it (and times out)",
                diff(
                    {"oldest_transaction_age_s": f"<= {budget:g}"},
                    {"oldest_transaction_age_s": round(t.age_s)},
                    out_of_range=["oldest_transaction_age_s"],
                ),
            )
        ]

    return with_clusters(snap, ctx, judge)


# ---------------------------------------------------------------- BG08 orphan slots


class OrphanSlotParams(ExpectedSlotParams):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # A slot on blue named by a subscription on green's writer is the deployment's own replication
    # (Aurora PostgreSQL blue/green replicates blue -> green with logical replication).
    trust_green_subscriptions: bool = True


def own_slot(pair: Pair, c: Cluster, slot_name: str, p: OrphanSlotParams, ctx: Context) -> bool:
    """Whether `slot_name` on cluster `c` belongs to the deployment itself.

    AWS does not document the names of the slots a blue/green deployment creates (see RS04's params), so
    two signals are used: the name contains the deployment id (RS04's `deployment_slot_patterns`), or —
    on blue — a subscription on green's writer uses the slot.
    """
    name = slot_name.lower()
    for pat, _ in deployment_slots((pair.d,), c, p):
        if fnmatch.fnmatchcase(name, pat):
            return True
    if (
        p.trust_green_subscriptions
        and pair.green is not None
        and pair.blue is not None
        and c.id == pair.blue.id
    ):
        gdb = ctx.database(pair.green)
        if gdb is not None and gdb.status == "collected":
            return any(s.slot_name == slot_name for s in gdb.subscriptions)
    return False


@register("bg-orphan-slots", OrphanSlotParams)
def orphan_slots(snap: Snapshot, bl: Baseline, p: OrphanSlotParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        out: list[Outcome] = []
        for side, c in (("blue", pair.blue), ("green", pair.green)):
            assert c is not None
            got = database_or_outcome(ctx, c)
            if isinstance(got, Outcome):
                out.append(got)
                continue
            err = _section_error(ctx, c, "Query pg_replication_slots")
            if err:
                out.append(errored(db_ref(c), f"replication slots on {side} could not be read: {err}"))
                continue
            if not got.slots:
                out.append(passed(db_ref(c), f"no replication slot on {side}"))
                continue
            for s in got.slots:
                ref = slot_ref(c, s)
                if own_slot(pair, c, s.name, p, ctx):
                    out.append(passed(ref, f"slot {s.name} on {side} belongs to deployment {pair.d.id}"))
                    continue
                state = "active" if s.active else "inactive"
                plugin = f", {s.plugin}" if s.plugin else ""
                out.append(
                    failed(
                        ref,
                        f"orphan slot {s.name} on {side} ({s.slot_type}{plugin}, "
                        f"{state}) retains {wal_size(s.retained_wal_bytes)}: it is not the deployment's own "
                        "and will keep pinning WAL after switchover — drop it or move its consumer first",
                        [
                            DriftItem(
                                path=f"{side}.slot.{s.name}",
                                expected="(none)",
                                actual=s.name,
                                change="added",
                                compare={"retained_wal_bytes": s.retained_wal_bytes, "active": s.active},
                            )
                        ],
                    )
                )
        return out

    return with_clusters(snap, ctx, judge)


# ---------------------------------------------------------------- BG09 downstream Global Database


def _logical_replication_outcome(ctx: Context, bl: Baseline, pair: Pair, p: OrphanSlotParams) -> Outcome:
    """Green's settings must not pin WAL: no orphan slot, rds.logical_replication only as approved."""
    assert pair.blue is not None and pair.green is not None
    green, blue = pair.green, pair.blue
    ref = cluster_ref(green)
    gg = ctx.group("cluster", green.parameter_group, green.region, green.account)
    bg = ctx.group("cluster", blue.parameter_group, blue.region, blue.account)
    if gg is None:
        return errored(ref, f"green's cluster parameter group {green.parameter_group} was not collected")
    matcher = (bl.cluster_parameters or {}).get(LOGICAL_REPLICATION)
    v, dt = actual_value(gg, LOGICAL_REPLICATION)
    shown = shown_value(gg, LOGICAL_REPLICATION)
    problems: list[DriftItem] = []
    if matcher is not None:
        if not values.matches(matcher, v, dt):
            problems.append(
                DriftItem(
                    path=LOGICAL_REPLICATION,
                    expected=values.describe(matcher, dt),
                    actual=shown,
                    compare={"blue": shown_value(bg, LOGICAL_REPLICATION)},
                )
            )
    elif shown != shown_value(bg, LOGICAL_REPLICATION):
        problems.append(
            DriftItem(
                path=LOGICAL_REPLICATION,
                expected=shown_value(bg, LOGICAL_REPLICATION),
                actual=shown,
                compare={"blue": shown_value(bg, LOGICAL_REPLICATION)},
            )
        )
    unchecked = ""  # why green's slots were not read, when in-database checks were skipped
    db = ctx.database(green)
    if db is None or db.status == "error":
        return errored(
            ref, f"green's replication slots could not be read: {db.reason if db else 'not collected'}"
        )
    slots_err = _section_error(ctx, green, SLOTS_QUERY)
    if db.status == "collected" and slots_err:  # a failed section leaves `slots` empty: unknown, not none
        return errored(ref, f"green's replication slots could not be read: {slots_err}")
    if db.status == "skipped":
        unchecked = db.reason or "in-database checks skipped"
    else:
        for s in db.slots:
            if not own_slot(pair, green, s.name, p, ctx):
                problems.append(
                    DriftItem(
                        path=f"green.slot.{s.name}",
                        expected="(none)",
                        actual=s.name,
                        change="added",
                        compare={"retained_wal_bytes": s.retained_wal_bytes},
                    )
                )
    if problems:
        what = "; ".join(f"{x.path} = {x.actual}" for x in problems)
        note = f" (slots not checked: {unchecked})" if unchecked else ""
        return failed(
            ref,
            f"after switchover green would pin WAL while the Global Database replicates: {what}{note}",
            problems,
        )
    if unchecked:
        # Half a verdict is not a pass: the parameter half was verified, the slot half was not.
        return skipped_because(
            ref,
            f"only half verified: green's parameters cannot make it pin WAL ({LOGICAL_REPLICATION} = "
            f"{shown}), but green's replication slots were not checked ({unchecked}) — give green a "
            "--pg-dsn (or drop --no-db) to rule out an orphan slot",
        )
    return passed(ref, f"green cannot pin WAL: {LOGICAL_REPLICATION} = {shown}, no orphan slot")


@register("bg-downstream-global", OrphanSlotParams)
def downstream_global(snap: Snapshot, bl: Baseline, p: OrphanSlotParams, ctx: Context) -> list[Outcome]:
    budget = bl.global_database.max_lag_ms

    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None
        g = ctx.global_cluster_of(pair.blue)
        if g is None:
            if pair.blue.global_cluster_id:
                errs = ctx.errors("DescribeGlobalClusters", region=pair.blue.region)
                why = error_text(errs) if errs else "it is not in the snapshot"
                return [
                    errored(
                        cluster_ref(pair.blue),
                        f"Global Database {pair.blue.global_cluster_id} could not be read: {why}",
                    )
                ]
            return [skipped_because(bgd_ref(pair.d), "blue is not in a Global Database: nothing downstream")]
        out: list[Outcome] = []
        for m in secondaries(g):
            c = member_cluster(ctx, m)
            ref = member_ref(g, m, c)
            if m.synchronization_status is None:
                out.append(errored(ref, "SynchronizationStatus was not returned for this secondary"))
                continue
            if m.synchronization_status != "connected":
                out.append(
                    failed(
                        ref,
                        f"secondary {m.cluster_id} in {m.region} is {m.synchronization_status}: "
                        "switching over now would leave it behind",
                        diff(
                            {"synchronization_status": "connected"},
                            {"synchronization_status": m.synchronization_status},
                        ),
                    )
                )
                continue
            if budget is None:
                out.append(
                    passed(
                        ref,
                        f"secondary in {m.region} is connected (lag not checked: set "
                        "global_database.max_lag_ms)",
                    )
                )
                continue
            vals = (
                [x.value for x in ctx.metrics_of(c, *GLOBAL_LAG_METRICS) if x.value is not None] if c else []
            )
            if not vals:
                out.append(
                    errored(
                        ref,
                        f"cross-region lag of {m.cluster_id} unknown: no "
                        "AuroraGlobalDBReplicationLag datapoints",
                    )
                )
                continue
            worst = max(vals)
            if worst > budget:
                out.append(
                    failed(
                        ref,
                        f"secondary in {m.region} lags {worst:g} ms, over the {budget:g} ms budget",
                        diff(
                            {"global_lag_ms": f"<= {budget:g}"},
                            {"global_lag_ms": worst},
                            out_of_range=["global_lag_ms"],
                        ),
                    )
                )
            else:
                out.append(
                    passed(
                        ref, f"secondary in {m.region} is connected, lag {worst:g} ms (budget {budget:g} ms)"
                    )
                )
        out.append(_logical_replication_outcome(ctx, bl, pair, p))
        return out

    return with_clusters(snap, ctx, judge)
