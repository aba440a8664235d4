"""RDS Proxy in front of the collected clusters (DescribeDBProxies / ...TargetGroups / ...Targets).

Calls: one paged DescribeDBProxies per region, one DescribeDBProxyTargets per PostgreSQL proxy
(a proxy does not name its cluster anywhere else), and DescribeDBProxyTargetGroups only for the
proxies that front a collected cluster.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from auditor.collect.state import RDS_PAGE, Collection, all_pages
from auditor.models.snapshot import Proxy, ProxyAuth, ProxyPool, ProxyTarget, ProxyTargetGroup


def _target(raw: dict[str, Any]) -> ProxyTarget:
    return ProxyTarget(
        type=raw.get("Type"),
        rds_resource_id=raw.get("RdsResourceId"),
        endpoint=raw.get("Endpoint"),
        role=raw.get("Role"),
        health_state=(raw.get("TargetHealth") or {}).get("State"),
    )


def _group(raw: dict[str, Any]) -> ProxyTargetGroup:
    pool = raw.get("ConnectionPoolConfig")
    return ProxyTargetGroup(
        name=raw.get("TargetGroupName", ""),
        is_default=raw.get("IsDefault"),
        status=raw.get("Status"),
        pool=ProxyPool(
            max_connections_percent=pool.get("MaxConnectionsPercent"),
            max_idle_connections_percent=pool.get("MaxIdleConnectionsPercent"),
            connection_borrow_timeout=pool.get("ConnectionBorrowTimeout"),
            session_pinning_filters=tuple(pool.get("SessionPinningFilters") or ()),
        )
        if pool
        else None,
    )


def convert_proxy(
    raw: dict[str, Any],
    region: str,
    account: str | None,
    targets: list[dict[str, Any]],
    groups: list[dict[str, Any]],
    cluster_ids: tuple[str, ...],
) -> Proxy:
    return Proxy(
        name=raw["DBProxyName"],
        arn=raw.get("DBProxyArn"),
        region=region,
        account=account,
        engine_family=raw.get("EngineFamily"),
        status=raw.get("Status"),
        require_tls=raw.get("RequireTLS"),
        idle_client_timeout=raw.get("IdleClientTimeout"),
        debug_logging=raw.get("DebugLogging"),
        auth=tuple(
            ProxyAuth(
                auth_scheme=a.get("AuthScheme"),
                iam_auth=a.get("IAMAuth"),
                secret_arn=a.get("SecretArn"),
                client_password_auth_type=a.get("ClientPasswordAuthType"),
            )
            for a in raw.get("Auth") or ()
        ),
        target_groups=tuple(_group(g) for g in groups),
        targets=tuple(_target(t) for t in targets),
        cluster_ids=cluster_ids,
    )


def collect_proxies(col: Collection, region: str) -> None:
    if not col.claim(("proxies", region)):
        return
    clusters = {c.id for c in col.clusters_in(region)}
    instance_cluster = {i.id: i.cluster_id for i in col.instances_in(region)}
    if not clusters:
        return
    rds = col.ctx.client("rds", region)
    proxies = col.attempt(
        partial(all_pages, rds, "describe_db_proxies", "DBProxies", MaxRecords=RDS_PAGE),
        resource=region,
        kind="region",
        operation="DescribeDBProxies",
        region=region,
    )
    for raw in proxies or []:
        if raw.get("EngineFamily") not in (None, "POSTGRESQL"):
            continue
        name = raw["DBProxyName"]
        targets = col.attempt(
            partial(
                all_pages, rds, "describe_db_proxy_targets", "Targets", DBProxyName=name, MaxRecords=RDS_PAGE
            ),
            resource=name,
            kind="proxy",
            operation="DescribeDBProxyTargets",
            region=region,
        )
        if targets is None:
            continue
        fronted: set[str] = set()
        # DBProxyTarget (RDS API Reference): a TRACKED_CLUSTER target's RdsResourceId is the cluster id;
        # its RDS_INSTANCE targets carry TrackedClusterId.
        for t in targets:
            if t.get("TrackedClusterId") in clusters:
                fronted.add(t["TrackedClusterId"])
            elif t.get("Type") == "TRACKED_CLUSTER" and t.get("RdsResourceId") in clusters:
                fronted.add(t["RdsResourceId"])
            elif t.get("RdsResourceId") in instance_cluster and instance_cluster[t["RdsResourceId"]]:
                fronted.add(str(instance_cluster[t["RdsResourceId"]]))
        if not fronted:
            continue
        groups = col.attempt(
            partial(
                all_pages,
                rds,
                "describe_db_proxy_target_groups",
                "TargetGroups",
                DBProxyName=name,
                MaxRecords=RDS_PAGE,
            ),
            resource=name,
            kind="proxy",
            operation="DescribeDBProxyTargetGroups",
            region=region,
            cluster=sorted(fronted)[0],
        )
        proxy = convert_proxy(raw, region, col.account, targets, groups or [], tuple(sorted(fronted)))
        with col.lock:
            col.proxies[(region, proxy.name)] = proxy
