"""CloudWatch: alarms that watch the collected clusters, and lag maxima over the look-back window.

Alarms: one paged DescribeAlarms per region (not per cluster), kept when a dimension names a
collected cluster (DBClusterIdentifier) or one of its instances (DBInstanceIdentifier).
Metrics: GetMetricData batches up to 500 queries per call (CloudWatch API Reference), so the lag of
every reader and Global Database secondary in a region costs one call, not one per metric as
GetMetricStatistics would. Each query asks the per-minute Maximum; the window's maximum is their max.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from auditor.collect.global_db import secondaries
from auditor.collect.state import Collection, all_pages, aware
from auditor.models.snapshot import Alarm, MetricMax

NAMESPACE = "AWS/RDS"
# Units from "Amazon CloudWatch metrics for Amazon Aurora" (Aurora User Guide): all three in milliseconds.
# GetMetricData does not return units, so they are named here.
METRIC_UNITS = {
    "AuroraReplicaLag": "Milliseconds",
    "AuroraGlobalDBReplicationLag": "Milliseconds",
    "AuroraGlobalDBRPOLag": "Milliseconds",
}
_QUERIES_PER_CALL = 500
_PERIOD_S = 60


def _dims(raw: list[dict[str, Any]] | None) -> dict[str, str]:
    return {d["Name"]: d.get("Value", "") for d in raw or [] if "Name" in d}


def convert_alarm(raw: dict[str, Any], region: str, cluster_id: str | None) -> Alarm:
    names = []
    dims = _dims(raw.get("Dimensions"))
    for m in raw.get("Metrics") or ():
        metric = (m.get("MetricStat") or {}).get("Metric") or {}
        if metric.get("MetricName"):
            names.append(metric["MetricName"])
        for k, v in _dims(metric.get("Dimensions")).items():
            dims.setdefault(k, v)
    return Alarm(
        name=raw["AlarmName"],
        arn=raw.get("AlarmArn"),
        region=region,
        namespace=raw.get("Namespace"),
        metric_name=raw.get("MetricName"),
        metric_names=tuple(names),
        dimensions=dims,
        state=raw.get("StateValue"),
        actions_enabled=raw.get("ActionsEnabled"),
        alarm_actions=tuple(raw.get("AlarmActions") or ()),
        threshold=raw.get("Threshold"),
        comparison=raw.get("ComparisonOperator"),
        statistic=raw.get("Statistic") or raw.get("ExtendedStatistic"),
        period=raw.get("Period"),
        evaluation_periods=raw.get("EvaluationPeriods"),
        cluster_id=cluster_id,
    )


def collect_alarms(col: Collection, region: str) -> None:
    if not col.claim(("alarms", region)):
        return
    clusters = {c.id for c in col.clusters_in(region)}
    inst_cluster = {i.id: i.cluster_id for i in col.instances_in(region)}
    if not clusters:
        return
    cw = col.ctx.client("cloudwatch", region)
    got = col.attempt(
        partial(all_pages, cw, "describe_alarms", "MetricAlarms", marker="NextToken", MaxRecords=100),
        resource=region,
        kind="region",
        operation="DescribeAlarms",
        region=region,
    )
    out = []
    for raw in got or []:
        alarm = convert_alarm(raw, region, None)
        cid = alarm.dimensions.get("DBClusterIdentifier")
        if cid not in clusters:
            cid = inst_cluster.get(alarm.dimensions.get("DBInstanceIdentifier", ""))
        if cid is None:
            continue
        out.append(alarm.model_copy(update={"cluster_id": cid}))
    with col.lock:
        col.alarms.extend(out)


def metric_queries(col: Collection, region: str) -> list[tuple[str, list[dict[str, str]], str | None]]:
    """(metric, dimension sets, cluster) to read in this region: reader lag, and global secondary lag.

    Global lag is published in the secondary's region under the metric group that carries `SourceRegion`
    (the primary's region) next to `DBClusterIdentifier` (Aurora User Guide, "Monitoring Aurora Global
    Database"; the CloudWatch console lists it under the SourceRegion group). CloudWatch matches dimension
    sets exactly, so both sets are asked for in the same GetMetricData call and their datapoints combined.
    """
    out: list[tuple[str, list[dict[str, str]], str | None]] = []
    for inst in sorted(col.instances_in(region), key=lambda i: i.id):
        if inst.is_writer is False:
            out.append(("AuroraReplicaLag", [{"DBInstanceIdentifier": inst.id}], inst.cluster_id))
    primary = _primary_regions(col)
    for r, cid in sorted(secondaries(col)):
        if r == region:
            variants = [{"DBClusterIdentifier": cid}]
            if primary.get(cid):
                variants.append({"DBClusterIdentifier": cid, "SourceRegion": primary[cid]})
            for metric in ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag"):
                out.append((metric, variants, cid))
    return out


def _primary_regions(col: Collection) -> dict[str, str]:
    """Secondary cluster id -> the region of its Global Database's writer."""
    out: dict[str, str] = {}
    with col.lock:
        for g in col.global_clusters.values():
            writer = next((m.region for m in g.members if m.is_writer and m.region), None)
            for m in g.members:
                if not m.is_writer and m.cluster_id and writer:
                    out[m.cluster_id] = writer
    return out


def collect_metrics(col: Collection, region: str) -> None:
    if not col.claim(("metrics", region)):
        return
    wanted = metric_queries(col, region)
    if not wanted:
        return
    cw = col.ctx.client("cloudwatch", region)
    end = col.now.replace(second=0, microsecond=0)
    start = end - timedelta(minutes=col.look_back_minutes)
    # one query per dimension set, ids m<wanted>v<set>; chunks never split a wanted metric's sets
    chunks: list[list[tuple[int, tuple[str, list[dict[str, str]], str | None]]]] = [[]]
    in_chunk = 0
    for n, want in enumerate(wanted):
        if in_chunk + len(want[1]) > _QUERIES_PER_CALL:
            chunks.append([])
            in_chunk = 0
        chunks[-1].append((n, want))
        in_chunk += len(want[1])
    for chunk in chunks:
        queries = [
            {
                "Id": f"m{n}v{k}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    },
                    "Period": _PERIOD_S,
                    "Stat": "Maximum",
                },
                "ReturnData": True,
            }
            for n, (metric, variants, _) in chunk
            for k, dims in enumerate(variants)
        ]
        results = col.attempt(
            partial(
                all_pages,
                cw,
                "get_metric_data",
                "MetricDataResults",
                marker="NextToken",
                MetricDataQueries=queries,
                StartTime=start,
                EndTime=end,
            ),
            resource=region,
            kind="region",
            operation="GetMetricData",
            region=region,
        )
        if results is None:
            continue
        values: dict[str, list[float]] = {}
        failed: dict[str, str] = {}
        for res in results:  # a query's values may span several pages
            values.setdefault(res["Id"], []).extend(float(v) for v in res.get("Values") or ())
            # StatusCode InternalError/Forbidden: this query was not answered — "no datapoints" would be a
            # lie that lets a lag check pass on the readers that were answered (GetMetricData API reference).
            if res.get("StatusCode") in ("InternalError", "Forbidden"):
                failed[res["Id"]] = str(res["StatusCode"])
        out = []
        for n, (metric, variants, cid) in chunk:
            bad = [failed[f"m{n}v{k}"] for k in range(len(variants)) if f"m{n}v{k}" in failed]
            if bad and not any(values.get(f"m{n}v{k}") for k in range(len(variants))):
                col.add_error(
                    resource=f"{metric} {','.join(f'{k}={v}' for k, v in variants[0].items())}",
                    resource_kind="metric",
                    operation="GetMetricData",
                    region=region,
                    cluster=cid,
                    code=bad[0],
                    message=f"CloudWatch answered {bad[0]} for {metric}: its maximum is unknown",
                )
                continue
            with_data = [k for k in range(len(variants)) if values.get(f"m{n}v{k}")]
            dims = variants[with_data[0]] if with_data else variants[0]
            vals = [v for k in range(len(variants)) for v in values.get(f"m{n}v{k}", [])]
            out.append(
                MetricMax(
                    namespace=NAMESPACE,
                    metric_name=metric,
                    dimensions=dims,
                    region=region,
                    period_s=_PERIOD_S,
                    start=aware(start),  # type: ignore[arg-type]
                    end=aware(end),  # type: ignore[arg-type]
                    value=max(vals) if vals else None,
                    datapoints=len(vals),
                    unit=METRIC_UNITS.get(metric),
                    cluster_id=cid,
                )
            )
        with col.lock:
            col.metrics.extend(out)
