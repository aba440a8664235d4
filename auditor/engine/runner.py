"""Evaluate a Snapshot against a baseline and the rule catalogue -> AuditResult (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any

from auditor import __version__
from auditor.engine import registry
from auditor.engine.context import Context
from auditor.engine.loader import load_rules
from auditor.engine.registry import Outcome
from auditor.engine.waivers import Waivers, apply_waivers
from auditor.models.baseline import Baseline
from auditor.models.findings import (
    AuditResult,
    Finding,
    ReportError,
    ResourceRef,
    Severity,
    Status,
    Target,
    ToolInfo,
)
from auditor.models.rulespec import RuleSpec
from auditor.models.snapshot import Cluster, Snapshot


def audited_clusters(snapshot: Snapshot, targets: Collection[str] | None = None) -> list[Cluster]:
    """Clusters with role "target" (optionally only the ids given). Green and global-member clusters
    are read by the rules that concern them (BG, GD), never audited on their own."""
    out = [c for c in snapshot.clusters if c.role == "target"]
    if targets is not None:
        wanted = set(targets)
        out = [c for c in out if c.id in wanted]
    return out


def _finding(rule: RuleSpec, o: Outcome) -> Finding:
    rem = ""
    # Remediation is rendered where someone must act (fail; error, whose fix may be the same change).
    if rule.remediation is not None and o.status in (Status.FAIL, Status.ERROR):
        rem = rule.remediation.render(
            resource=o.resource.id, cluster=o.resource.cluster or "", region=o.resource.region or ""
        )
    return Finding(
        rule_id=rule.id,
        title=rule.title,
        status=o.status,
        severity=o.severity or rule.severity,
        resource=o.resource,
        message=o.message,
        drift=list(o.drift),
        remediation=rem,
    )


def run_rules(snapshot: Snapshot, baseline: Baseline, rules: list[RuleSpec], ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for rule in rules:
        entry = registry.get(rule.check)
        try:
            outcomes = entry.fn(snapshot, baseline, rule.parsed_params, ctx)
        except Exception as exc:  # a bug in a check must fail closed, visibly — never a silent pass
            ref = ResourceRef(kind="check", id=rule.check)
            outcomes = [
                Outcome(
                    ref,
                    Status.ERROR,
                    f"check {rule.check} crashed: {type(exc).__name__}: {exc} (please report this bug)",
                )
            ]
        findings.extend(_finding(rule, o) for o in outcomes)
    return findings


def topology(snapshot: Snapshot, ctx: Context) -> list[dict[str, Any]]:
    """One dict per audited cluster (shape documented in auditor/report/topology.py)."""
    from auditor.engine.checks.global_db import GLOBAL_LAG_METRICS, member_cluster, secondaries

    out: list[dict[str, Any]] = []
    bg_by_source = {d.source_cluster_id: d for d in snapshot.blue_green_deployments if d.source_cluster_id}

    def node(i: Any) -> dict[str, Any]:
        return {
            "id": i.id,
            "az": i.availability_zone,
            "tier": i.promotion_tier,
            "instance_class": i.instance_class,
            "status": i.status,
        }

    for c in ctx.targets:
        w = ctx.writer_of(c)
        g = ctx.global_cluster_of(c)
        px = ctx.proxies_of(c)
        secs = []
        role = "standalone"
        if g is not None:
            me = next((m for m in g.members if m.cluster_arn == c.arn or m.cluster_id == c.id), None)
            role = "primary" if me is not None and me.is_writer else "global-member"
            for m in secondaries(g):
                sc = member_cluster(ctx, m)
                lag = (
                    [x.value for x in ctx.metrics_of(sc, *GLOBAL_LAG_METRICS) if x.value is not None]
                    if sc
                    else []
                )
                secs.append(
                    {
                        "id": m.cluster_id or (sc.id if sc else m.cluster_arn),
                        "region": m.region,
                        "status": m.synchronization_status,
                        "lag_ms": max(lag) if lag else None,
                        "instances": (len(ctx.instances_of(sc)) or len(sc.members)) if sc else None,
                    }
                )
        bg = bg_by_source.get(c.id)
        if bg is not None and role == "standalone":
            role = "blue"
        out.append(
            {
                "id": c.id,
                "region": c.region,
                "account": c.account,
                "role": role,
                "engine_version": c.engine_version,
                "global_cluster": g.id if g else c.global_cluster_id,
                "blue_green": bg.id if bg else None,
                "writer": node(w) if w else None,
                "readers": [
                    node(r) for r in sorted(ctx.readers_of(c), key=lambda r: ((r.promotion_tier or 0), r.id))
                ],
                "proxy": (
                    {
                        "id": px[0].name,
                        "require_tls": px[0].require_tls,
                        "iam_auth": next((a.iam_auth for a in px[0].auth if a.iam_auth), None),
                    }
                    if px
                    else None
                ),
                "global_secondaries": secs,
            }
        )
    return out


def evaluate(
    snapshot: Snapshot,
    baseline: Baseline,
    *,
    waivers: Waivers | None = None,
    command: str = "check",
    fail_on: Severity = Severity.HIGH,
    today: date | None = None,
    targets: Collection[str] | None = None,
    families: Collection[str] | None = None,
    rules: list[RuleSpec] | None = None,
) -> AuditResult:
    """Every rule (of the chosen families) over the audited clusters; waivers applied; summary computed.

    `families` lets a command choose rule families (e.g. gate: {"BG", "GD", ...}); None = all.
    `complete` is False when any finding is `error` or the snapshot recorded a collection error.
    """
    today = today or snapshot.taken_at.astimezone(UTC).date()
    catalogue = rules if rules is not None else load_rules()
    if families is not None:
        fam = {f.upper() for f in families}
        catalogue = [r for r in catalogue if r.family in fam]
    ctx = Context(
        snapshot=snapshot, today=today, targets=audited_clusters(snapshot, targets), command=command
    )
    findings = run_rules(snapshot, baseline, catalogue, ctx)
    findings = apply_waivers(findings, waivers, today)

    result = AuditResult(
        tool=ToolInfo(version=__version__),
        generated_at=datetime.now(UTC).replace(microsecond=0),
        command=command,
        complete=not snapshot.errors and not any(f.status is Status.ERROR for f in findings),
        targets=[Target(kind=t.kind, id=t.id, region=t.region, account=t.account) for t in snapshot.targets]
        or [Target(kind="cluster", id=c.id, region=c.region, account=c.account) for c in ctx.targets],
        findings=findings,
        errors=[
            ReportError(
                resource=e.resource, operation=e.operation, message=e.message, region=e.region, code=e.code
            )
            for e in snapshot.errors
        ],
        baselines=list(baseline.sources),
        fail_on=fail_on,
        notes=ctx.notes,
        topology=topology(snapshot, ctx),
    )
    return result.with_summary()
