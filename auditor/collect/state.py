"""The mutable accumulator one snapshot collection fills (thread-safe), and small AWS helpers.

Collectors add converted models here; `topology.collect_snapshot` freezes it into a Snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from auditor.collect.aws import COLLECTION_EXCEPTIONS, AwsContext, collection_error
from auditor.models.snapshot import (
    Alarm,
    BlueGreenDeployment,
    Cluster,
    CollectionError,
    EngineVersion,
    GlobalCluster,
    Instance,
    MetricMax,
    ParameterGroup,
    PendingMaintenance,
    Proxy,
    ScalableTarget,
)

T = TypeVar("T")

# RDS Describe* accept MaxRecords 20..100 (RDS API Reference, "MaxRecords"); always ask for the maximum.
RDS_PAGE = 100


def aware(value: Any) -> datetime | None:
    """botocore parses timestamps (sometimes as tzlocal); store them timezone-aware in UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def tags(tag_list: list[dict[str, Any]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in (tag_list or []) if "Key" in t}


def arn_parts(arn: str) -> tuple[str | None, str | None, str]:
    """(region, account, resource id) of `arn:aws:rds:REGION:ACCOUNT:cluster:ID`."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[0] != "arn":
        return None, None, arn
    return parts[3] or None, parts[4] or None, parts[-1]


def paged(client: Any, method: str, key: str, *, marker: str = "Marker", **kwargs: Any) -> Iterator[Any]:
    """Items of every page of a Marker/NextToken-paged operation (the caller sets the page size)."""
    call = getattr(client, method)
    next_key = "NextToken" if marker == "NextToken" else "Marker"
    while True:
        page = call(**kwargs)
        yield from page.get(key, [])
        token = page.get(next_key)
        if not token:
            return
        kwargs[next_key] = token


def all_pages(client: Any, method: str, key: str, *, marker: str = "Marker", **kwargs: Any) -> list[Any]:
    return list(paged(client, method, key, marker=marker, **kwargs))


class Collection:
    def __init__(self, ctx: AwsContext, account: str | None, look_back_minutes: int, now: datetime) -> None:
        self.ctx = ctx
        self.account = account
        self.look_back_minutes = look_back_minutes
        self.now = now
        self.lock = threading.RLock()
        self.clusters: dict[tuple[str, str], Cluster] = {}
        self.instances: dict[tuple[str, str], Instance] = {}
        self.parameter_groups: dict[tuple[str, str, str], ParameterGroup] = {}
        self.global_clusters: dict[str, GlobalCluster] = {}
        self.blue_green: dict[tuple[str, str], BlueGreenDeployment] = {}
        self.proxies: dict[tuple[str, str], Proxy] = {}
        self.scalable_targets: list[ScalableTarget] = []
        self.alarms: list[Alarm] = []
        self.metrics: list[MetricMax] = []
        self.pending: list[PendingMaintenance] = []
        self.engine_versions: dict[tuple[str, str, str], EngineVersion] = {}
        self.errors: list[CollectionError] = []
        self._claimed: set[Hashable] = set()

    # ---- dedupe: the first caller to claim a key fetches it, the others skip
    def claim(self, key: Hashable) -> bool:
        with self.lock:
            if key in self._claimed:
                return False
            self._claimed.add(key)
            return True

    def record(
        self,
        exc: BaseException,
        *,
        resource: str,
        kind: str | None,
        operation: str,
        region: str | None,
        cluster: str | None = None,
    ) -> None:
        err = collection_error(
            exc,
            resource=resource,
            kind=kind,
            operation=operation,
            region=region,
            account=self.account,
            cluster=cluster,
        )
        with self.lock:
            self.errors.append(err)

    def add_error(self, **fields: Any) -> None:
        with self.lock:
            self.errors.append(CollectionError(account=self.account, **fields))

    def attempt(
        self,
        fn: Callable[[], T],
        *,
        resource: str,
        kind: str | None,
        operation: str,
        region: str | None,
        cluster: str | None = None,
    ) -> T | None:
        """Run one read; a failure becomes a CollectionError and None (collection carries on)."""
        try:
            return fn()
        except COLLECTION_EXCEPTIONS as exc:
            self.record(
                exc, resource=resource, kind=kind, operation=operation, region=region, cluster=cluster
            )
            return None

    def clusters_in(self, region: str) -> list[Cluster]:
        with self.lock:
            return [c for (r, _), c in self.clusters.items() if r == region]

    def instances_in(self, region: str) -> list[Instance]:
        with self.lock:
            return [i for (r, _), i in self.instances.items() if r == region]

    def regions(self) -> list[str]:
        with self.lock:
            return sorted({r for r, _ in self.clusters})

    def replace_cluster(self, cluster: Cluster) -> None:
        with self.lock:
            self.clusters[(cluster.region, cluster.id)] = cluster

    def replace_instance(self, instance: Instance) -> None:
        with self.lock:
            self.instances[(instance.region, instance.id)] = instance
