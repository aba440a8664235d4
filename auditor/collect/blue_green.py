"""Blue/green deployments (rds DescribeBlueGreenDeployments).

The API does not return the target engine version; it is read from the deployment's tag
`aurora-audit:target-engine-version` where present (see BlueGreenDeployment.target_engine_version).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from auditor.collect.state import Collection, all_pages, arn_parts, aware, paged, tags
from auditor.errors import NotFoundError
from auditor.models.snapshot import BlueGreenDeployment, BlueGreenTask, Snapshot, SwitchoverDetail

if TYPE_CHECKING:
    from auditor.collect.aws import AwsContext

TARGET_VERSION_TAG = "aurora-audit:target-engine-version"


def convert_bgd(raw: dict[str, Any], region: str, account: str | None) -> BlueGreenDeployment:
    source, target = raw.get("Source"), raw.get("Target")
    tag_map = tags(raw.get("TagList"))
    return BlueGreenDeployment(
        id=raw["BlueGreenDeploymentIdentifier"],
        name=raw.get("BlueGreenDeploymentName"),
        region=region,
        account=account,
        source_arn=source,
        target_arn=target,
        source_cluster_id=arn_parts(source)[2] if source else None,
        target_cluster_id=arn_parts(target)[2] if target else None,
        status=raw.get("Status"),
        status_details=raw.get("StatusDetails"),
        switchover_details=tuple(
            SwitchoverDetail(
                source_member=d.get("SourceMember"),
                target_member=d.get("TargetMember"),
                status=d.get("Status"),
            )
            for d in raw.get("SwitchoverDetails") or ()
        ),
        tasks=tuple(
            BlueGreenTask(name=t.get("Name", ""), status=t.get("Status")) for t in raw.get("Tasks") or ()
        ),
        create_time=aware(raw.get("CreateTime")),
        target_engine_version=tag_map.get(TARGET_VERSION_TAG),
        tags=tag_map,
    )


# MaxRecords is left out here: its default is already the maximum, 100 (RDS API Reference,
# DescribeBlueGreenDeployments), and moto 5.2 rejects the parameter for this operation.


def describe_for_clusters(col: Collection, region: str) -> list[tuple[str, str]]:
    """Deployments touching the region's collected clusters (one paged call per region).

    Returns (region, green cluster id) for deployments whose source is an audited target cluster.
    """
    if not col.claim(("blue-green", region)):
        return []
    rds = col.ctx.client("rds", region)
    got = col.attempt(
        partial(all_pages, rds, "describe_blue_green_deployments", "BlueGreenDeployments"),
        resource=region,
        kind="region",
        operation="DescribeBlueGreenDeployments",
        region=region,
    )
    clusters = col.clusters_in(region)
    by_arn = {c.arn: c for c in clusters if c.arn}
    greens: list[tuple[str, str]] = []
    for raw in got or []:
        src, tgt = by_arn.get(raw.get("Source")), by_arn.get(raw.get("Target"))
        if src is None and tgt is None:
            continue
        bgd = convert_bgd(raw, region, col.account)
        with col.lock:
            col.blue_green[(region, bgd.id)] = bgd
        if src is not None and src.role == "target" and bgd.target_cluster_id:
            if tgt is None:
                t_region = arn_parts(bgd.target_arn or "")[0] or region
                greens.append((t_region, bgd.target_cluster_id))
            elif tgt.role == "target":  # whole-region collection listed green as a cluster of its own
                col.replace_cluster(tgt.model_copy(update={"role": "green"}))
    return greens


def find_deployment(ctx: AwsContext, region: str, bgd_id_or_name: str) -> dict[str, Any]:
    """The raw deployment by identifier (`bgd-...`) or by name; NotFoundError when absent."""
    rds = ctx.client("rds", region)
    try:
        found = rds.describe_blue_green_deployments(BlueGreenDeploymentIdentifier=bgd_id_or_name)[
            "BlueGreenDeployments"
        ]
        if found:
            return dict(found[0])
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BlueGreenDeploymentNotFoundFault":
            raise
    names = []
    for raw in paged(rds, "describe_blue_green_deployments", "BlueGreenDeployments"):
        names.append(raw.get("BlueGreenDeploymentName", ""))
        if raw.get("BlueGreenDeploymentName") == bgd_id_or_name:
            return dict(raw)
    import difflib

    close = difflib.get_close_matches(bgd_id_or_name, names, n=3, cutoff=0.6)
    hint = f" (did you mean: {', '.join(close)}?)" if close else ""
    raise NotFoundError(
        f"blue/green deployment {bgd_id_or_name} not found in region {region}{hint}; "
        "check the id and --region"
    )


def collect_blue_green(
    ctx: AwsContext, region: str, bgd_id_or_name: str, *, look_back_minutes: int = 60, db: Any = None
) -> Snapshot:
    """Snapshot for the pre-switchover gate: the deployment, blue (role target) and green (role green)."""
    from auditor.collect.topology import collect_snapshot

    raw = find_deployment(ctx, region, bgd_id_or_name)
    bgd = convert_bgd(raw, region, None)
    if not bgd.source_cluster_id:
        raise NotFoundError(f"blue/green deployment {bgd.id} has no source cluster in region {region}")
    return collect_snapshot(
        ctx, region, [bgd.source_cluster_id], look_back_minutes=look_back_minutes, db=db, blue_green=bgd.id
    )
