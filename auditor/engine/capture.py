"""`baseline capture`: write an approved baseline from a known-good cluster (YAML text; the CLI writes it).

The captured baseline records the cluster as it is, so the same snapshot passes it: hardening switches
are captured as they are (a switch that is off is captured as "not required" — review those lines),
minimums are the current counts, parameter values are the current ones. Thresholds that come from
measurements (lag, retained WAL) are captured with headroom and say so in a comment.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from auditor.engine import values
from auditor.engine.checks.availability import is_burstable
from auditor.engine.checks.global_db import GLOBAL_LAG_METRICS, member_cluster, secondaries
from auditor.engine.checks.monitoring import READ_REPLICA_COUNT
from auditor.engine.checks.parameters import actual_value
from auditor.engine.context import Context
from auditor.errors import NotFoundError
from auditor.models.baseline import BASELINE_SCHEMA
from auditor.models.snapshot import Cluster, ParameterGroup, Snapshot

# Parameters always captured (when present) even if the engine default is in force: the ones the
# production runbook and the rules care about.
KEY_CLUSTER_PARAMETERS = (
    "rds.force_ssl",
    "rds.logical_replication",
    "max_connections",
    "log_statement",
    "max_replication_slots",
    "max_slot_wal_keep_size",
)
KEY_DB_PARAMETERS = ("log_min_duration_statement", "idle_in_transaction_session_timeout", "statement_timeout")


def _param_values(g: ParameterGroup | None, keys: tuple[str, ...]) -> dict[str, Any]:
    if g is None:
        return {}
    out: dict[str, Any] = {}
    for name, p in sorted(g.parameters.items()):
        if p.source == "user" or name in keys:
            v, dt = actual_value(g, name)
            if v is None:
                continue
            shown = values.display(values.normalize(v, dt))
            out[name] = str(shown) if not isinstance(shown, str) else shown
    return out


def _headroom(observed: float | None, floor: float) -> float:
    if observed is None:
        return floor
    return float(max(floor, math.ceil(observed * 2)))


def capture_baseline(snapshot: Snapshot, cluster_id: str) -> str:
    c = next((x for x in snapshot.clusters if x.id == cluster_id), None)
    if c is None:
        raise NotFoundError(f"cluster {cluster_id} is not in the snapshot (collect it first)")
    ctx = Context(snapshot=snapshot, today=snapshot.taken_at.date(), targets=[c])
    data = _capture(ctx, c)
    header = (
        f"# Captured by `aurora-audit baseline capture {c.id}`\n"
        f"# from the snapshot taken {snapshot.taken_at.isoformat()}.\n"
        "# Review every line before approving it: this is the cluster as it IS, not as it should be.\n"
        "# Switches captured as false mean 'not required' — flip them to true to require them.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=110)


def _capture(ctx: Context, c: Cluster) -> dict[str, Any]:
    insts = ctx.instances_of(c)
    readers = ctx.readers_of(c)
    managed = c.master_user_secret is not None and bool(c.master_user_secret.secret_arn)
    cluster: dict[str, Any] = {
        "deletion_protection": bool(c.deletion_protection),
        "storage_encrypted": bool(c.storage_encrypted),
        "kms_customer_managed": c.kms_key_manager == "CUSTOMER",
        "iam_auth": bool(c.iam_auth),
        "managed_master_password": managed,
        "log_exports": list(c.log_exports),
        "copy_tags_to_snapshot": bool(c.copy_tags_to_snapshot),
        "engine_eol_warn_days": 180,  # time-based: CL08 fails later if the upgrade is not planned
        "maintenance_forced_apply_warn_days": 30,
        "certificate_expiry_warn_days": 90,
        "custom_parameter_groups": not (c.parameter_group or "default.").startswith("default.")
        and all(not g.name.startswith("default.") for i in insts for g in i.parameter_groups),
    }
    if c.backup_retention_days:
        cluster["backup_retention_days_min"] = c.backup_retention_days
    azs = {i.availability_zone for i in insts if i.availability_zone}
    lag = [
        m.value
        for m in ctx.metrics_of(c, "AuroraReplicaLagMaximum", "AuroraReplicaLag")
        if m.value is not None
    ]
    instances: dict[str, Any] = {
        "min_readers": len(readers),
        "allow_burstable": any(is_burstable(i.instance_class) for i in insts),
        "performance_insights": bool(insts) and all(i.performance_insights_enabled for i in insts),
    }
    if len(azs) >= 1:
        instances["min_azs"] = len(azs)
    if readers:
        instances["max_replica_lag_ms"] = _headroom(max(lag) if lag else None, 100)
    out: dict[str, Any] = {
        "schema": BASELINE_SCHEMA,
        "description": f"Captured from {c.id} ({c.region}, {c.engine} {c.engine_version})",
        "cluster": cluster,
        "instances": instances,
    }
    proxies = ctx.proxies_of(c)
    if proxies:
        p = proxies[0]
        modes = {a.iam_auth for a in p.auth if a.iam_auth}
        proxy: dict[str, Any] = {"required": True, "require_tls": bool(p.require_tls)}
        if len(modes) == 1:
            proxy["iam_auth"] = modes.pop()
        out["proxy"] = proxy
    else:
        out["proxy"] = {"required": False}
    st = next((t for t in ctx.scalable_targets_of(c) if t.scalable_dimension == READ_REPLICA_COUNT), None)
    if st is not None and st.min_capacity is not None and st.policies and not st.suspended:
        out["autoscaling"] = {"min_capacity": st.min_capacity}
    metrics = sorted(
        {
            m
            for a in ctx.alarms_of(c)
            if a.alarm_actions and a.actions_enabled is not False
            for m in {a.metric_name, *a.metric_names}
            if m
        }
    )
    if metrics:
        out["alarms"] = metrics
    cg = ctx.group("cluster", c.parameter_group, c.region, c.account)
    if cg is not None:
        out["cluster_parameters"] = _param_values(cg, KEY_CLUSTER_PARAMETERS)
    dbg_names = sorted({g.name for i in insts for g in i.parameter_groups})
    if len(dbg_names) == 1:
        dg = ctx.group("db", dbg_names[0], c.region, c.account)
        if dg is not None:
            out["db_parameters"] = _param_values(dg, KEY_DB_PARAMETERS)
    db = ctx.database(c)
    if db is not None and db.status == "collected":
        retained = [s.retained_wal_bytes for s in db.slots if s.retained_wal_bytes is not None]
        out["replication_slots"] = {
            "allowed": sorted(s.name for s in db.slots),
            "max_retained_wal_bytes": int(_headroom(max(retained) if retained else None, 1 << 30)),
            "max_slot_usage_percent": 80,
        }
    g = ctx.global_cluster_of(c)
    if g is not None:
        secs = secondaries(g)
        lag_vals = []
        headless = False
        for m in secs:
            sc = member_cluster(ctx, m)
            if sc is not None:
                lag_vals += [x.value for x in ctx.metrics_of(sc, *GLOBAL_LAG_METRICS) if x.value is not None]
                headless = headless or not (ctx.instances_of(sc) or sc.members)
        out["global_database"] = {
            "min_secondaries": len({m.region for m in secs}),
            "max_lag_ms": _headroom(max(lag_vals) if lag_vals else None, 1000),
            "allow_headless": headless,
        }
    return out
