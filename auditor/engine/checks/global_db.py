"""GD — Global Database checks (GD01–GD06). Secondaries are clusters with role "global-member"."""

from __future__ import annotations

from typing import Any

from auditor.engine import values
from auditor.engine.checks._util import errored, failed, maximum, passed, skipped
from auditor.engine.checks.parameters import actual_value, drift_sentence
from auditor.engine.context import Context, cluster_ref, error_text, group_ref
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline
from auditor.models.findings import ResourceRef
from auditor.models.snapshot import Cluster, GlobalCluster, GlobalMember, Snapshot

GLOBAL_LAG_METRICS = ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag")


def global_ref(g: GlobalCluster) -> ResourceRef:
    return ResourceRef(kind="global-cluster", id=g.id, region=g.region, arn=g.arn)


def member_ref(g: GlobalCluster, m: GlobalMember, c: Cluster | None) -> ResourceRef:
    if c is not None:
        return cluster_ref(c)
    cid = m.cluster_id or m.cluster_arn.rsplit(":", 1)[-1]
    return ResourceRef(kind="cluster", id=cid, region=m.region, arn=m.cluster_arn, cluster=cid)


def global_clusters(ctx: Context) -> list[tuple[GlobalCluster, list[Cluster]]]:
    """Each Global Database that contains an audited cluster (once), with those audited clusters."""
    seen: dict[str, tuple[GlobalCluster, list[Cluster]]] = {}
    for c in ctx.targets:
        g = ctx.global_cluster_of(c)
        if g is not None:
            seen.setdefault(g.id, (g, []))[1].append(c)
    return list(seen.values())


def member_cluster(ctx: Context, m: GlobalMember) -> Cluster | None:
    return ctx.cluster_by_arn(m.cluster_arn) or ctx.cluster(m.cluster_id, m.region)


def secondaries(g: GlobalCluster) -> list[GlobalMember]:
    return [m for m in g.members if not m.is_writer]


def primary(ctx: Context, g: GlobalCluster) -> Cluster | None:
    w = next((m for m in g.members if m.is_writer), None)
    return member_cluster(ctx, w) if w else None


def _targets_missing_global(ctx: Context) -> list[Outcome]:
    """Audited clusters that name a Global Database the snapshot could not describe."""
    out = []
    for c in ctx.targets:
        if c.global_cluster_id and ctx.global_cluster_of(c) is None:
            errs = ctx.errors("DescribeGlobalClusters", region=c.region)
            why = error_text(errs) if errs else "it is not in the snapshot"
            out.append(
                errored(cluster_ref(c), f"Global Database {c.global_cluster_id} could not be read: {why}")
            )
    return out


@register("global-engine-versions")
def engine_versions(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out = _targets_missing_global(ctx)
    for g, _ in global_clusters(ctx):
        ref = global_ref(g)
        versions: dict[str, Any] = {}
        missing = []
        for m in g.members:
            c = member_cluster(ctx, m)
            if c is None:
                missing.append(m.cluster_id or m.cluster_arn)
            else:
                versions[c.id] = c.engine_version
        if missing:
            out.append(
                errored(ref, f"member cluster(s) {', '.join(missing)} not collected; cannot compare versions")
            )
            continue
        pc = primary(ctx, g)
        want = pc.engine_version if pc else (g.engine_version or "")
        drift = diff({k: want for k in versions}, versions)
        if drift:
            out.append(
                failed(
                    ref,
                    "members run different engine versions ("
                    + ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
                    + "): finish the upgrade; failover and "
                    "switchover are blocked or risky while versions differ",
                    drift,
                )
            )
        else:
            out.append(passed(ref, f"all {len(versions)} members run {want}"))
    return out


@register("global-sync-status")
def sync_status(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out = _targets_missing_global(ctx)
    for g, _ in global_clusters(ctx):
        for m in secondaries(g):
            ref = member_ref(g, m, member_cluster(ctx, m))
            if m.synchronization_status is None:
                out.append(errored(ref, "SynchronizationStatus was not returned for this secondary"))
            elif m.synchronization_status == "connected":
                out.append(passed(ref, f"secondary in {m.region} is connected"))
            else:
                out.append(
                    failed(
                        ref,
                        f"secondary in {m.region} is {m.synchronization_status}: it is not receiving "
                        "changes, so a regional failover now would lose data",
                        diff(
                            {"synchronization_status": "connected"},
                            {"synchronization_status": m.synchronization_status},
                        ),
                    )
                )
    return out


@register("global-lag")
def global_lag(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    budget = bl.global_database.max_lag_ms
    out = _targets_missing_global(ctx)
    for g, _ in global_clusters(ctx):
        for m in secondaries(g):
            c = member_cluster(ctx, m)
            ref = member_ref(g, m, c)
            if budget is None:
                out.append(skipped(ref, "global_database.max_lag_ms"))
                continue
            if c is None:
                out.append(errored(ref, "secondary cluster not collected in its region"))
                continue
            vals = [x.value for x in ctx.metrics_of(c, *GLOBAL_LAG_METRICS) if x.value is not None]
            if not vals:
                errs = ctx.errors("GetMetricStatistics", "GetMetricData", region=c.region, cluster=c.id)
                why = (
                    error_text(errs) if errs else "no AuroraGlobalDBReplicationLag datapoints were collected"
                )
                out.append(errored(ref, f"cross-region lag unknown: {why}"))
                continue
            worst = max(vals)
            if worst <= budget:
                out.append(passed(ref, f"cross-region lag peaked at {worst:g} ms (budget {budget:g} ms)"))
            else:
                out.append(
                    failed(
                        ref,
                        f"cross-region lag to {c.region} peaked at {worst:g} ms, over the {budget:g} ms "
                        "budget: that is the data a regional failover would lose (RPO)",
                        maximum(ref, "global_lag_ms", budget, worst),
                    )
                )
    return out


@register("global-headless")
def headless(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    allow = bl.global_database.allow_headless
    out = _targets_missing_global(ctx)
    for g, _ in global_clusters(ctx):
        for m in secondaries(g):
            c = member_cluster(ctx, m)
            ref = member_ref(g, m, c)
            if allow is None:
                out.append(skipped(ref, "global_database.allow_headless"))
                continue
            if c is None:
                out.append(errored(ref, "secondary cluster not collected in its region"))
                continue
            n = len(ctx.instances_of(c)) or len(c.members)
            if n > 0:
                out.append(passed(ref, f"secondary in {c.region} has {n} instance(s)"))
            elif allow:
                out.append(passed(ref, f"secondary in {c.region} is headless, as the baseline allows"))
            else:
                out.append(
                    failed(
                        ref,
                        f"secondary in {c.region} is headless (no instance): after a regional failover "
                        "there is nothing to serve traffic until an instance is created (many minutes)",
                        diff({"instances": ">= 1"}, {"instances": 0}, out_of_range=["instances"]),
                    )
                )
    return out


@register("global-parameter-parity")
def parameter_parity(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    names = sorted(bl.cluster_parameters or {})
    out = _targets_missing_global(ctx)
    for g, _ in global_clusters(ctx):
        pc = primary(ctx, g)
        for m in secondaries(g):
            c = member_cluster(ctx, m)
            ref = member_ref(g, m, c)
            if not names:
                out.append(skipped(ref, "cluster_parameters"))
                continue
            if c is None or pc is None:
                out.append(errored(ref, "primary or secondary cluster not collected"))
                continue
            pg = ctx.group("cluster", pc.parameter_group, pc.region, pc.account)
            sg = ctx.group("cluster", c.parameter_group, c.region, c.account)
            gref = group_ref("cluster", sg, c.parameter_group or "(unknown)", c)
            if pg is None or sg is None:
                which = pc.parameter_group if pg is None else c.parameter_group
                out.append(errored(gref, f"cluster parameter group {which} could not be read"))
                continue

            def vals(gr: Any) -> dict[str, Any]:
                return {n: values.display(values.normalize(*actual_value(gr, n))) for n in names}

            drift = diff(vals(pg), vals(sg))
            drift = [d.model_copy(update={"compare": {"primary_group": pg.name}}) for d in drift]
            if drift:
                out.append(
                    failed(
                        gref,
                        drift_sentence(drift, f"on the primary ({pc.region})")
                        + ": after a regional failover the database would behave differently",
                        drift,
                    )
                )
            else:
                out.append(
                    passed(
                        gref,
                        f"{sg.name} matches the primary's {pg.name} on {len(names)} baseline parameter(s)",
                    )
                )
    return out


@register("global-secondaries")
def min_secondaries(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    want = bl.global_database.min_secondaries
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if want is None:
            out.append(skipped(ref, "global_database.min_secondaries"))
            continue
        g = ctx.global_cluster_of(c)
        if g is None and c.global_cluster_id:
            errs = ctx.errors("DescribeGlobalClusters", region=c.region)
            out.append(
                errored(
                    ref,
                    f"Global Database {c.global_cluster_id} could not be read"
                    + (f": {error_text(errs)}" if errs else ""),
                )
            )
            continue
        if g is None and ctx.errors("DescribeGlobalClusters", region=c.region):
            out.append(
                errored(
                    ref,
                    "Global Database membership unknown: "
                    + error_text(ctx.errors("DescribeGlobalClusters", region=c.region)),
                )
            )
            continue
        regions = sorted({m.region or "?" for m in secondaries(g)}) if g else []
        if len(regions) >= want:
            out.append(
                passed(ref, f"{len(regions)} secondary region(s): {', '.join(regions) or 'none needed'}")
            )
        else:
            msg = (
                "not part of a Global Database"
                if g is None
                else f"Global Database {g.id} has {len(regions)} secondary region(s)"
            ) + f"; the baseline asks for at least {want} for regional disaster recovery"
            out.append(
                failed(
                    ref,
                    msg,
                    diff(
                        {"secondary_regions": f">= {want}"},
                        {"secondary_regions": len(regions)},
                        out_of_range=["secondary_regions"],
                    ),
                )
            )
    return out
