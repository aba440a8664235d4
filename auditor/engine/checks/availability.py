"""HA — availability and failover checks (HA01–HA09)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from auditor.engine.checks._util import (
    errored,
    failed,
    maximum,
    minimum,
    needs_instances,
    passed,
    skipped,
    skipped_because,
)
from auditor.engine.context import Context, cluster_ref, error_text, instance_ref
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline
from auditor.models.snapshot import Cluster, Instance, Snapshot

_SIZES = {"nano": 0, "micro": 1, "small": 2, "medium": 3, "large": 4, "xlarge": 8}


def size_rank(instance_class: str) -> int | None:
    """Relative size from the class suffix: db.r6g.large < xlarge < 2xlarge (None: serverless)."""
    suffix = instance_class.rsplit(".", 1)[-1]
    if suffix in _SIZES:
        return _SIZES[suffix]
    m = re.fullmatch(r"(\d+)xlarge", suffix)
    if m:
        return 8 * int(m.group(1))
    if suffix == "metal":
        return 10_000
    return None


def is_burstable(instance_class: str) -> bool:
    return instance_class.startswith("db.t")


@register("min-readers")
@needs_instances
def min_readers(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    want = bl.instances.min_readers
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if want is None:
            out.append(skipped(ref, "instances.min_readers"))
            continue
        readers = ctx.readers_of(c)
        n = len(readers)
        if n >= want and n >= 1:
            out.append(
                passed(
                    ref,
                    f"{n} reader(s) can take over if the writer fails: {', '.join(r.id for r in readers)}",
                )
            )
        else:
            need = max(want, 1)
            msg = (
                "no reader: if the writer fails, Aurora must create a new instance "
                "(about 10 minutes of downtime "
                "instead of about 30 seconds)"
                if n == 0
                else f"only {n} reader(s); the baseline asks for {need} failover targets"
            )
            out.append(failed(ref, msg, minimum(ref, "readers", need, n)))
    return out


@register("multi-az")
@needs_instances
def multi_az(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    want = bl.instances.min_azs
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if want is None:
            out.append(skipped(ref, "instances.min_azs"))
            continue
        insts = ctx.instances_of(c)
        if any(i.availability_zone is None for i in insts):
            out.append(errored(ref, "AvailabilityZone missing for some instance in DescribeDBInstances"))
            continue
        azs = sorted({i.availability_zone for i in insts if i.availability_zone})
        writer = ctx.writer_of(c)
        other_az = [
            r for r in ctx.readers_of(c) if writer is None or r.availability_zone != writer.availability_zone
        ]
        expected = {"availability_zones": f">= {want}", "failover_target_outside_writer_az": True}
        actual = {
            "availability_zones": len(azs) if len(azs) < want else f">= {want}",
            "failover_target_outside_writer_az": bool(other_az),
        }
        drift = diff(expected, actual, out_of_range=["availability_zones"])
        if drift:
            drift = [
                d.model_copy(update={"actual": len(azs)}) if d.path == "availability_zones" else d
                for d in drift
            ]
            waz = writer.availability_zone if writer else "?"
            msg = (
                f"instances span {len(azs)} AZ(s) ({', '.join(azs) or 'none'}; baseline minimum {want})"
                if len(azs) < want
                else ""
            )
            if not other_az:
                msg += (
                    ("; " if msg else "") + f"no failover target outside the writer's AZ {waz}: "
                    "an AZ outage takes the whole cluster down"
                )
            out.append(failed(ref, msg, drift))
        else:
            out.append(
                passed(
                    ref,
                    f"instances span {len(azs)} AZs ({', '.join(azs)}), "
                    "with a failover target outside the writer's AZ",
                )
            )
    return out


class TierParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    protected_tiers: list[int] = Field(default_factory=lambda: [0, 1])
    min_protected_size: str = (
        "large"  # a reader below this size (or burstable) must not sit in a protected tier
    )


def _global_secondary(ctx: Context, c: Cluster) -> bool:
    """`c` is a non-writer member of a Global Database in the snapshot (DescribeGlobalClusters
    GlobalClusterMembers[].IsWriter)."""
    g = ctx.global_cluster_of(c)
    if g is None:
        return False
    return any(
        not m.is_writer and (m.cluster_arn == c.arn or (m.cluster_id == c.id and m.region == c.region))
        for m in g.members
    )


@register("promotion-tiers", TierParams)
@needs_instances
def promotion_tiers(snap: Snapshot, bl: Baseline, p: TierParams, ctx: Context) -> list[Outcome]:
    floor = _SIZES.get(p.min_protected_size, 4)
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if _global_secondary(ctx, c):
            # A Global Database secondary cluster has only reader instances until it is promoted
            # (Aurora User Guide, "Using Amazon Aurora Global Database").
            out.append(
                skipped_because(
                    ref,
                    "Global Database secondary: no writer until it is promoted; promotion tiers apply "
                    "after failover",
                )
            )
            continue
        writer, readers = ctx.writer_of(c), ctx.readers_of(c)
        if writer is None or not readers:
            out.append(
                skipped_because(
                    ref,
                    "no failover target to rank (see HA01)"
                    if writer
                    else "no writer instance found in the snapshot",
                )
            )
            continue

        # Aurora promotes the reader with the lowest promotion tier; among equals, the largest
        # (Aurora User Guide, "Fault tolerance for an Aurora DB cluster").
        def tier(i: Instance) -> int:
            return i.promotion_tier if i.promotion_tier is not None else 1

        best_tier = min(tier(r) for r in readers)
        best = max(
            (r for r in readers if tier(r) == best_tier), key=lambda r: size_rank(r.instance_class) or 0
        )
        expected: dict[str, object] = {}
        actual: dict[str, object] = {}
        problems = []
        ws, bs = size_rank(writer.instance_class), size_rank(best.instance_class)
        if ws is not None and bs is not None and bs < ws:
            expected[f"{best.id}.instance_class"] = f"at least {writer.instance_class}"
            actual[f"{best.id}.instance_class"] = best.instance_class
            problems.append(
                f"the first failover target {best.id} (tier {best_tier}) is a {best.instance_class}, "
                f"smaller than the writer's {writer.instance_class}: after failover the new writer "
                "will not carry the load"
            )
        for r in readers:
            rs = size_rank(r.instance_class)
            small = is_burstable(r.instance_class) or (rs is not None and rs < floor)
            if tier(r) in p.protected_tiers and small:
                expected[f"{r.id}.promotion_tier"] = f"not in {p.protected_tiers}"
                actual[f"{r.id}.promotion_tier"] = tier(r)
                problems.append(
                    f"{r.id} ({r.instance_class}) is a small/burstable reader in promotion tier {tier(r)}"
                )
        if problems:
            out.append(failed(ref, "; ".join(problems), diff(expected, actual)))
        elif ws is None or bs is None:  # db.serverless: capacity scales, sizes are not comparable by class
            out.append(
                passed(
                    ref,
                    f"first failover target {best.id} (tier {best_tier}, {best.instance_class}); "
                    "Serverless v2 capacity is not comparable by class (HA08 checks the scaling bounds)",
                )
            )
        else:
            out.append(
                passed(
                    ref,
                    f"first failover target {best.id} (tier {best_tier}, {best.instance_class}) is at "
                    f"least the writer's size ({writer.instance_class})",
                )
            )
    return out


@register("no-burstable")
@needs_instances
def no_burstable(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    allow = bl.instances.allow_burstable
    out = []
    for c in ctx.targets:
        for i in ctx.instances_of(c):
            ref = instance_ref(i, c.id)
            if allow is None:
                out.append(skipped(ref, "instances.allow_burstable"))
            elif allow or not is_burstable(i.instance_class):
                out.append(
                    passed(
                        ref,
                        f"{i.instance_class}"
                        + (" (burstable allowed by the baseline)" if is_burstable(i.instance_class) else ""),
                    )
                )
            else:
                out.append(
                    failed(
                        ref,
                        f"{i.id} is a burstable {i.instance_class}: once CPU credits run out it is "
                        "throttled, which shows up as replica lag and failover risk",
                        diff({"instance_class": "not db.t*"}, {"instance_class": i.instance_class}),
                    )
                )
    return out


def _pi_key_manager(ctx: Context, c: Cluster, kms: str | None) -> tuple[str | None, str]:
    """KMS KeyManager ("CUSTOMER" | "AWS") of an instance's Performance Insights key, or (None, why).

    DescribeDBInstances returns PerformanceInsightsKMSKeyId as a key ARN even for the AWS-managed aws/rds
    key, so the ARN alone says nothing; the collector has DescribeKey's KeyManager for the cluster's
    storage key only. A PI key other than that one has an unknown manager: error, never a guess."""
    if not kms:
        return None, "DescribeDBInstances did not return PerformanceInsightsKMSKeyId"
    if kms.endswith("alias/aws/rds"):  # the AWS-managed key's alias, where an alias is returned
        return "AWS", ""
    if kms == c.kms_key_id:
        if c.kms_key_manager is not None:
            return c.kms_key_manager, ""
        errs = ctx.errors("DescribeKey", region=c.region, cluster=c.id)
        return None, (
            f"it is the cluster's storage key {kms}, whose manager was not collected"
            + (f" ({error_text(errs)})" if errs else " (KMS DescribeKey KeyManager)")
        )
    return None, (
        f"{kms} is not the cluster's storage key, and its manager (KMS DescribeKey KeyManager) is "
        "not collected — check it with `aws kms describe-key`"
    )


@register("performance-insights")
@needs_instances
def performance_insights(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    want, want_kms = bl.instances.performance_insights, bl.instances.performance_insights_kms
    out = []
    for c in ctx.targets:
        for i in ctx.instances_of(c):
            ref = instance_ref(i, c.id)
            if want is None:
                out.append(skipped(ref, "instances.performance_insights"))
                continue
            if not want:
                out.append(passed(ref, "Performance Insights not required by the baseline"))
                continue
            if i.performance_insights_enabled is None:
                out.append(errored(ref, "DescribeDBInstances did not return PerformanceInsightsEnabled"))
                continue
            expected: dict[str, object] = {"performance_insights_enabled": True}
            actual: dict[str, object] = {"performance_insights_enabled": i.performance_insights_enabled}
            if want_kms and i.performance_insights_enabled:
                kms = i.performance_insights_kms_key_id
                manager, why = _pi_key_manager(ctx, c, kms)
                if manager is None:
                    out.append(
                        errored(
                            ref,
                            f"cannot tell whether the Performance Insights key is customer managed: {why}",
                        )
                    )
                    continue
                expected["performance_insights_kms_key"] = "customer-managed key"
                actual["performance_insights_kms_key"] = (
                    "customer-managed key" if manager == "CUSTOMER" else f"AWS-managed key {kms}"
                )
            drift = diff(expected, actual)
            if drift:
                msg = (
                    "Performance Insights is off: when this instance slows down "
                    "there is no wait-event history "
                    "to tell why"
                    if not i.performance_insights_enabled
                    else "Performance Insights data is encrypted with the AWS-managed key; "
                    "the baseline asks for a customer-managed key"
                )
                out.append(failed(ref, msg, drift))
            else:
                out.append(passed(ref, "Performance Insights is on"))
    return out


@register("replica-lag")
@needs_instances
def replica_lag(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    budget = bl.instances.max_replica_lag_ms
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if budget is None:
            out.append(skipped(ref, "instances.max_replica_lag_ms"))
            continue
        if not ctx.readers_of(c):
            out.append(skipped_because(ref, "no reader, so no replica lag to measure (see HA01)"))
            continue
        errs = ctx.errors("GetMetricStatistics", "GetMetricData", region=c.region, cluster=c.id)
        ms = ctx.metrics_of(c, "AuroraReplicaLagMaximum", "AuroraReplicaLag")
        vals = [m.value for m in ms if m.value is not None]
        if not vals:
            why = (
                error_text(errs)
                if errs
                else (
                    "no AuroraReplicaLag datapoints in the look-back window"
                    if ms
                    else "AuroraReplicaLag was not collected"
                )
            )
            out.append(errored(ref, f"replica lag unknown: {why}"))
            continue
        worst = max(vals)
        if errs and worst <= budget:  # a reader's lag could not be read: under budget is not proven
            out.append(
                errored(
                    ref,
                    f"replica lag of some readers unknown ({error_text(errs)}); the others peaked at "
                    f"{worst:g} ms",
                )
            )
        elif worst <= budget:
            out.append(
                passed(
                    ref,
                    f"worst replica lag in the last {snap.look_back_minutes} min was {worst:g} ms "
                    f"(budget {budget:g} ms)",
                )
            )
        else:
            out.append(
                failed(
                    ref,
                    f"replica lag reached {worst:g} ms in the last {snap.look_back_minutes} min (budget "
                    f"{budget:g} ms): readers serve stale data, and a failover then waits for them",
                    maximum(ref, "AuroraReplicaLag.max_ms", budget, worst),
                )
            )
    return out
