"""BG — the blue/green pre-switchover gate (BG01–BG09).

Which deployments: the ones the snapshot names as `blue-green` targets (the `gate` command), else every
active deployment whose blue is an audited cluster (the `check` command). Blue is the deployment's source
cluster, green its target (role "green" in the snapshot). A deployment whose blue or green is missing
from the snapshot yields `error` findings: the gate fails closed, never passes on absent data.

Sources: Aurora User Guide "Overview of Amazon Aurora blue/green deployments", "Limitations and
considerations for Amazon Aurora blue/green deployments" (Aurora PostgreSQL uses logical replication from
blue to green; tables need a primary key or replica identity; long transactions delay switchover);
RDS API Reference "BlueGreenDeployment", "SwitchoverDetail", "BlueGreenDeploymentTask".
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from pydantic import ConfigDict

from auditor.engine import values
from auditor.engine.checks._util import errored, failed, passed, skipped, skipped_because
from auditor.engine.checks.global_db import GLOBAL_LAG_METRICS, member_cluster, member_ref, secondaries
from auditor.engine.checks.parameters import IN_SYNC, actual_value, compare_group, drift_sentence
from auditor.engine.checks.slots import (
    ExpectedSlotParams,
    database_or_outcome,
    db_ref,
    deployment_slots,
    slot_ref,
)
from auditor.engine.context import Context, cluster_ref, error_text, group_ref, instance_ref
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline, Matcher
from auditor.models.findings import DriftItem, ResourceRef
from auditor.models.snapshot import BlueGreenDeployment, Cluster, DatabaseState, ParameterGroup, Snapshot

# DescribeBlueGreenDeployments Status values after which the deployment no longer replicates.
FINISHED = frozenset({"SWITCHOVER_COMPLETED", "DELETING"})
HEALTHY_STATUS = "AVAILABLE"
HEALTHY_SWITCHOVER = "AVAILABLE"  # SwitchoverDetail.Status when the member pair is ready to switch
LOGICAL_REPLICATION = "rds.logical_replication"


# ---------------------------------------------------------------- which deployment, blue and green


def bgd_ref(d: BlueGreenDeployment) -> ResourceRef:
    return ResourceRef(
        kind="blue-green-deployment",
        id=d.id,
        region=d.region,
        cluster=d.source_cluster_id,
        account=d.account,
    )


def gate_deployments(snap: Snapshot, ctx: Context) -> list[BlueGreenDeployment | str]:
    """Deployments to gate; a bare id stands for one the snapshot names but could not describe."""
    named = [t.id for t in snap.targets if t.kind == "blue-green"]
    by_id = {d.id: d for d in snap.blue_green_deployments}
    if named:
        return [by_id.get(i, i) for i in named]
    target_ids = {(c.region, c.id) for c in ctx.targets}
    return [
        d
        for d in snap.blue_green_deployments
        if (d.region, d.source_cluster_id) in target_ids and (d.status or "").upper() not in FINISHED
    ]


class Pair:
    """One deployment with its blue and green clusters (None where not collected)."""

    def __init__(self, ctx: Context, d: BlueGreenDeployment) -> None:
        self.d = d
        self.blue = ctx.cluster_by_arn(d.source_arn or "") or ctx.cluster(d.source_cluster_id, d.region)
        self.green = ctx.cluster_by_arn(d.target_arn or "") or ctx.cluster(d.target_cluster_id, d.region)

    def missing(self) -> str | None:
        if self.blue is None:
            return f"blue cluster {self.d.source_cluster_id or self.d.source_arn} was not collected"
        if self.green is None:
            return f"green cluster {self.d.target_cluster_id or self.d.target_arn} was not collected"
        return None


def _pairs(snap: Snapshot, ctx: Context) -> list[Pair | Outcome]:
    out: list[Pair | Outcome] = []
    if not any(t.kind == "blue-green" for t in snap.targets):
        # `check`: a target whose deployments could not be listed may have one pending: error, not absent.
        for c in ctx.targets:
            errs = ctx.errors("DescribeBlueGreenDeployments", region=c.region)
            if errs:
                out.append(
                    errored(cluster_ref(c), f"blue/green deployments could not be listed: {error_text(errs)}")
                )
    for d in gate_deployments(snap, ctx):
        if isinstance(d, str):
            errs = ctx.errors("DescribeBlueGreenDeployments")
            why = error_text(errs) if errs else "it is not in the snapshot"
            out.append(errored(ResourceRef(kind="blue-green-deployment", id=d), f"deployment {d}: {why}"))
        else:
            out.append(Pair(ctx, d))
    return out


def _with_clusters(snap: Snapshot, ctx: Context, judge: Any) -> list[Outcome]:
    """Run `judge(pair) -> list[Outcome]` for each deployment whose blue and green were collected."""
    out: list[Outcome] = []
    for p in _pairs(snap, ctx):
        if isinstance(p, Outcome):
            out.append(p)
            continue
        why = p.missing()
        if why is not None:
            errs = ctx.errors("DescribeDBClusters", region=p.d.region)
            out.append(errored(bgd_ref(p.d), why + (f": {error_text(errs)}" if errs else "")))
            continue
        out.extend(judge(p))
    return out


# ---------------------------------------------------------------- BG01 status


@register("bg-deployment-status")
def deployment_status(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out: list[Outcome] = []
    for pair in _pairs(snap, ctx):
        if isinstance(pair, Outcome):
            out.append(pair)
            continue
        d = pair.d
        ref = bgd_ref(d)
        if d.status is None:
            out.append(errored(ref, "DescribeBlueGreenDeployments returned no Status"))
            continue
        expected: dict[str, Any] = {"status": HEALTHY_STATUS}
        actual: dict[str, Any] = {"status": d.status}
        for sd in d.switchover_details:
            key = f"switchover.{sd.source_member or '?'}"
            expected[key], actual[key] = HEALTHY_SWITCHOVER, sd.status
        for t in d.tasks:
            if (t.status or "").upper() == "FAILED":
                expected[f"task.{t.name}"], actual[f"task.{t.name}"] = "not FAILED", t.status
        drift = diff(expected, actual)
        if drift:
            why = [f"{x.path} is {x.actual}" for x in drift]
            detail = f" ({d.status_details})" if d.status_details else ""
            out.append(
                failed(
                    ref,
                    f"deployment {d.name or d.id} is not ready to switch over: {'; '.join(why)}{detail}",
                    drift,
                )
            )
        else:
            n = len(d.switchover_details)
            out.append(passed(ref, f"deployment is AVAILABLE; {n} switchover member pair(s) AVAILABLE"))
    return out


# ---------------------------------------------------------------- BG02/BG03 parameters, blue shown


def _shown(g: ParameterGroup | None, name: str) -> Any:
    if g is None:
        return "(not collected)"
    if name not in g.parameters:
        return None if g.complete else "(unknown)"
    return values.display(values.normalize(*actual_value(g, name)))


def _three_columns(
    ctx: Context,
    kind: str,
    green_name: str | None,
    green: Cluster,
    blue_group: ParameterGroup | None,
    matchers: dict[str, Matcher],
    what: str,
) -> Outcome:
    g = ctx.group(kind, green_name, green.region, green.account)
    ref = group_ref(kind, g, green_name or "(unknown)", green)
    if green_name is None:
        return errored(ref, f"green's {what} parameter group name was not collected")
    if g is None:
        op = "DescribeDBClusterParameters" if kind == "cluster" else "DescribeDBParameters"
        errs = ctx.errors(op, region=green.region, resource=green_name)
        why = error_text(errs) if errs else "it is not in the snapshot"
        return errored(ref, f"green {what} parameter group {green_name} could not be read: {why}")
    cmp = compare_group(g, matchers)
    if cmp.unknown:
        return errored(ref, f"{green_name} was read only partly; cannot judge {', '.join(cmp.unknown)}")
    # Three columns for the reviewer: baseline (expected), green (actual), blue (compare).
    drift = [d.model_copy(update={"compare": {"blue": _shown(blue_group, d.path)}}) for d in cmp.drift]
    if drift:
        blue_part = "; ".join(f"blue has {d.path} = {d.compare['blue']}" for d in drift[:5])
        return failed(
            ref,
            f"green's {what} parameter group {green_name}: {drift_sentence(drift)} ({blue_part}) — "
            "switching over would put this into production",
            drift,
        )
    return passed(ref, f"green's {green_name} matches the baseline on {len(matchers)} parameter(s)")


@register("bg-green-cluster-parameters")
def green_cluster_parameters(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None and pair.green is not None
        if not bl.cluster_parameters:
            return [
                skipped(
                    group_ref("cluster", None, pair.green.parameter_group or "?", pair.green),
                    "cluster_parameters",
                )
            ]
        blue_g = ctx.group("cluster", pair.blue.parameter_group, pair.blue.region, pair.blue.account)
        return [
            _three_columns(
                ctx,
                "cluster",
                pair.green.parameter_group,
                pair.green,
                blue_g,
                bl.cluster_parameters,
                "cluster",
            )
        ]

    return _with_clusters(snap, ctx, judge)


@register("bg-green-db-parameters")
def green_db_parameters(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None and pair.green is not None
        green = pair.green
        names = sorted({g.name for i in ctx.instances_of(green) for g in i.parameter_groups})
        if not names:
            return [errored(cluster_ref(green), "no DB parameter group collected for green's instances")]
        bw = ctx.writer_of(pair.blue)
        blue_name = bw.parameter_groups[0].name if bw and bw.parameter_groups else None
        blue_g = ctx.group("db", blue_name, pair.blue.region, pair.blue.account)
        if not bl.db_parameters:
            return [skipped(group_ref("db", None, n, green), "db_parameters") for n in names]
        return [_three_columns(ctx, "db", n, green, blue_g, bl.db_parameters, "DB") for n in names]

    return _with_clusters(snap, ctx, judge)


# ---------------------------------------------------------------- BG04 engine version


def version_key(v: str) -> tuple[int, ...]:
    """'16.4' -> (16, 4); Aurora versions are numeric dotted (a suffix such as '.limitless' is ignored)."""
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


@register("bg-green-engine-version")
def green_engine_version(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None and pair.green is not None
        blue_v, green_v, want = (
            pair.blue.engine_version,
            pair.green.engine_version,
            pair.d.target_engine_version,
        )
        ref = cluster_ref(pair.green)
        expected: dict[str, Any] = {}
        actual: dict[str, Any] = {}
        if want and version_key(green_v) != version_key(want):
            expected["engine_version"], actual["engine_version"] = want, green_v
        if version_key(green_v) < version_key(blue_v):
            expected["engine_version_vs_blue"], actual["engine_version_vs_blue"] = f">= {blue_v}", green_v
        drift = [x.model_copy(update={"compare": {"blue": blue_v}}) for x in diff(expected, actual)]
        target_txt = (
            f"target {want}"
            if want
            else "target unknown (pass --target-engine-version or tag the deployment "
            "aurora-audit:target-engine-version)"
        )
        if drift:
            return [
                failed(
                    ref,
                    f"green runs {green_v}, blue {blue_v}, {target_txt}: "
                    "green must run the target and never be older than blue",
                    drift,
                )
            ]
        return [passed(ref, f"green runs {green_v} (blue {blue_v}; {target_txt})")]

    return _with_clusters(snap, ctx, judge)


# ---------------------------------------------------------------- BG05 writers in-sync


@register("bg-writers-in-sync")
def writers_in_sync(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        out: list[Outcome] = []
        for side, c in (("blue", pair.blue), ("green", pair.green)):
            assert c is not None
            w = ctx.writer_of(c)
            if w is None:
                out.append(errored(cluster_ref(c), f"{side} writer instance was not collected"))
                continue
            ref = instance_ref(w, c.id)
            member = next((m for m in c.members if m.instance_id == w.id), None)
            expected: dict[str, Any] = {}
            actual: dict[str, Any] = {}
            if member is not None and member.parameter_group_status is not None:
                expected[f"cluster_parameter_group.{c.parameter_group}"] = IN_SYNC
                actual[f"cluster_parameter_group.{c.parameter_group}"] = member.parameter_group_status
            for g in w.parameter_groups:
                if g.apply_status is not None:
                    expected[f"db_parameter_group.{g.name}"], actual[f"db_parameter_group.{g.name}"] = (
                        IN_SYNC,
                        g.apply_status,
                    )
            if not expected:
                out.append(errored(ref, f"{side} writer's parameter apply status was not collected"))
                continue
            drift = diff(expected, actual)
            if drift:
                what = ", ".join(f"{x.path.split('.', 1)[1]} is {x.actual}" for x in drift)
                out.append(
                    failed(
                        ref,
                        f"{side} writer {w.id}: {what} — the settings you reviewed are not "
                        "the ones running; reboot before switching over",
                        drift,
                    )
                )
            else:
                out.append(passed(ref, f"{side} writer {w.id}: parameter groups in-sync"))
        return out

    return _with_clusters(snap, ctx, judge)


# ---------------------------------------------------------------- in-database helpers


def _section_error(ctx: Context, c: Cluster, operation: str) -> str | None:
    errs = [e for e in ctx.snapshot.errors if e.cluster == c.id and e.operation == operation]
    return error_text(errs) if errs else None


def _db(ctx: Context, c: Cluster) -> DatabaseState | Outcome:
    return database_or_outcome(ctx, c)


# ---------------------------------------------------------------- BG06 primary keys on blue


@register("bg-blue-primary-keys")
def blue_primary_keys(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None
        got = _db(ctx, pair.blue)
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

    return _with_clusters(snap, ctx, judge)


# ---------------------------------------------------------------- BG07 long transactions on blue


@register("bg-blue-long-transactions")
def blue_long_transactions(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    budget = bl.blue_green.max_transaction_age_s

    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None
        ref = db_ref(pair.blue)
        if budget is None:
            return [skipped(ref, "blue_green.max_transaction_age_s")]
        got = _db(ctx, pair.blue)
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

    return _with_clusters(snap, ctx, judge)


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


def _mib(n: int | None) -> str:
    return "unknown WAL" if n is None else f"{n / 2**20:,.1f} MiB of WAL"


@register("bg-orphan-slots", OrphanSlotParams)
def orphan_slots(snap: Snapshot, bl: Baseline, p: OrphanSlotParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        out: list[Outcome] = []
        for side, c in (("blue", pair.blue), ("green", pair.green)):
            assert c is not None
            got = _db(ctx, c)
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
                        f"{state}) retains {_mib(s.retained_wal_bytes)}: it is not the deployment's own and "
                        "will keep pinning WAL after switchover — drop it or move its consumer first",
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

    return _with_clusters(snap, ctx, judge)


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
    shown = _shown(gg, LOGICAL_REPLICATION)
    problems: list[DriftItem] = []
    if matcher is not None:
        if not values.matches(matcher, v, dt):
            problems.append(
                DriftItem(
                    path=LOGICAL_REPLICATION,
                    expected=values.describe(matcher, dt),
                    actual=shown,
                    compare={"blue": _shown(bg, LOGICAL_REPLICATION)},
                )
            )
    elif shown != _shown(bg, LOGICAL_REPLICATION):
        problems.append(
            DriftItem(
                path=LOGICAL_REPLICATION,
                expected=_shown(bg, LOGICAL_REPLICATION),
                actual=shown,
                compare={"blue": _shown(bg, LOGICAL_REPLICATION)},
            )
        )
    note = ""
    db = ctx.database(green)
    if db is None or db.status == "error":
        return errored(
            ref, f"green's replication slots could not be read: {db.reason if db else 'not collected'}"
        )
    if db.status == "skipped":
        note = " (slots not checked: in-database checks skipped)"
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
        return failed(
            ref,
            f"after switchover green would pin WAL while the Global Database replicates: {what}",
            problems,
        )
    return passed(ref, f"green cannot pin WAL: {LOGICAL_REPLICATION} = {shown}, no orphan slot{note}")


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

    return _with_clusters(snap, ctx, judge)
