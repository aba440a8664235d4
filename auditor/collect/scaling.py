"""Aurora replica auto scaling (application-autoscaling, ServiceNamespace rds).

One DescribeScalableTargets per region (ResourceIds `cluster:<id>`, 50 per call — the API's limit),
and one DescribeScalingPolicies per region when any target is registered.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from auditor.collect.state import Collection, all_pages
from auditor.models.snapshot import ScalableTarget, ScalingPolicy

_IDS_PER_CALL = 50


def _policy(raw: dict[str, Any]) -> ScalingPolicy:
    tt = raw.get("TargetTrackingScalingPolicyConfiguration") or {}
    return ScalingPolicy(
        name=raw.get("PolicyName", ""),
        policy_type=raw.get("PolicyType"),
        target_value=tt.get("TargetValue"),
        predefined_metric=(tt.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType"),
    )


def collect_scaling(col: Collection, region: str) -> None:
    if not col.claim(("scaling", region)):
        return
    ids = sorted(f"cluster:{c.id}" for c in col.clusters_in(region))
    if not ids:
        return
    aas = col.ctx.client("application-autoscaling", region)
    targets: list[dict[str, Any]] = []
    # A few clusters: ask for theirs (ResourceIds takes up to 50). More (a fleet run): list the region's
    # rds targets once — only registered clusters come back, usually one page — and keep ours.
    chunks: list[list[str] | None] = (
        [ids[i : i + _IDS_PER_CALL] for i in range(0, len(ids), _IDS_PER_CALL)]
        if len(ids) <= _IDS_PER_CALL
        else [None]
    )
    wanted = set(ids)
    for chunk in chunks:
        by_id = {"ResourceIds": chunk} if chunk else {}
        got = col.attempt(
            partial(
                all_pages,
                aas,
                "describe_scalable_targets",
                "ScalableTargets",
                marker="NextToken",
                ServiceNamespace="rds",
                **by_id,
            ),
            resource=region,
            kind="region",
            operation="DescribeScalableTargets",
            region=region,
        )
        targets.extend(t for t in got or [] if t.get("ResourceId") in wanted)
    if not targets:
        return
    kwargs: dict[str, Any] = {"ServiceNamespace": "rds"}
    resource_ids = {t["ResourceId"] for t in targets}
    if len(resource_ids) == 1:
        kwargs["ResourceId"] = next(iter(resource_ids))
    policies = col.attempt(
        partial(all_pages, aas, "describe_scaling_policies", "ScalingPolicies", marker="NextToken", **kwargs),
        resource=region,
        kind="region",
        operation="DescribeScalingPolicies",
        region=region,
    )
    out = []
    for t in targets:
        suspended = t.get("SuspendedState") or {}
        out.append(
            ScalableTarget(
                resource_id=t["ResourceId"],
                cluster_id=t["ResourceId"].split(":", 1)[-1],
                region=region,
                scalable_dimension=t.get("ScalableDimension", ""),
                min_capacity=t.get("MinCapacity"),
                max_capacity=t.get("MaxCapacity"),
                suspended=any(bool(v) for v in suspended.values()),
                policies=tuple(
                    _policy(p)
                    for p in policies or []
                    if p.get("ResourceId") == t["ResourceId"]
                    and p.get("ScalableDimension") == t.get("ScalableDimension")
                ),
            )
        )
    with col.lock:
        col.scalable_targets.extend(out)
