"""PG — parameter group checks (PG01–PG05), plus the comparison helper BG and GD checks reuse."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from auditor.engine import formulas, values
from auditor.engine.checks._util import errored, failed, needs_instances, passed, skipped
from auditor.engine.context import Context, cluster_ref, error_text, group_ref, instance_ref
from auditor.engine.drift import diff
from auditor.engine.instance_classes import Sizing, sizing
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline, Matcher
from auditor.models.findings import DriftItem
from auditor.models.snapshot import Cluster, Instance, ParameterGroup, Snapshot

IN_SYNC = "in-sync"


@dataclass
class GroupComparison:
    drift: list[DriftItem] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # names absent from an incomplete group
    shown: dict[str, Any] = field(default_factory=dict)  # actual side per name, as shown in drift
    notes: list[str] = field(default_factory=list)  # e.g. a formula that could not be evaluated


def actual_value(g: ParameterGroup, name: str) -> tuple[Any, str | None]:
    p = g.parameters.get(name)
    if p is None:
        return None, None
    v = p.value if p.value is not None else p.raw_value
    return v, p.data_type


def group_sizings(ctx: Context, g: ParameterGroup) -> list[Sizing]:
    """The distinct instance classes a group applies to: a cluster group → every instance of the
    clusters using it; a DB group → the instances naming it."""
    by_key = {(c.account, c.region, c.id): c for c in ctx.snapshot.clusters}
    if g.kind == "cluster":
        insts = [
            i
            for c in ctx.snapshot.clusters
            if c.parameter_group == g.name and c.region == g.region and c.account == g.account
            for i in ctx.instances_of(c)
        ]
    else:
        insts = [
            i
            for i in ctx.snapshot.instances
            if i.region == g.region
            and i.account == g.account
            and any(r.name == g.name for r in i.parameter_groups)
        ]
    out: dict[Sizing, None] = {}
    for i in insts:
        c = by_key.get((i.account, i.region, i.cluster_id or ""))
        acu = c.serverless_v2.max_capacity if c is not None and c.serverless_v2 is not None else None
        out[sizing(i.instance_class, acu)] = None
    return sorted(out, key=lambda s: s.instance_class)


def _numeric(m: Matcher) -> bool:
    return m.min is not None or m.max is not None or (m.is_exact and values.as_number(m.eq) is not None)


def _formula_verdict(
    name: str, text: str, m: Matcher, dt: str | None, sizings: list[Sizing]
) -> tuple[bool, Any, str | None]:
    """(matches, shown actual, note) for a formula value judged on every instance class it applies to.

    Worst case decides: the smallest value for `min`, the largest for `max`, all for an exact number.
    Any class that cannot be evaluated keeps today's verdict (not a match, the formula shown as text)."""
    if not sizings:
        return False, text, f"{name} is a formula and no instance using the group was collected"
    evaluated: list[tuple[int, Sizing]] = []
    for s in sizings:
        v = formulas.evaluate(text, s.memory_bytes, s.vcpu)
        if v is None:
            why = "" if s.memory_bytes is None and s.vcpu is None else " (unsupported function or variable)"
            return False, text, f"{name}: the formula {text} could not be evaluated for class {s.label}{why}"
        evaluated.append((v, s))
    bad = [(v, s) for v, s in evaluated if not values.matches(m, v, dt)]
    pool = bad or evaluated
    if m.min is not None:
        v, s = min(pool, key=lambda e: e[0])
    elif m.max is not None:
        v, s = max(pool, key=lambda e: e[0])
    else:
        v, s = pool[0]
    return not bad, f"{text} ≈ {v} on {s.label}", None


def compare_group(
    g: ParameterGroup, matchers: dict[str, Matcher], ctx: Context | None = None
) -> GroupComparison:
    """Baseline matchers vs a group's values, typed as the engine types them; drift via deepdiff.

    With `ctx`, a formula value (RDS engine defaults such as `LEAST({DBInstanceClassMemory/9531392},5000)`)
    under a numeric matcher is evaluated for the instance classes the group applies to (≈: total class
    memory stands in for DBInstanceClassMemory, see instance_classes.py)."""
    res = GroupComparison()
    expected: dict[str, Any] = {}
    actual: dict[str, Any] = {}
    ranged: list[str] = []
    sizings: list[Sizing] | None = None
    for name, m in sorted(matchers.items()):
        if name not in g.parameters and not g.complete:
            res.unknown.append(name)
            continue
        v, dt = actual_value(g, name)
        shown = None if v is None else values.display(values.normalize(v, dt))
        if ctx is not None and formulas.is_formula(v) and _numeric(m):
            sizings = group_sizings(ctx, g) if sizings is None else sizings
            ok, shown, note = _formula_verdict(name, str(v), m, dt, sizings)
            if note:
                res.notes.append(note)
        else:
            ok = values.matches(m, v, dt)
        expected[name] = shown if ok else values.describe(m, dt)
        actual[name] = shown
        res.shown[name] = shown
        if not m.is_exact:
            ranged.append(name)
    res.drift = diff(expected, actual, out_of_range=ranged)
    return res


def drift_sentence(drift: list[DriftItem], baseline_word: str = "the approved baseline says") -> str:
    parts = []
    for d in drift[:5]:
        act = "not set" if d.actual is None else f"{d.actual}"
        parts.append(f"{d.path} is {act}, {baseline_word} {d.expected}")
    more = f" (and {len(drift) - 5} more)" if len(drift) > 5 else ""
    return "; ".join(parts) + more


def _group_outcome(
    ctx: Context, kind: str, name: str | None, c: Cluster, matchers: dict[str, Matcher], what: str
) -> Outcome:
    g = ctx.group(kind, name, c.region, c.account)
    ref = group_ref(kind, g, name or "(unknown)", c)
    if name is None:
        return errored(ref, f"the {what} parameter group name was not collected")
    if g is None:
        op = "DescribeDBClusterParameters" if kind == "cluster" else "DescribeDBParameters"
        errs = ctx.errors(op, region=c.region, resource=name) or ctx.errors(op, region=c.region, cluster=c.id)
        why = error_text(errs) if errs else "it is not in the snapshot"
        return errored(ref, f"{what} parameter group {name} could not be read: {why}")
    cmp = compare_group(g, matchers, ctx)
    if cmp.unknown:
        return errored(
            ref,
            f"{name} was read only partly (a page failed); cannot judge "
            f"{', '.join(cmp.unknown)} — re-run the audit",
        )
    if cmp.drift:
        notes = "".join(f" ({n})" for n in cmp.notes)
        return failed(ref, drift_sentence(cmp.drift) + notes, cmp.drift)
    if len(matchers) == 1:
        (pname,) = matchers
        return passed(ref, f"{pname} is {cmp.shown.get(pname)} in {name}, as the baseline says")
    return passed(ref, f"{name} matches the baseline on {len(matchers)} parameters")


@register("cluster-parameters-baseline")
def cluster_parameters(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out = []
    for c in ctx.targets:
        if not bl.cluster_parameters:
            out.append(
                skipped(group_ref("cluster", None, c.parameter_group or c.id, c), "cluster_parameters")
            )
            continue
        out.append(_group_outcome(ctx, "cluster", c.parameter_group, c, bl.cluster_parameters, "cluster"))
    return out


@register("db-parameters-baseline")
@needs_instances
def db_parameters(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out = []
    for c in ctx.targets:
        names = sorted({g.name for i in ctx.instances_of(c) for g in i.parameter_groups})
        if not names:
            out.append(errored(cluster_ref(c), "no DB parameter group collected for any instance"))
            continue
        for name in names:
            if not bl.db_parameters:
                out.append(skipped(group_ref("db", None, name, c), "db_parameters"))
            else:
                out.append(_group_outcome(ctx, "db", name, c, bl.db_parameters, "DB"))
    return out


def apply_status_drift(c: Cluster, i: Instance) -> tuple[list[DriftItem], str] | None:
    """An instance's parameter groups vs in-sync: (drift, "cluster parameter group X is pending-reboot,
    DB parameter group Y is applying"), or None when no status was collected.

    DBClusterMembers[].DBClusterParameterGroupStatus (cluster group) and
    DBParameterGroups[].ParameterApplyStatus (DB groups) — RDS API Reference. A default cluster group and
    a default DB group share a name (default.aurora-postgresql16), so the sentence names each one's kind."""
    member = next((m for m in c.members if m.instance_id == i.id), None)
    expected: dict[str, Any] = {}
    actual: dict[str, Any] = {}
    label: dict[str, str] = {}
    if member is not None and member.parameter_group_status is not None:
        path = f"cluster_parameter_group.{c.parameter_group}"
        expected[path], actual[path] = IN_SYNC, member.parameter_group_status
        label[path] = f"cluster parameter group {c.parameter_group}"
    for g in i.parameter_groups:
        if g.apply_status is not None:
            path = f"db_parameter_group.{g.name}"
            expected[path], actual[path] = IN_SYNC, g.apply_status
            label[path] = f"DB parameter group {g.name}"
    if not expected:
        return None
    drift = diff(expected, actual)
    return drift, ", ".join(f"{label.get(d.path, d.path)} is {d.actual}" for d in drift)


@register("parameter-apply-status")
@needs_instances
def apply_status(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out = []
    for c in ctx.targets:
        for i in ctx.instances_of(c):
            ref = instance_ref(i, c.id)
            status = apply_status_drift(c, i)
            if status is None:
                out.append(
                    errored(
                        ref, "neither DBClusterParameterGroupStatus nor ParameterApplyStatus was collected"
                    )
                )
                continue
            drift, states = status
            if drift:
                out.append(
                    failed(
                        ref,
                        f"{states} on {i.id}: the change is not live and never applies by itself — "
                        "reboot the instance (failover first for the writer) in a window",
                        drift,
                    )
                )
            else:
                out.append(passed(ref, "parameter groups are in-sync"))
    return out


@register("member-parameter-consistency")
@needs_instances
def member_consistency(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        insts = ctx.instances_of(c)
        by_inst = {i.id: tuple(sorted(g.name for g in i.parameter_groups)) for i in insts}
        if not insts or not any(by_inst.values()):
            out.append(errored(ref, "no DB parameter groups collected for the cluster's instances"))
            continue
        writer = ctx.writer_of(c) or insts[0]
        ref_groups = by_inst[writer.id]
        odd = {iid: gs for iid, gs in by_inst.items() if gs != ref_groups}
        if not odd:
            out.append(passed(ref, f"all {len(insts)} instances use {', '.join(ref_groups)}"))
            continue
        expected = {f"{iid}.db_parameter_group": ",".join(ref_groups) for iid in odd}
        actual = {f"{iid}.db_parameter_group": ",".join(gs) for iid, gs in odd.items()}
        drift = diff(expected, actual)
        # Show how the odd groups' values differ from the writer's (what a failover would change).
        wg = ctx.group("db", ref_groups[0], c.region, c.account) if ref_groups else None
        for gs in sorted({gs for gs in odd.values()}):
            og = ctx.group("db", gs[0], c.region, c.account) if gs else None
            if wg is not None and og is not None:
                wv = {
                    k: values.display(values.normalize(*actual_value(wg, k)))
                    for k in wg.parameters
                    if wg.parameters[k].source == "user"
                }
                ov = {
                    k: values.display(values.normalize(*actual_value(og, k)))
                    for k in og.parameters
                    if og.parameters[k].source == "user"
                }
                for d in diff(wv, ov):
                    drift.append(
                        d.model_copy(
                            update={"path": f"{og.name}.{d.path}", "compare": {"writer_group": wg.name}}
                        )
                    )
        out.append(
            failed(
                ref,
                f"instances disagree on their DB parameter group ({', '.join(sorted(odd))} differ "
                f"from the writer's {', '.join(ref_groups)}): a failover silently changes settings",
                drift,
            )
        )
    return out


class ForceSslParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    parameter: str = "rds.force_ssl"
    expected: str = "1"


@register("force-ssl", ForceSslParams)
def force_ssl(snap: Snapshot, bl: Baseline, p: ForceSslParams, ctx: Context) -> list[Outcome]:
    m = Matcher.model_validate(p.expected)
    return [
        _group_outcome(ctx, "cluster", c.parameter_group, c, {p.parameter: m}, "cluster") for c in ctx.targets
    ]
