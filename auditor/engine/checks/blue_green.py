"""BG — the blue/green pre-switchover gate: deployment selection and BG01–BG05 (AWS-side checks).

BG06–BG09 (in-database and downstream) live in checks/blue_green_db.py and share the helpers here.

Which deployments: the ones the snapshot names as `blue-green` targets (the `gate` command), else every
active deployment whose blue is an audited cluster (the `check` command). Blue is the deployment's source
cluster, green its target (role "green" in the snapshot). A deployment whose blue or green is missing
from the snapshot yields `error` findings: the gate fails closed, never passes on absent data.

Sources: Aurora User Guide "Overview of Amazon Aurora blue/green deployments", "Limitations and
considerations for Amazon Aurora blue/green deployments" (Aurora PostgreSQL uses logical replication from
blue to green; tables need a primary key or replica identity; long transactions delay switchover);
RDS API Reference "BlueGreenDeployment", "SwitchoverDetail", "BlueGreenDeploymentTask".
"""

from __future__ import annotations

import re
from typing import Any

from auditor.engine import values
from auditor.engine.checks._util import errored, failed, passed, skipped
from auditor.engine.checks.parameters import actual_value, apply_status_drift, compare_group, drift_sentence
from auditor.engine.context import Context, cluster_ref, error_text, group_ref, instance_ref
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline, Matcher
from auditor.models.findings import ResourceRef
from auditor.models.snapshot import BlueGreenDeployment, Cluster, ParameterGroup, Snapshot

# DescribeBlueGreenDeployments Status values after which the deployment no longer replicates.
FINISHED = frozenset({"SWITCHOVER_COMPLETED", "DELETING"})
HEALTHY_STATUS = "AVAILABLE"
HEALTHY_SWITCHOVER = "AVAILABLE"  # SwitchoverDetail.Status when the member pair is ready to switch
LOGICAL_REPLICATION = "rds.logical_replication"


# ---------------------------------------------------------------- which deployment, blue and green


def bgd_ref(d: BlueGreenDeployment) -> ResourceRef:
    return ResourceRef(
        kind="blue-green-deployment",
        id=d.id,
        region=d.region,
        cluster=d.source_cluster_id,
        account=d.account,
    )


def gate_deployments(snap: Snapshot, ctx: Context) -> list[BlueGreenDeployment | str]:
    """Deployments to gate; a bare id stands for one the snapshot names but could not describe."""
    named = [t.id for t in snap.targets if t.kind == "blue-green"]
    by_id = {d.id: d for d in snap.blue_green_deployments}
    if named:
        return [by_id.get(i, i) for i in named]
    target_ids = {(c.region, c.id) for c in ctx.targets}
    return [
        d
        for d in snap.blue_green_deployments
        if (d.region, d.source_cluster_id) in target_ids and (d.status or "").upper() not in FINISHED
    ]


class Pair:
    """One deployment with its blue and green clusters (None where not collected)."""

    def __init__(self, ctx: Context, d: BlueGreenDeployment) -> None:
        self.d = d
        self.blue = ctx.cluster_by_arn(d.source_arn or "") or ctx.cluster(d.source_cluster_id, d.region)
        self.green = ctx.cluster_by_arn(d.target_arn or "") or ctx.cluster(d.target_cluster_id, d.region)

    def missing(self) -> str | None:
        if self.blue is None:
            return f"blue cluster {self.d.source_cluster_id or self.d.source_arn} was not collected"
        if self.green is None:
            return f"green cluster {self.d.target_cluster_id or self.d.target_arn} was not collected"
        return None


def _pairs(snap: Snapshot, ctx: Context) -> list[Pair | Outcome]:
    out: list[Pair | Outcome] = []
    if not any(t.kind == "blue-green" for t in snap.targets):
        # `check`: a target whose deployments could not be listed may have one pending: error, not absent.
        for c in ctx.targets:
            errs = ctx.errors("DescribeBlueGreenDeployments", region=c.region)
            if errs:
                out.append(
                    errored(cluster_ref(c), f"blue/green deployments could not be listed: {error_text(errs)}")
                )
    for d in gate_deployments(snap, ctx):
        if isinstance(d, str):
            errs = ctx.errors("DescribeBlueGreenDeployments")
            why = error_text(errs) if errs else "it is not in the snapshot"
            out.append(errored(ResourceRef(kind="blue-green-deployment", id=d), f"deployment {d}: {why}"))
        else:
            out.append(Pair(ctx, d))
    return out


def with_clusters(snap: Snapshot, ctx: Context, judge: Any) -> list[Outcome]:
    """Run `judge(pair) -> list[Outcome]` for each deployment whose blue and green were collected."""
    out: list[Outcome] = []
    for p in _pairs(snap, ctx):
        if isinstance(p, Outcome):
            out.append(p)
            continue
        why = p.missing()
        if why is not None:
            errs = ctx.errors("DescribeDBClusters", region=p.d.region)
            out.append(errored(bgd_ref(p.d), why + (f": {error_text(errs)}" if errs else "")))
            continue
        out.extend(judge(p))
    return out


# ---------------------------------------------------------------- BG01 status


@register("bg-deployment-status")
def deployment_status(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out: list[Outcome] = []
    for pair in _pairs(snap, ctx):
        if isinstance(pair, Outcome):
            out.append(pair)
            continue
        d = pair.d
        ref = bgd_ref(d)
        if d.status is None:
            out.append(errored(ref, "DescribeBlueGreenDeployments returned no Status"))
            continue
        expected: dict[str, Any] = {"status": HEALTHY_STATUS}
        actual: dict[str, Any] = {"status": d.status}
        for sd in d.switchover_details:
            key = f"switchover.{sd.source_member or '?'}"
            expected[key], actual[key] = HEALTHY_SWITCHOVER, sd.status
        for t in d.tasks:
            if (t.status or "").upper() == "FAILED":
                expected[f"task.{t.name}"], actual[f"task.{t.name}"] = "not FAILED", t.status
        drift = diff(expected, actual)
        if drift:
            why = [f"{x.path} is {x.actual}" for x in drift]
            detail = f" ({d.status_details})" if d.status_details else ""
            out.append(
                failed(
                    ref,
                    f"deployment {d.name or d.id} is not ready to switch over: {'; '.join(why)}{detail}",
                    drift,
                )
            )
        else:
            n = len(d.switchover_details)
            out.append(passed(ref, f"deployment is AVAILABLE; {n} switchover member pair(s) AVAILABLE"))
    return out


# ---------------------------------------------------------------- BG02/BG03 parameters, blue shown


def shown_value(g: ParameterGroup | None, name: str) -> Any:
    if g is None:
        return "(not collected)"
    if name not in g.parameters:
        return None if g.complete else "(unknown)"
    return values.display(values.normalize(*actual_value(g, name)))


def _three_columns(
    ctx: Context,
    kind: str,
    green_name: str | None,
    green: Cluster,
    blue_group: ParameterGroup | None,
    matchers: dict[str, Matcher],
    what: str,
) -> Outcome:
    g = ctx.group(kind, green_name, green.region, green.account)
    ref = group_ref(kind, g, green_name or "(unknown)", green)
    if green_name is None:
        return errored(ref, f"green's {what} parameter group name was not collected")
    if g is None:
        op = "DescribeDBClusterParameters" if kind == "cluster" else "DescribeDBParameters"
        errs = ctx.errors(op, region=green.region, resource=green_name)
        why = error_text(errs) if errs else "it is not in the snapshot"
        return errored(ref, f"green {what} parameter group {green_name} could not be read: {why}")
    cmp = compare_group(g, matchers, ctx)
    if cmp.unknown:
        return errored(ref, f"{green_name} was read only partly; cannot judge {', '.join(cmp.unknown)}")
    # Three columns for the reviewer: baseline (expected), green (actual), blue (compare).
    drift = [d.model_copy(update={"compare": {"blue": shown_value(blue_group, d.path)}}) for d in cmp.drift]
    if drift:
        blue_part = "; ".join(f"blue has {d.path} = {d.compare['blue']}" for d in drift[:5])
        return failed(
            ref,
            f"green's {what} parameter group {green_name}: {drift_sentence(drift)} ({blue_part}) — "
            "switching over would put this into production" + "".join(f" ({n})" for n in cmp.notes),
            drift,
        )
    return passed(ref, f"green's {green_name} matches the baseline on {len(matchers)} parameter(s)")


@register("bg-green-cluster-parameters")
def green_cluster_parameters(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None and pair.green is not None
        if not bl.cluster_parameters:
            return [
                skipped(
                    group_ref("cluster", None, pair.green.parameter_group or "?", pair.green),
                    "cluster_parameters",
                )
            ]
        blue_g = ctx.group("cluster", pair.blue.parameter_group, pair.blue.region, pair.blue.account)
        return [
            _three_columns(
                ctx,
                "cluster",
                pair.green.parameter_group,
                pair.green,
                blue_g,
                bl.cluster_parameters,
                "cluster",
            )
        ]

    return with_clusters(snap, ctx, judge)


@register("bg-green-db-parameters")
def green_db_parameters(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None and pair.green is not None
        green = pair.green
        if errs := ctx.instance_errors(green):  # never judge green's DB groups from a partial member list
            return [
                errored(cluster_ref(green), f"instances of {green.id} could not be read: {error_text(errs)}")
            ]
        names = sorted({g.name for i in ctx.instances_of(green) for g in i.parameter_groups})
        if not names:
            return [errored(cluster_ref(green), "no DB parameter group collected for green's instances")]
        bw = ctx.writer_of(pair.blue)
        blue_name = bw.parameter_groups[0].name if bw and bw.parameter_groups else None
        blue_g = ctx.group("db", blue_name, pair.blue.region, pair.blue.account)
        if not bl.db_parameters:
            return [skipped(group_ref("db", None, n, green), "db_parameters") for n in names]
        return [_three_columns(ctx, "db", n, green, blue_g, bl.db_parameters, "DB") for n in names]

    return with_clusters(snap, ctx, judge)


# ---------------------------------------------------------------- BG04 engine version


def version_key(v: str) -> tuple[int, ...]:
    """'16.4' -> (16, 4); Aurora versions are numeric dotted (a suffix such as '.limitless' is ignored)."""
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


@register("bg-green-engine-version")
def green_engine_version(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        assert pair.blue is not None and pair.green is not None
        blue_v, green_v, want = (
            pair.blue.engine_version,
            pair.green.engine_version,
            pair.d.target_engine_version,
        )
        ref = cluster_ref(pair.green)
        expected: dict[str, Any] = {}
        actual: dict[str, Any] = {}
        if want and version_key(green_v) != version_key(want):
            expected["engine_version"], actual["engine_version"] = want, green_v
        if version_key(green_v) < version_key(blue_v):
            expected["engine_version_vs_blue"], actual["engine_version_vs_blue"] = f">= {blue_v}", green_v
        drift = [x.model_copy(update={"compare": {"blue": blue_v}}) for x in diff(expected, actual)]
        target_txt = (
            f"target {want}"
            if want
            else "target unknown (pass --target-engine-version or tag the deployment "
            "aurora-audit:target-engine-version)"
        )
        if drift:
            return [
                failed(
                    ref,
                    f"green runs {green_v}, blue {blue_v}, {target_txt}: "
                    "green must run the target and never be older than blue",
                    drift,
                )
            ]
        return [passed(ref, f"green runs {green_v} (blue {blue_v}; {target_txt})")]

    return with_clusters(snap, ctx, judge)


# ---------------------------------------------------------------- BG05 writers in-sync


@register("bg-writers-in-sync")
def writers_in_sync(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    def judge(pair: Pair) -> list[Outcome]:
        out: list[Outcome] = []
        for side, c in (("blue", pair.blue), ("green", pair.green)):
            assert c is not None
            w = ctx.writer_of(c)
            if w is None:
                out.append(errored(cluster_ref(c), f"{side} writer instance was not collected"))
                continue
            ref = instance_ref(w, c.id)
            status = apply_status_drift(c, w)
            if status is None:
                out.append(errored(ref, f"{side} writer's parameter apply status was not collected"))
                continue
            drift, what = status
            if drift:
                out.append(
                    failed(
                        ref,
                        f"{side} writer {w.id}: {what} — the settings you reviewed are not "
                        "the ones running; reboot before switching over",
                        drift,
                    )
                )
            else:
                out.append(passed(ref, f"{side} writer {w.id}: parameter groups in-sync"))
        return out

    return with_clusters(snap, ctx, judge)
