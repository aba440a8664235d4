"""HA08 (replica auto scaling / Serverless v2 bounds) and HA09 (CloudWatch alarms)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from auditor.engine.checks._util import errored, failed, passed, skipped
from auditor.engine.context import Context, cluster_ref, error_text
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline
from auditor.models.snapshot import Snapshot

READ_REPLICA_COUNT = "rds:cluster:ReadReplicaCount"  # Application Auto Scaling dimension for Aurora replicas


@register("replica-autoscaling")
def replica_autoscaling(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    b = bl.autoscaling
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if b.model_dump(exclude_none=True) == {}:
            out.append(skipped(ref, "autoscaling.min_capacity"))
            continue
        insts = ctx.instances_of(c)
        serverless = (
            c.serverless_v2 is not None
            and bool(insts)
            and all(i.instance_class == "db.serverless" for i in insts)
        )
        if serverless and (b.serverless_v2_min_acu is not None or b.serverless_v2_max_acu is not None):
            sv = c.serverless_v2
            assert sv is not None
            expected: dict[str, object] = {}
            actual: dict[str, object] = {}
            ranged = []
            if b.serverless_v2_min_acu is not None:
                ok = sv.min_capacity is not None and sv.min_capacity >= b.serverless_v2_min_acu
                expected["serverless_v2.min_capacity"] = (
                    sv.min_capacity if ok else f">= {b.serverless_v2_min_acu:g}"
                )
                actual["serverless_v2.min_capacity"] = sv.min_capacity
                ranged.append("serverless_v2.min_capacity")
            if b.serverless_v2_max_acu is not None:
                ok = sv.max_capacity is not None and sv.max_capacity <= b.serverless_v2_max_acu
                expected["serverless_v2.max_capacity"] = (
                    sv.max_capacity if ok else f"<= {b.serverless_v2_max_acu:g}"
                )
                actual["serverless_v2.max_capacity"] = sv.max_capacity
                ranged.append("serverless_v2.max_capacity")
            drift = diff(expected, actual, out_of_range=ranged)
            out.append(
                failed(
                    ref,
                    f"Serverless v2 scaling {sv.min_capacity}-{sv.max_capacity} ACU is outside the "
                    "baseline bounds",
                    drift,
                )
                if drift
                else passed(
                    ref,
                    f"Serverless v2 scales {sv.min_capacity:g}-{sv.max_capacity:g} ACU, within the baseline",
                )
            )
            continue
        if b.min_capacity is None and b.max_capacity is None:
            out.append(skipped(ref, "autoscaling.min_capacity"))
            continue
        errs = ctx.errors("DescribeScalableTargets", "DescribeScalingPolicies", region=c.region)
        if errs:
            out.append(errored(ref, f"replica auto scaling unknown: {error_text(errs)}"))
            continue
        targets = [t for t in ctx.scalable_targets_of(c) if t.scalable_dimension == READ_REPLICA_COUNT]
        if not targets:
            out.append(
                failed(
                    ref,
                    f"no replica auto scaling registered ({READ_REPLICA_COUNT}): read capacity stays "
                    "fixed whatever the load",
                    diff({"scalable_target": READ_REPLICA_COUNT}, {"scalable_target": None}),
                )
            )
            continue
        t = targets[0]
        expected, actual, ranged = {}, {}, []
        if b.min_capacity is not None:
            ok = t.min_capacity is not None and t.min_capacity >= b.min_capacity
            expected["min_capacity"], actual["min_capacity"] = (
                (t.min_capacity if ok else f">= {b.min_capacity}"),
                t.min_capacity,
            )
            ranged.append("min_capacity")
        if b.max_capacity is not None:
            ok = t.max_capacity is not None and t.max_capacity <= b.max_capacity
            expected["max_capacity"], actual["max_capacity"] = (
                (t.max_capacity if ok else f"<= {b.max_capacity}"),
                t.max_capacity,
            )
            ranged.append("max_capacity")
        expected["suspended"], actual["suspended"] = False, t.suspended
        drift = diff(expected, actual, out_of_range=ranged)
        if drift:
            out.append(
                failed(
                    ref,
                    f"replica auto scaling is {t.min_capacity}-{t.max_capacity}"
                    f"{' and suspended' if t.suspended else ''}; the baseline asks for min "
                    f"{b.min_capacity}",
                    drift,
                )
            )
        elif not t.policies:
            out.append(
                failed(
                    ref,
                    "replica auto scaling target is registered but has no scaling policy, so it never scales",
                    diff({"policies": ">= 1"}, {"policies": 0}, out_of_range=["policies"]),
                )
            )
        else:
            out.append(
                passed(
                    ref,
                    f"replica auto scaling {t.min_capacity}-{t.max_capacity} with policy "
                    f"{t.policies[0].name}",
                )
            )
    return out


class AlarmParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # Metrics that stand in for a baseline metric (CloudWatch "Amazon Aurora metrics" reference):
    equivalents: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "AuroraReplicaLag": ["AuroraReplicaLagMaximum"],
            "ReplicationSlotDiskUsage": ["OldestReplicationSlotLag", "TransactionLogsDiskUsage"],
        }
    )
    require_actions: bool = True  # an alarm with no enabled action pages nobody


@register("cloudwatch-alarms", AlarmParams)
def alarms(snap: Snapshot, bl: Baseline, p: AlarmParams, ctx: Context) -> list[Outcome]:
    want = bl.alarms
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if want is None:
            out.append(skipped(ref, "alarms"))
            continue
        errs = ctx.errors("DescribeAlarms", region=c.region)
        if errs:
            out.append(errored(ref, f"alarms unknown in {c.region}: {error_text(errs)}"))
            continue
        watched: dict[str, list[str]] = {}
        silent: set[str] = set()
        for a in ctx.alarms_of(c):
            heard = bool(a.actions_enabled is not False and a.alarm_actions)
            for metric in {a.metric_name, *a.metric_names} - {None}:
                assert metric is not None
                if heard or not p.require_actions:
                    watched.setdefault(metric, []).append(a.name)
                else:
                    silent.add(metric)
        expected = {m: True for m in want}
        actual = {m: any(x in watched for x in [m, *p.equivalents.get(m, [])]) for m in want}
        drift = diff(expected, actual)
        if drift:
            missing = [d.path for d in drift]
            note = (
                " (alarms exist but have no enabled action: " + ", ".join(sorted(silent & set(missing))) + ")"
                if silent & set(missing)
                else ""
            )
            out.append(failed(ref, f"no alarm that notifies anyone on {', '.join(missing)}{note}", drift))
        else:
            out.append(passed(ref, f"alarms with actions cover {', '.join(want)}"))
    return out
