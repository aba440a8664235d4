"""The shape of `AuditResult.topology`: one entry per audited cluster, filled by the engine, drawn in HTML.

`AuditResult.topology` is typed `list[dict[str, Any]]` so report.json stays additive; this module documents
the dict shape the engine fills (`ClusterTopology`) and gives reporters a tolerant reader
(`read_topology`): a missing or malformed key never breaks a report, it just draws less.

Example (what the engine should put in `AuditResult.topology`, one dict per cluster)::

    {
      "id": "prod-app", "region": "us-east-1", "account": "123456789012",
      "role": "primary",                    # standalone | primary | global-member | blue | green
      "engine_version": "16.4",
      "global_cluster": "prod-app-global",  # GlobalClusterIdentifier, or None
      "blue_green": "bgd-abc123",           # BlueGreenDeploymentIdentifier when blue/green, or None
      "writer": {"id": "prod-app-1", "az": "us-east-1a", "tier": 0, "instance_class": "db.r6g.2xlarge"},
      "readers": [{"id": "prod-app-2", "az": "us-east-1b", "tier": 1, "instance_class": "db.r6g.2xlarge"}],
      "proxy": {"id": "prod-app-proxy", "require_tls": True, "iam_auth": "REQUIRED"},
      "global_secondaries": [{"id": "prod-app-eu", "region": "eu-west-1", "status": "connected",
                              "lag_ms": 120, "instances": 2}],
    }
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict

ClusterRole = Literal["standalone", "primary", "global-member", "blue", "green"]


class InstanceNode(TypedDict, total=False):
    id: str  # DBInstanceIdentifier
    az: str | None  # AvailabilityZone
    tier: int | None  # PromotionTier (0 = first failover choice)
    instance_class: str | None  # DBInstanceClass, e.g. db.r6g.large or db.serverless
    status: str | None  # DBInstanceStatus


class ProxyNode(TypedDict, total=False):
    id: str  # DBProxyName
    require_tls: bool | None
    iam_auth: str | None  # DISABLED | REQUIRED | ENABLED (from the proxy's Auth[].IAMAuth)


class GlobalSecondary(TypedDict, total=False):
    id: str  # secondary DBClusterIdentifier
    region: str | None
    status: str | None  # GlobalClusterMembers SynchronizationStatus, e.g. connected
    lag_ms: float | None  # AuroraGlobalDBReplicationLag, when measured
    instances: int | None  # member count; 0 = headless secondary


class ClusterTopology(TypedDict, total=False):
    id: str  # DBClusterIdentifier (required; entries without it are ignored)
    region: str | None
    account: str | None
    role: ClusterRole | str
    engine_version: str | None
    global_cluster: str | None
    blue_green: str | None
    writer: InstanceNode | None
    readers: list[InstanceNode]
    proxy: ProxyNode | None
    global_secondaries: list[GlobalSecondary]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _instance(raw: Any) -> InstanceNode | None:
    if not isinstance(raw, Mapping) or raw.get("id") is None:
        return None
    return InstanceNode(
        id=str(raw["id"]),
        az=_str(raw.get("az")),
        tier=_int(raw.get("tier")),
        instance_class=_str(raw.get("instance_class")),
        status=_str(raw.get("status")),
    )


def _proxy(raw: Any) -> ProxyNode | None:
    if not isinstance(raw, Mapping) or raw.get("id") is None:
        return None
    tls = raw.get("require_tls")
    return ProxyNode(
        id=str(raw["id"]),
        require_tls=tls if isinstance(tls, bool) else None,
        iam_auth=_str(raw.get("iam_auth")),
    )


def _secondary(raw: Any) -> GlobalSecondary | None:
    if not isinstance(raw, Mapping) or raw.get("id") is None:
        return None
    return GlobalSecondary(
        id=str(raw["id"]),
        region=_str(raw.get("region")),
        status=_str(raw.get("status")),
        lag_ms=_float(raw.get("lag_ms")),
        instances=_int(raw.get("instances")),
    )


def read_topology(entries: Iterable[Any]) -> list[ClusterTopology]:
    """Normalise `AuditResult.topology` into `ClusterTopology` dicts, dropping what cannot be drawn."""
    out: list[ClusterTopology] = []
    for raw in entries:
        if not isinstance(raw, Mapping) or raw.get("id") is None:
            continue
        readers_raw = raw.get("readers") or []
        secondaries_raw = raw.get("global_secondaries") or []
        readers = [r for r in (_instance(x) for x in readers_raw) if r is not None]
        secondaries = [s for s in (_secondary(x) for x in secondaries_raw) if s is not None]
        out.append(
            ClusterTopology(
                id=str(raw["id"]),
                region=_str(raw.get("region")),
                account=_str(raw.get("account")),
                role=str(raw.get("role") or "standalone"),
                engine_version=_str(raw.get("engine_version")),
                global_cluster=_str(raw.get("global_cluster")),
                blue_green=_str(raw.get("blue_green")),
                writer=_instance(raw.get("writer")),
                readers=readers,
                proxy=_proxy(raw.get("proxy")),
                global_secondaries=secondaries,
            )
        )
    return out


def readers_by_az(topology: ClusterTopology) -> list[tuple[str, list[InstanceNode]]]:
    """Readers grouped by Availability Zone (sorted), each group sorted by promotion tier then id."""
    groups: dict[str, list[InstanceNode]] = {}
    for reader in topology.get("readers", []):
        groups.setdefault(reader.get("az") or "unknown AZ", []).append(reader)
    return [
        (
            az,
            sorted(
                nodes, key=lambda n: (n.get("tier") if n.get("tier") is not None else 99, n.get("id", ""))
            ),
        )
        for az, nodes in sorted(groups.items())
    ]
