"""What every check receives besides the snapshot: the audited clusters, today, and fast lookups.

The index is built once per evaluation so a 1,000-cluster fleet is not scanned once per rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cached_property

from auditor.models.findings import ResourceRef
from auditor.models.snapshot import (
    Alarm,
    Cluster,
    CollectionError,
    DatabaseState,
    GlobalCluster,
    Instance,
    MetricMax,
    ParameterGroup,
    Proxy,
    ScalableTarget,
    Snapshot,
)

ClusterKey = tuple[str | None, str, str]  # (account, region, id)


def ckey(c: Cluster) -> ClusterKey:
    return (c.account, c.region, c.id)


@dataclass
class Context:
    snapshot: Snapshot
    today: date
    targets: list[Cluster]  # the clusters audited (role "target", optionally narrowed)
    command: str = "check"
    notes: list[str] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return datetime.combine(self.today, time(0, 0), tzinfo=UTC)

    # ---- indexes (built lazily, once)

    @cached_property
    def _instances(self) -> dict[ClusterKey, list[Instance]]:
        out: dict[ClusterKey, list[Instance]] = defaultdict(list)
        for i in self.snapshot.instances:
            if i.cluster_id is not None:
                out[(i.account, i.region, i.cluster_id)].append(i)
        return out

    @cached_property
    def _groups(self) -> dict[tuple[str, str, str, str | None], ParameterGroup]:
        return {(g.kind, g.name, g.region, g.account): g for g in self.snapshot.parameter_groups}

    @cached_property
    def _clusters_by_id(self) -> dict[tuple[str, str], Cluster]:
        return {(c.region, c.id): c for c in self.snapshot.clusters}

    @cached_property
    def _clusters_by_arn(self) -> dict[str, Cluster]:
        return {c.arn: c for c in self.snapshot.clusters if c.arn}

    @cached_property
    def _alarms(self) -> dict[tuple[str, str], list[Alarm]]:
        out: dict[tuple[str, str], list[Alarm]] = defaultdict(list)
        for a in self.snapshot.alarms:
            cid = a.cluster_id or a.dimensions.get("DBClusterIdentifier")
            if cid:
                out[(a.region, cid)].append(a)
        return out

    @cached_property
    def _metrics(self) -> dict[tuple[str, str], list[MetricMax]]:
        out: dict[tuple[str, str], list[MetricMax]] = defaultdict(list)
        for m in self.snapshot.metrics:
            cid = m.cluster_id or m.dimensions.get("DBClusterIdentifier")
            if cid:
                out[(m.region, cid)].append(m)
        return out

    @cached_property
    def _proxies(self) -> dict[tuple[str, str], list[Proxy]]:
        out: dict[tuple[str, str], list[Proxy]] = defaultdict(list)
        for p in self.snapshot.proxies:
            for cid in p.cluster_ids:
                out[(p.region, cid)].append(p)
        return out

    @cached_property
    def _scalable(self) -> dict[tuple[str, str], list[ScalableTarget]]:
        out: dict[tuple[str, str], list[ScalableTarget]] = defaultdict(list)
        for t in self.snapshot.scalable_targets:
            out[(t.region, t.cluster_id)].append(t)
        return out

    @cached_property
    def _databases(self) -> dict[str, DatabaseState]:
        return {d.cluster_id: d for d in self.snapshot.databases}

    @cached_property
    def _errors_by_op(self) -> dict[str, list[CollectionError]]:
        out: dict[str, list[CollectionError]] = defaultdict(list)
        for e in self.snapshot.errors:
            out[e.operation].append(e)
        return out

    # ---- lookups

    def instances_of(self, c: Cluster) -> list[Instance]:
        return self._instances.get(ckey(c), [])

    def writer_of(self, c: Cluster) -> Instance | None:
        writer_ids = {m.instance_id for m in c.members if m.is_writer}
        for i in self.instances_of(c):
            if i.id in writer_ids or (not writer_ids and i.is_writer):
                return i
        return None

    def readers_of(self, c: Cluster) -> list[Instance]:
        w = self.writer_of(c)
        return [i for i in self.instances_of(c) if w is None or i.id != w.id]

    def group(self, kind: str, name: str | None, region: str, account: str | None) -> ParameterGroup | None:
        if name is None:
            return None
        return self._groups.get((kind, name, region, account))

    def cluster(self, cluster_id: str | None, region: str | None = None) -> Cluster | None:
        if cluster_id is None:
            return None
        if region is not None:
            return self._clusters_by_id.get((region, cluster_id))
        return next((c for (r, i), c in self._clusters_by_id.items() if i == cluster_id), None)

    def cluster_by_arn(self, arn: str) -> Cluster | None:
        return self._clusters_by_arn.get(arn)

    def alarms_of(self, c: Cluster) -> list[Alarm]:
        return self._alarms.get((c.region, c.id), [])

    def metrics_of(self, c: Cluster, *names: str) -> list[MetricMax]:
        return [m for m in self._metrics.get((c.region, c.id), []) if m.metric_name in names]

    def proxies_of(self, c: Cluster) -> list[Proxy]:
        return self._proxies.get((c.region, c.id), [])

    def scalable_targets_of(self, c: Cluster) -> list[ScalableTarget]:
        return self._scalable.get((c.region, c.id), [])

    def database(self, c: Cluster) -> DatabaseState | None:
        return self._databases.get(c.id)

    def global_cluster_of(self, c: Cluster) -> GlobalCluster | None:
        for g in self.snapshot.global_clusters:
            if c.global_cluster_id and g.id == c.global_cluster_id:
                return g
            if any(
                m.cluster_arn == c.arn or (m.cluster_id == c.id and m.region == c.region) for m in g.members
            ):
                return g
        return None

    def instance_errors(self, c: Cluster) -> list[CollectionError]:
        """DescribeDBInstances failures that left some of `c`'s members (DBClusterMembers) without an
        instance record: rules that read instances cannot judge `c` and must say `error`."""
        have = {i.id for i in self.instances_of(c)}
        if all(m.instance_id in have for m in c.members):
            return []
        return self.errors("DescribeDBInstances", region=c.region, cluster=c.id)

    def errors(
        self,
        *operations: str,
        region: str | None = None,
        cluster: str | None = None,
        resource: str | None = None,
    ) -> list[CollectionError]:
        """Collection failures for these operations that concern this region / cluster / resource."""
        out = []
        for op in operations:
            for e in self._errors_by_op.get(op, []):
                if region is not None and e.region not in (None, region):
                    continue
                if cluster is not None and e.cluster not in (None, cluster) and e.resource != cluster:
                    continue
                if resource is not None and e.resource != resource and e.cluster != resource:
                    continue
                out.append(e)
        return out


def cluster_ref(c: Cluster) -> ResourceRef:
    return ResourceRef(kind="cluster", id=c.id, region=c.region, arn=c.arn, cluster=c.id, account=c.account)


def instance_ref(i: Instance, cluster_id: str | None = None) -> ResourceRef:
    return ResourceRef(
        kind="instance",
        id=i.id,
        region=i.region,
        arn=i.arn,
        cluster=cluster_id or i.cluster_id,
        account=i.account,
    )


def group_ref(kind: str, g: ParameterGroup | None, name: str, c: Cluster) -> ResourceRef:
    return ResourceRef(
        kind=f"{kind}-parameter-group",
        id=name,
        region=c.region,
        arn=g.arn if g else None,
        cluster=c.id,
        account=c.account,
    )


def error_text(errors: list[CollectionError]) -> str:
    e = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    code = f" [{e.code}]" if e.code else ""
    return f"{e.operation} failed for {e.resource}{code}: {e.message}{more}"
