"""The pre-switchover gate: collect blue, green and the deployment, evaluate BG01–BG09 plus the baseline on
green, and fail closed.

`run_gate` is what `aurora-audit gate` calls (through auditor.api). It
1. finds the deployment by identifier or name (`--blue-green`), or the blue cluster's active deployment
   (`--cluster`); a missing deployment raises NotFoundError ("blue/green deployment X not found in region R");
2. collects one snapshot with blue as the target (topology adds green, both clusters' and instances'
   parameter groups, the Global Database and its secondaries' sync status and lag, and both writers'
   in-database state — a bare `--pg-dsn postgresql://...` applies to blue);
3. evaluates the BG rules on the deployment and the baseline rules (CL/HA/PG/RS, less the ones that follow
   the cluster *identifier* at switchover) on green, and applies waivers once to the merged findings.
Nothing here prints or writes files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.errors import CollectionFailed, NotFoundError, UsageError
from auditor.models.findings import AuditResult, Status
from auditor.models.snapshot import BlueGreenDeployment, Snapshot

if TYPE_CHECKING:
    from auditor.api import ProgressFn, RunOptions, RunOutcome
    from auditor.collect.aws import AwsContext

# auditor.api re-exports run_gate, so api's names are imported inside the functions (no import cycle).

# Baseline rules NOT run on green, and why (everything else in CL/HA/PG/RS is):
# - HA06 replica lag, HA09 alarms: CloudWatch dimensions name the cluster identifier; at switchover green
#   takes blue's identifier (Aurora User Guide, "Switching a blue/green deployment"), so blue's alarms and
#   metrics series follow; green's own pre-switchover series is empty by design.
# - HA08 replica auto scaling: the Application Auto Scaling target is `cluster:<identifier>`, so blue's
#   registration follows the identifier at switchover just as alarms do.
# - HA07 RDS Proxy: a proxy is not part of a blue/green deployment (Aurora User Guide, "Limitations and
#   considerations for Amazon Aurora blue/green deployments").
# - GD*: green is not a Global Database member before switchover; BG09 checks the downstream secondaries.
GREEN_EXCLUDED_RULES = frozenset({"HA06", "HA07", "HA08", "HA09"})
GREEN_EXCLUDED_FAMILIES = frozenset({"BG", "GD"})

# DescribeBlueGreenDeployments Status values of a deployment that is no longer switchable.
_INACTIVE = frozenset({"SWITCHOVER_COMPLETED", "DELETING"})


def run_gate(
    bgd_id: str | None,
    cluster_id: str | None,
    opts: RunOptions,
    *,
    target_engine_version: str | None = None,
    progress: ProgressFn | None = None,
) -> RunOutcome:
    """Collect (or load) and evaluate one blue/green deployment for the pre-switchover gate."""
    from auditor.api import RunOutcome, load_snapshot_file

    _validate_inputs(opts)  # bad baseline / waivers / --pg-dsn: exit 2 before any AWS call
    if opts.from_snapshot:
        snapshot = load_snapshot_file(opts.from_snapshot)
        bgd = _deployment_in_snapshot(snapshot, bgd_id, cluster_id, opts.from_snapshot)
    else:
        if not bgd_id and not cluster_id:
            raise UsageError("gate needs --blue-green BGD_ID or --cluster CLUSTER_ID")
        snapshot, bgd = collect_gate_snapshot(bgd_id, cluster_id, opts, progress)
        if opts.snapshot_hook:
            snapshot = opts.snapshot_hook(snapshot)
    if target_engine_version:
        snapshot = _set_target_version(snapshot, bgd.id, target_engine_version)
    if progress:
        progress("evaluating")
    result = evaluate_gate(snapshot, opts, bgd)
    skipped = db_skipped(snapshot, bgd)
    return RunOutcome(result, snapshot, db_skipped_unapproved=skipped and not opts.allow_skip_db)


def db_skipped(snapshot: Snapshot, bgd: BlueGreenDeployment) -> bool:
    """Were blue's or green's in-database checks skipped (`--no-db`)? Read from the snapshot, which is
    what was actually evaluated (a saved snapshot, or the demo's simulated writers)."""
    dep = next((d for d in snapshot.blue_green_deployments if d.id == bgd.id), bgd)
    ids = {dep.source_cluster_id, dep.target_cluster_id} - {None}
    return any(d.status == "skipped" for d in snapshot.databases if d.cluster_id in ids)


def _validate_inputs(opts: RunOptions) -> None:
    from auditor.collect.pg_dsn import parse_pg_dsn_options
    from auditor.engine.loader import load_baseline, load_waivers

    load_baseline(list(opts.baselines) or ["default"])
    if opts.waivers:
        load_waivers(opts.waivers)
    if not opts.from_snapshot:
        parse_pg_dsn_options(opts.pg_dsns, "blue")  # syntax only; applied to the real blue id later


# ---------------------------------------------------------------- collection


def collect_gate_snapshot(
    bgd_id: str | None, cluster_id: str | None, opts: RunOptions, progress: ProgressFn | None = None
) -> tuple[Snapshot, BlueGreenDeployment]:
    from auditor.api import _resolve_region, aws_context, db_options
    from auditor.collect.blue_green import convert_bgd
    from auditor.collect.topology import collect_snapshot

    ctx = aws_context(opts, opts.role_arns[0] if opts.role_arns else None)
    region = _resolve_region(opts, ctx)
    if progress:
        progress(f"finding blue/green deployment {bgd_id or 'of ' + str(cluster_id)} in {region}")
    mark = ctx.call_log.mark()
    raw = _find(ctx, region, bgd_id, cluster_id)
    bgd = convert_bgd(raw, region, None)
    blue = bgd.source_cluster_id
    if not blue:
        raise NotFoundError(f"blue/green deployment {bgd.id} has no source cluster in region {region}")
    if progress:
        progress(f"collecting blue {blue} and green {bgd.target_cluster_id} in {region}")
    snapshot = collect_snapshot(
        ctx,
        region,
        [blue],
        look_back_minutes=opts.look_back_minutes,
        db=db_options(opts, blue),  # a bare scheme-prefixed --pg-dsn applies to blue
        blue_green=bgd.id,
    )
    # The call log covers the deployment lookup too (collect_snapshot counts from its own start).
    snapshot = snapshot.model_copy(update={"calls": tuple(ctx.call_log.stats(since=mark))})
    if not any(d.id == bgd.id for d in snapshot.blue_green_deployments):
        # The per-region listing failed after the lookup succeeded (its error is in snapshot.errors):
        # keep the deployment the lookup returned so BG01 judges what AWS said.
        account = snapshot.targets[0].account if snapshot.targets else None
        snapshot = snapshot.model_copy(
            update={
                "blue_green_deployments": (
                    *snapshot.blue_green_deployments,
                    bgd.model_copy(update={"account": account}),
                )
            }
        )
    return snapshot, bgd


def _find(ctx: AwsContext, region: str, bgd_id: str | None, cluster_id: str | None) -> dict[str, Any]:
    """The raw deployment; NotFoundError when absent; CollectionFailed (one line) when it cannot be read."""
    import botocore.exceptions

    from auditor.collect.aws import COLLECTION_EXCEPTIONS, error_code, error_message
    from auditor.collect.blue_green import find_deployment

    try:
        if bgd_id:
            return find_deployment(ctx, region, bgd_id)
        assert cluster_id is not None
        return _active_for_cluster(ctx, region, cluster_id)
    except botocore.exceptions.NoCredentialsError:
        raise
    except COLLECTION_EXCEPTIONS as exc:
        what = bgd_id or f"of cluster {cluster_id}"
        raise CollectionFailed(
            f"could not verify blue/green deployment {what} in region {region}: DescribeBlueGreenDeployments "
            f"failed ({error_code(exc)}: {error_message(exc)})"
        ) from None


def _active_for_cluster(ctx: AwsContext, region: str, cluster_id: str) -> dict[str, Any]:
    """The one switchable deployment whose source (blue) is `cluster_id`."""
    from auditor.collect.state import arn_parts, paged

    rds = ctx.client("rds", region)
    found = [
        dict(raw)
        for raw in paged(rds, "describe_blue_green_deployments", "BlueGreenDeployments")
        if arn_parts(raw.get("Source") or "")[2] == cluster_id
        and str(raw.get("Status") or "").upper() not in _INACTIVE
    ]
    if not found:
        raise NotFoundError(
            f"no active blue/green deployment with source cluster {cluster_id} in region {region}; "
            "check the cluster id and --region, or pass --blue-green BGD_ID"
        )
    if len(found) > 1:
        ids = ", ".join(sorted(str(d["BlueGreenDeploymentIdentifier"]) for d in found))
        raise UsageError(
            f"cluster {cluster_id} has several active blue/green deployments ({ids}); "
            "pass --blue-green BGD_ID"
        )
    return found[0]


def _deployment_in_snapshot(
    snapshot: Snapshot, bgd_id: str | None, cluster_id: str | None, path: str
) -> BlueGreenDeployment:
    deps = list(snapshot.blue_green_deployments)
    named = {t.id for t in snapshot.targets if t.kind == "blue-green"}
    if bgd_id:
        hit = [d for d in deps if bgd_id in (d.id, d.name)]
    elif cluster_id:
        hit = [
            d for d in deps if d.source_cluster_id == cluster_id and (d.status or "").upper() not in _INACTIVE
        ]
    else:
        hit = [d for d in deps if d.id in named]
    if len(hit) != 1:
        what = bgd_id or (f"of cluster {cluster_id}" if cluster_id else "(none named)")
        raise NotFoundError(
            f"{path}: blue/green deployment {what} not found in the snapshot "
            f"({len(hit)} match); write one with `aurora-audit snapshot` or pass --blue-green"
        )
    return hit[0]  # evaluate_gate makes it the gate's target when the snapshot does not name it


def _set_target_version(snapshot: Snapshot, bgd_id: str, version: str) -> Snapshot:
    """`--target-engine-version` wins over the deployment's tag (the API does not return the target)."""
    deps = tuple(
        d.model_copy(update={"target_engine_version": version}) if d.id == bgd_id else d
        for d in snapshot.blue_green_deployments
    )
    return snapshot.model_copy(update={"blue_green_deployments": deps})


# ---------------------------------------------------------------- evaluation


def evaluate_gate(snapshot: Snapshot, opts: RunOptions, bgd: BlueGreenDeployment) -> AuditResult:
    """BG rules on the deployment + baseline rules on green; waivers applied once to the merged findings."""
    from auditor.engine.loader import load_baseline, load_rules, load_waivers
    from auditor.engine.runner import evaluate
    from auditor.engine.waivers import apply_waivers

    if not any(t.kind == "blue-green" and t.id == bgd.id for t in snapshot.targets):
        snapshot = _with_gate_target(snapshot, bgd)
    baseline = load_baseline(list(opts.baselines) or ["default"])
    waivers = load_waivers(opts.waivers) if opts.waivers else None
    rules = load_rules()
    bg_rules = [r for r in rules if r.family == "BG"]
    green_rules = [
        r for r in rules if r.family not in GREEN_EXCLUDED_FAMILIES and r.id not in GREEN_EXCLUDED_RULES
    ]
    gate = evaluate(snapshot, baseline, command="gate", fail_on=opts.fail_on, rules=bg_rules)
    findings = list(gate.findings)
    topology = list(gate.topology)
    notes = list(gate.notes)

    dep = next((d for d in snapshot.blue_green_deployments if d.id == bgd.id), bgd)
    green = snapshot.cluster(dep.target_cluster_id or "", dep.region) if dep.target_cluster_id else None
    if green is not None:
        view = snapshot.model_copy(
            update={
                "clusters": tuple(
                    c.model_copy(update={"role": "target"}) if c is green else c for c in snapshot.clusters
                )
            }
        )
        on_green = evaluate(
            view, baseline, command="gate", fail_on=opts.fail_on, rules=green_rules, targets=[green.id]
        )
        findings += on_green.findings
        topology += [dict(t, role="green") for t in on_green.topology]
        notes += [n for n in on_green.notes if n not in notes]
        notes.append(
            f"green {green.id} was audited against the same baseline as production "
            f"({', '.join(baseline.sources) or 'default'}); rules that follow the cluster identifier at "
            f"switchover were not run on green: {', '.join(sorted(GREEN_EXCLUDED_RULES))} (and GD, see BG09)"
        )
    else:
        notes.append(
            f"green cluster {dep.target_cluster_id} was not collected: the baseline was not run on it"
        )

    today = snapshot.taken_at.date()
    findings = apply_waivers(findings, waivers, today)
    if db_skipped(snapshot, bgd):
        notes.insert(
            0,
            "IN-DATABASE CHECKS SKIPPED (--no-db"
            + (" --allow-skip-db" if opts.allow_skip_db else "")
            + "): BG06, BG07, BG08 and the slot rules were not evaluated — orphan slots, tables without "
            "primary keys and long transactions on blue/green are NOT verified",
        )
    unverified = unverified_line(findings)
    if unverified:
        notes.insert(0, unverified)
    result = gate.model_copy(
        update={
            "findings": findings,
            "topology": topology,
            "notes": notes,
            "complete": not snapshot.errors and not any(f.status is Status.ERROR for f in findings),
        }
    )
    return result.with_summary()


def _with_gate_target(snapshot: Snapshot, bgd: BlueGreenDeployment) -> Snapshot:
    from auditor.models.snapshot import Target

    t = Target(kind="blue-green", id=bgd.id, region=bgd.region, account=bgd.account)
    return snapshot.model_copy(update={"targets": (t, *snapshot.targets)})


def unverified_line(findings: list[Any]) -> str | None:
    """One line saying what the gate could not verify (BG findings in `error`), grouped by cause, or None."""
    errs = [f for f in findings if f.rule_id.startswith("BG") and f.status is Status.ERROR]
    if not errs:
        return None
    causes: dict[str, list[str]] = {}
    for f in errs:
        ids = causes.setdefault(" ".join(f.message.split())[:200], [])
        if f.rule_id not in ids:
            ids.append(f.rule_id)
    parts = [f"{', '.join(ids)}: {why}" for why, ids in list(causes.items())[:3]]
    more = f" (and {len(causes) - 3} more)" if len(causes) > 3 else ""
    return "GATE COULD NOT VERIFY " + "; ".join(parts) + more
