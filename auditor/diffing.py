"""What changed between two snapshots, resource by resource (`aurora-audit diff OLD.json NEW.json`).

Each snapshot is first reshaped into resources keyed by identity (instances by id, parameter groups by
name with their parameters by name, cluster members by instance id...), then compared with deepdiff,
so a change reads `cluster-parameter-group prod-app-pg16 / rds.logical_replication: 0 → 1` rather than
`root['parameter_groups'][3]['parameters'][...]`. Collection noise (taken_at, call counts, timings,
metric windows, WAL positions that move every second) is left out.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent
from pydantic import BaseModel, ConfigDict

from auditor.models.snapshot import Snapshot

DIFF_SCHEMA = "aurora-audit/diff/v1"

ChangeKind = Literal["changed", "added", "removed"]

# Fields that differ between two collections of an unchanged topology.
_NOISE_FIELDS = {
    "collected_at",
    "queries",
    "oldest_transaction",
    # replication slots / connections: positions and lags move continuously
    "restart_lsn",
    "confirmed_flush_lsn",
    "retained_wal_bytes",
    "safe_wal_size",
    "active_pid",
    "pid",
    "replay_lag_s",
    "estimated_rows",
}
# List items keyed by identity, in order of preference.
_ITEM_KEYS = ("instance_id", "cluster_arn", "name", "id", "resource_id", "source_member")


class SnapshotChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    resource_kind: str  # cluster, instance, cluster-parameter-group, db-parameter-group, proxy, ...
    resource_id: str
    region: str | None = None
    path: str  # inside the resource: `deletion_protection`, `members.prod-app-2.promotion_tier`; "" = whole
    change: ChangeKind
    old: Any = None
    new: Any = None

    def text(self) -> str:
        where = f"{self.resource_kind} {self.resource_id}"
        if self.change == "added":
            what = f"added {_fmt(self.new)}" if self.path else "added"
        elif self.change == "removed":
            what = f"removed (was {_fmt(self.old)})" if self.path else "removed"
        else:
            what = f"{_fmt(self.old)} → {_fmt(self.new)}"
        return f"{where} / {self.path}: {what}" if self.path else f"{where}: {what}"


def _fmt(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _normalise(value: Any) -> Any:
    """Lists of records become dicts keyed by identity; noise fields go away."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if k not in _NOISE_FIELDS}
    if isinstance(value, list | tuple):
        items = [_normalise(v) for v in value]
        if items and all(isinstance(i, dict) for i in items):
            for key in _ITEM_KEYS:
                if all(key in i and i[key] is not None for i in items):
                    ids = [str(i[key]) for i in items]
                    if len(set(ids)) == len(ids):
                        return {str(i[key]): i for i in items}
        return items
    return value


def _resources(snap: Snapshot) -> dict[tuple[str, str, str | None], Any]:
    data = snap.model_dump(mode="json", by_alias=True)
    out: dict[tuple[str, str, str | None], Any] = {}

    def put(kind: str, rid: str, region: str | None, body: Any) -> None:
        out[(kind, rid, region)] = _normalise(body)

    for c in data["clusters"]:
        put("cluster", c["id"], c["region"], c)
    for i in data["instances"]:
        put("instance", i["id"], i["region"], i)
    for g in data["parameter_groups"]:
        kind = "cluster-parameter-group" if g["kind"] == "cluster" else "db-parameter-group"
        body: dict[str, Any] = {name: p.get("raw_value") for name, p in g["parameters"].items()}
        if not g.get("complete", True):
            body["(incomplete)"] = True
        put(kind, g["name"], g["region"], body)
    for g in data["global_clusters"]:
        put("global-cluster", g["id"], g.get("region"), g)
    for b in data["blue_green_deployments"]:
        put("blue-green-deployment", b["id"], b["region"], b)
    for p in data["proxies"]:
        put("proxy", p["name"], p["region"], p)
    for t in data["scalable_targets"]:
        put("scalable-target", t["resource_id"], t["region"], t)
    for a in data["alarms"]:
        put("alarm", a["name"], a["region"], a)
    for m in data["pending_maintenance"]:
        put(
            "pending-maintenance",
            f"{m.get('resource_id') or m['resource_arn']} {m['action']}",
            m["region"],
            m,
        )
    for e in data["engine_versions"]:
        put("engine-version", f"{e['engine']} {e['version']}", e["region"], e)
    for d in data["databases"]:
        put("database", d["cluster_id"], d.get("region"), d)
    for e in data["errors"]:
        put("collection-error", f"{e['operation']} {e['resource']}", e.get("region"), e)
    return out


def _path(parts: list[Any]) -> str:
    return ".".join(str(p) for p in parts)


def diff_snapshots(old: Snapshot, new: Snapshot) -> list[SnapshotChange]:
    """Every difference between two snapshots, by resource, in a stable order."""
    a, b = _resources(old), _resources(new)
    changes: list[SnapshotChange] = []
    for key in sorted(set(a) | set(b), key=lambda k: (k[0], k[2] or "", k[1])):
        kind, rid, region = key
        if key not in b:
            changes.append(
                SnapshotChange(resource_kind=kind, resource_id=rid, region=region, path="", change="removed")
            )
            continue
        if key not in a:
            changes.append(
                SnapshotChange(resource_kind=kind, resource_id=rid, region=region, path="", change="added")
            )
            continue
        tree = DeepDiff(a[key], b[key], ignore_order=True, view="tree")
        for report_type in sorted(tree):
            for item in tree[report_type]:
                parts = item.path(output_format="list")
                if "iterable_item" in report_type or "set_item" in report_type:
                    parts = parts[:-1]  # the position of an unordered item is meaningless
                t1 = None if isinstance(item.t1, NotPresent) else item.t1
                t2 = None if isinstance(item.t2, NotPresent) else item.t2
                if isinstance(item.t1, NotPresent):
                    change: ChangeKind = "added"
                elif isinstance(item.t2, NotPresent):
                    change = "removed"
                else:
                    change = "changed"
                changes.append(
                    SnapshotChange(
                        resource_kind=kind,
                        resource_id=rid,
                        region=region,
                        path=_path(parts),
                        change=change,
                        old=t1,
                        new=t2,
                    )
                )
    changes.sort(
        key=lambda c: (c.resource_kind, c.region or "", c.resource_id, c.path, _fmt(c.old), _fmt(c.new))
    )
    return changes


def render_diff_text(changes: list[SnapshotChange]) -> str:
    if not changes:
        return "no changes\n"
    return "".join(c.text() + "\n" for c in changes)


def diff_to_json(changes: list[SnapshotChange], *, old: str | None = None, new: str | None = None) -> str:
    """The machine form: `{"schema": "aurora-audit/diff/v1", "old", "new", "changes": [...]}`."""
    doc = {
        "schema": DIFF_SCHEMA,
        "old": old,
        "new": new,
        "count": len(changes),
        "changes": [c.model_dump(mode="json") | {"text": c.text()} for c in changes],
    }
    return json.dumps(doc, indent=2, default=str) + "\n"
