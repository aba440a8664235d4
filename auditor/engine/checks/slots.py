"""RS — replication slot checks, read from PostgreSQL itself (RS01–RS05).

One finding per slot (resource kind `replication-slot`, cluster = the cluster), or one per cluster
(kind `database`) when there is no slot or the in-database state could not be read.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from auditor.engine.checks._util import errored, failed, passed, skipped, skipped_because, wal_size
from auditor.engine.context import Context, error_text
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline
from auditor.models.findings import ResourceRef
from auditor.models.snapshot import BlueGreenDeployment, Cluster, DatabaseState, ReplicationSlot, Snapshot


def db_ref(c: Cluster) -> ResourceRef:
    return ResourceRef(kind="database", id=c.id, region=c.region, arn=c.arn, cluster=c.id, account=c.account)


def slot_ref(c: Cluster, s: ReplicationSlot) -> ResourceRef:
    return ResourceRef(kind="replication-slot", id=s.name, region=c.region, cluster=c.id, account=c.account)


SLOTS_QUERY = "Query pg_replication_slots"  # auditor.collect.pg_queries.OPERATION[SLOTS]


def database_or_outcome(
    ctx: Context, c: Cluster, needs: tuple[str, ...] = (), what: str = "replication slots"
) -> DatabaseState | Outcome:
    """The collected in-database state, or the error/skipped outcome that replaces every finding.

    `needs`: the query sections the caller reads (`Query pg_replication_slots`, ...). A partial collection
    leaves a failed section empty, which means "unknown", not "none": the caller gets `error`.
    `what`: what the caller checks, for the messages ("primary keys", "open transactions", ...)."""
    ref = db_ref(c)
    db = ctx.database(c)
    if db is None:
        errs = ctx.errors("Connect", region=c.region, cluster=c.id)
        why = error_text(errs) if errs else "no in-database state was collected for this cluster"
        return errored(ref, f"cannot check {what}: {why}")
    if db.status == "skipped":
        return skipped_because(
            ref,
            f"{db.reason or 'in-database checks skipped (--no-db)'}; give --pg-dsn or drop "
            f"--no-db to check {what}",
        )
    if db.status == "error":
        errs = ctx.errors("Connect", region=c.region, cluster=c.id) + [
            e
            for e in ctx.snapshot.errors
            if e.cluster == c.id and e.operation.upper().startswith(("SELECT", "SHOW"))
        ]
        why = db.reason or (error_text(errs) if errs else "collection failed")
        return errored(ref, f"cannot read PostgreSQL on {c.id}: {why}")
    failed = [e for e in ctx.snapshot.errors if e.cluster == c.id and e.operation in needs]
    if failed:
        return errored(ref, f"cannot read PostgreSQL on {c.id}: {error_text(failed)}")
    return db


def _per_slot(
    ctx: Context,
    bl_key_missing: str | None,
    judge: Callable[[Cluster, DatabaseState, ReplicationSlot], Outcome | None],
    empty_message: str,
    slot_filter: Callable[[ReplicationSlot], bool] = lambda s: True,
) -> list[Outcome]:
    out: list[Outcome] = []
    for c in ctx.targets:
        if bl_key_missing is not None:
            out.append(skipped(db_ref(c), bl_key_missing))
            continue
        got = database_or_outcome(ctx, c, needs=(SLOTS_QUERY,))
        if isinstance(got, Outcome):
            out.append(got)
            continue
        slots = [s for s in got.slots if slot_filter(s)]
        if not slots:
            out.append(passed(db_ref(c), empty_message))
            continue
        for s in slots:
            o = judge(c, got, s)
            if o is not None:
                out.append(o)
    return out


@register("inactive-logical-slots")
def inactive_logical(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(c: Cluster, db: DatabaseState, s: ReplicationSlot) -> Outcome:
        ref = slot_ref(c, s)
        if s.active:
            return passed(ref, f"logical slot {s.name} is in use (pid {s.active_pid})")
        held = f", holding {wal_size(s.retained_wal_bytes)}" if s.retained_wal_bytes else ""
        return failed(
            ref,
            f"logical slot {s.name} ({s.plugin or 'unknown plugin'}) has no consumer{held}: it pins "
            "WAL until storage fills or it is dropped",
            diff({"active": True}, {"active": False}),
        )

    return _per_slot(ctx, None, judge, "no logical replication slots", lambda s: s.slot_type == "logical")


@register("slot-retained-wal")
def retained_wal(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    budget = bl.replication_slots.max_retained_wal_bytes

    def judge(c: Cluster, db: DatabaseState, s: ReplicationSlot) -> Outcome:
        ref = slot_ref(c, s)
        assert budget is not None
        if s.retained_wal_bytes is None:
            if (s.wal_status or "") == "lost":
                return failed(
                    ref,
                    f"slot {s.name} has lost required WAL (restart_lsn is gone); it can never resume",
                    diff({"wal_status": "reserved"}, {"wal_status": "lost"}),
                )
            return passed(ref, f"slot {s.name} retains no WAL (restart_lsn is NULL)")
        if s.retained_wal_bytes <= budget:
            return passed(
                ref, f"slot {s.name} retains {s.retained_wal_bytes:,} bytes of WAL (budget {budget:,})"
            )
        return failed(
            ref,
            f"slot {s.name} retains {wal_size(s.retained_wal_bytes)}, over the budget of "
            f"{wal_size(budget)}: its consumer is behind or gone, and the WAL it pins "
            "grows storage (and cost) until it is consumed or dropped",
            diff(
                {"retained_wal_bytes": f"<= {budget}"},
                {"retained_wal_bytes": s.retained_wal_bytes},
                out_of_range=["retained_wal_bytes"],
            ),
        )

    missing = "replication_slots.max_retained_wal_bytes" if budget is None else None
    return _per_slot(ctx, missing, judge, "no replication slots, so no WAL retained by slots")


@register("slot-wal-status")
def wal_status(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    # pg_replication_slots.wal_status (PostgreSQL 13+ docs): reserved/extended are fine; unreserved means
    # the slot will lose WAL at the next checkpoint; lost means it already has and cannot be used again.
    def judge(c: Cluster, db: DatabaseState, s: ReplicationSlot) -> Outcome:
        ref = slot_ref(c, s)
        if s.wal_status is None:
            return errored(ref, f"wal_status not reported for slot {s.name} (PostgreSQL before 13?)")
        if s.wal_status in ("unreserved", "lost"):
            what = (
                "has lost WAL it needs and can never resume: drop it and rebuild its consumer"
                if s.wal_status == "lost"
                else "is past max_slot_wal_keep_size and will lose WAL at the next checkpoint"
            )
            return failed(
                ref, f"slot {s.name} {what}", diff({"wal_status": "reserved"}, {"wal_status": s.wal_status})
            )
        return passed(ref, f"slot {s.name} wal_status is {s.wal_status}")

    return _per_slot(ctx, None, judge, "no replication slots")


class ExpectedSlotParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # Blue/green statuses during which AWS keeps its own logical replication slots on blue.
    active_statuses: list[str] = Field(
        default_factory=lambda: ["PROVISIONING", "AVAILABLE", "SWITCHOVER_IN_PROGRESS"]
    )
    # Name patterns for a deployment's slots; {id} is the deployment id (bgd-...), also tried with "_".
    # AWS does not document the slot names an Aurora PostgreSQL blue/green deployment creates (the Aurora
    # User Guide, "Limitations and considerations for blue/green deployments", only says logical replication
    # is used and that slots on blue must not be touched). We found no authoritative name in AWS docs or
    # public sources, so we recognise a slot as the deployment's when its name contains the deployment id,
    # and let operators add patterns here (or in replication_slots.allowed) once they see the real names.
    deployment_slot_patterns: list[str] = Field(default_factory=lambda: ["*{id}*"])


def deployment_slots(
    deployments: tuple[BlueGreenDeployment, ...], c: Cluster, p: ExpectedSlotParams
) -> list[tuple[str, str]]:
    """(pattern, deployment id) for every active deployment whose blue or green is this cluster."""
    pats = []
    for d in deployments:
        if (d.status or "").upper() not in p.active_statuses:
            continue
        if c.id not in (d.source_cluster_id, d.target_cluster_id) and c.arn not in (
            d.source_arn,
            d.target_arn,
        ):
            continue
        for pat in p.deployment_slot_patterns:
            for form in {d.id.lower(), d.id.lower().replace("-", "_")}:
                pats.append((pat.replace("{id}", form), d.id))
    return pats


@register("expected-slots", ExpectedSlotParams)
def expected_slots(snap: Snapshot, bl: Baseline, p: ExpectedSlotParams, ctx: Context) -> list[Outcome]:
    allowed = bl.replication_slots.allowed

    def judge(c: Cluster, db: DatabaseState, s: ReplicationSlot) -> Outcome:
        ref = slot_ref(c, s)
        assert allowed is not None
        hit = next((a for a in allowed if fnmatch.fnmatchcase(s.name, a)), None)
        if hit is not None:
            return passed(ref, f"slot {s.name} is allowed by the baseline ({hit})")
        bg = next(
            (
                d
                for pat, d in deployment_slots(snap.blue_green_deployments, c, p)
                if fnmatch.fnmatchcase(s.name.lower(), pat)
            ),
            None,
        )
        if bg is not None:
            return passed(ref, f"slot {s.name} belongs to active blue/green deployment {bg}")
        return failed(
            ref,
            f"slot {s.name} ({s.slot_type}{', ' + s.plugin if s.plugin else ''}) is not in the "
            "baseline's allow-list and no active blue/green deployment owns it: find its owner, "
            "then drop it or approve it in replication_slots.allowed",
            diff({"slot": "allowed"}, {"slot": s.name}),
        )

    missing = "replication_slots.allowed" if allowed is None else None
    return _per_slot(ctx, missing, judge, "no replication slots")


@register("slot-capacity")
def slot_capacity(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    pct = bl.replication_slots.max_slot_usage_percent
    out = []
    for c in ctx.targets:
        ref = db_ref(c)
        if pct is None:
            out.append(skipped(ref, "replication_slots.max_slot_usage_percent"))
            continue
        got = database_or_outcome(ctx, c, needs=(SLOTS_QUERY, "Query pg_settings"))
        if isinstance(got, Outcome):
            out.append(got)
            continue
        raw = got.settings.get("max_replication_slots")
        try:
            cap = int(raw) if raw is not None else None
        except ValueError:
            cap = None
        if cap is None:
            out.append(errored(ref, "max_replication_slots was not read from pg_settings"))
            continue
        used = len(got.slots)
        limit = cap * pct / 100
        if cap == 0 or used < limit or (used == 0):
            out.append(passed(ref, f"{used} of {cap} replication slots in use (limit {pct:g}%)"))
        else:
            out.append(
                failed(
                    ref,
                    f"{used} of {cap} replication slots in use ({100 * used / cap:.0f}%, limit "
                    f"{pct:g}%): the next CDC pipeline or blue/green deployment may not get a slot",
                    diff({"slots_used": f"< {limit:g}"}, {"slots_used": used}, out_of_range=["slots_used"]),
                )
            )
    return out
