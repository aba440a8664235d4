"""Aurora Global Database membership (rds DescribeGlobalClusters).

Members live in other regions: their ARNs name the region (`arn:aws:rds:REGION:ACCOUNT:cluster:ID`),
and topology collects each of them there with role="global-member".
"""

from __future__ import annotations

from functools import partial
from typing import Any

from auditor.collect.state import RDS_PAGE, Collection, all_pages, arn_parts
from auditor.models.snapshot import GlobalCluster, GlobalMember


def convert_global(raw: dict[str, Any], region: str) -> GlobalCluster:
    members = []
    for m in raw.get("GlobalClusterMembers") or ():
        arn = m.get("DBClusterArn", "")
        m_region, _, m_id = arn_parts(arn)
        members.append(
            GlobalMember(
                cluster_arn=arn,
                cluster_id=m_id,
                region=m_region,
                is_writer=bool(m.get("IsWriter")),
                readers=tuple(m.get("Readers") or ()),
                synchronization_status=m.get("SynchronizationStatus"),
                write_forwarding_status=m.get("GlobalWriteForwardingStatus"),
            )
        )
    return GlobalCluster(
        id=raw["GlobalClusterIdentifier"],
        arn=raw.get("GlobalClusterArn"),
        region=region,
        engine=raw.get("Engine"),
        engine_version=raw.get("EngineVersion"),
        status=raw.get("Status"),
        deletion_protection=raw.get("DeletionProtection"),
        storage_encrypted=raw.get("StorageEncrypted"),
        members=tuple(members),
    )


def describe_global_clusters(col: Collection, region: str) -> list[tuple[str, str]]:
    """Describe the global clusters the region's collected clusters belong to (once per global id).

    Returns (region, cluster id) of members not collected yet.
    """
    rds = col.ctx.client("rds", region)
    wanted = sorted({c.global_cluster_id for c in col.clusters_in(region) if c.global_cluster_id})
    todo: list[tuple[str, str]] = []
    for gid in wanted:
        if not col.claim(("global-cluster", gid)):
            continue
        got = col.attempt(
            partial(
                all_pages,
                rds,
                "describe_global_clusters",
                "GlobalClusters",
                GlobalClusterIdentifier=gid,
                MaxRecords=RDS_PAGE,
            ),
            resource=gid,
            kind="global-cluster",
            operation="DescribeGlobalClusters",
            region=region,
        )
        for raw in got or []:
            g = convert_global(raw, region)
            with col.lock:
                col.global_clusters[g.id] = g
                known = set(col.clusters)
            for m in g.members:
                if m.region and m.cluster_id and (m.region, m.cluster_id) not in known:
                    todo.append((m.region, m.cluster_id))
    return todo


def secondaries(col: Collection) -> list[tuple[str, str]]:
    """(region, cluster id) of every non-writer Global Database member collected."""
    out = []
    with col.lock:
        for g in col.global_clusters.values():
            for m in g.members:
                if not m.is_writer and m.region and m.cluster_id and (m.region, m.cluster_id) in col.clusters:
                    out.append((m.region, m.cluster_id))
    return out
