"""CL08 (engine lifecycle) and CL09 (forced maintenance, server certificate expiry)."""

from __future__ import annotations

from datetime import UTC, datetime

from auditor.engine import lifecycle
from auditor.engine.checks._util import errored, failed, needs_instances, passed, skipped
from auditor.engine.context import Context, cluster_ref, error_text
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline
from auditor.models.findings import Severity
from auditor.models.snapshot import Cluster, EngineVersion, Snapshot


def _engine_version(snap: Snapshot, c: Cluster) -> EngineVersion | None:
    same_region = None
    for v in snap.engine_versions:
        if v.engine == c.engine and v.version == c.engine_version:
            if v.region == c.region:
                return v
            same_region = same_region or v
    return same_region


def _lifecycle_date(snap: Snapshot, c: Cluster, ev: EngineVersion | None) -> tuple[datetime | None, str]:
    if ev is not None and ev.standard_support_end is not None:
        return ev.standard_support_end, ev.lifecycle_source or "DescribeDBMajorEngineVersions"
    major = lifecycle.major_of(c.engine_version)
    for v in snap.engine_versions:  # another minor of the same major may carry the dates
        if (
            v.engine == c.engine
            and v.standard_support_end
            and (v.major_version or lifecycle.major_of(v.version)) == major
        ):
            return v.standard_support_end, v.lifecycle_source or "DescribeDBMajorEngineVersions"
    d = lifecycle.END_OF_STANDARD_SUPPORT.get(major)
    if d is None:
        return None, ""
    return datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=UTC), lifecycle.TABLE_SOURCE


@register("engine-lifecycle")
def engine_lifecycle(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    warn_days = bl.cluster.engine_eol_warn_days
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        ev = _engine_version(snap, c)
        if ev is not None and (ev.status or "").lower() == "deprecated":
            out.append(
                failed(
                    ref,
                    f"{c.engine} {c.engine_version} is deprecated: new clusters cannot use it and "
                    "AWS will upgrade it on its own schedule",
                    diff({"engine_version_status": "available"}, {"engine_version_status": ev.status}),
                )
            )
            continue
        end, source = _lifecycle_date(snap, c, ev)
        if end is None:
            errs = ctx.errors("DescribeDBEngineVersions", "DescribeDBMajorEngineVersions", region=c.region)
            why = f" ({error_text(errs)})" if errs else ""
            out.append(
                errored(
                    ref,
                    f"no lifecycle data for {c.engine} {c.engine_version}: not in the snapshot{why} "
                    "and not in the packaged release-calendar table",
                )
            )
            continue
        days = (end.date() - ctx.today).days
        when = end.date().isoformat()
        if days < 0:
            out.append(
                failed(
                    ref,
                    f"{c.engine_version} left standard support on {when} ({-days} days ago; source: "
                    f"{source}): the cluster is on paid RDS Extended Support or due for a forced "
                    "major upgrade",
                    diff(
                        {"days_to_end_of_standard_support": ">= 0"},
                        {"days_to_end_of_standard_support": days},
                        out_of_range=["days_to_end_of_standard_support"],
                    ),
                )
            )
        elif warn_days is not None and days <= warn_days:
            out.append(
                failed(
                    ref,
                    f"{c.engine_version} leaves standard support on {when}, in {days} days (warning "
                    f"window {warn_days} days; source: {source}): plan the major upgrade now",
                    diff(
                        {"days_to_end_of_standard_support": f"> {warn_days}"},
                        {"days_to_end_of_standard_support": days},
                        out_of_range=["days_to_end_of_standard_support"],
                    ),
                    severity=Severity.MEDIUM,
                )
            )
        elif ev is None and (errs := ctx.errors("DescribeDBEngineVersions", region=c.region)):
            # Fail closed: the release calendar dates the major version, but only the API says whether
            # this minor version has been deprecated.
            out.append(
                errored(
                    ref,
                    f"{c.engine_version} is in standard support until {when} (source: {source}), but whether "
                    f"this minor version is deprecated is unknown: {error_text(errs)}",
                )
            )
        else:
            out.append(
                passed(
                    ref,
                    f"{c.engine_version} is in standard support until {when} ({days} days; source: {source})",
                )
            )
    return out


@register("maintenance-and-certificates")
@needs_instances
def maintenance(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    m_days = bl.cluster.maintenance_forced_apply_warn_days
    c_days = bl.cluster.certificate_expiry_warn_days
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if m_days is None and c_days is None:
            out.append(skipped(ref, "cluster.maintenance_forced_apply_warn_days"))
            continue
        insts = ctx.instances_of(c)
        arns = {c.arn} | {i.arn for i in insts}
        ids = {c.id} | {i.id for i in insts}
        problems: list[str] = []
        expected: dict[str, object] = {}
        actual: dict[str, object] = {}
        if m_days is not None:
            errs = ctx.errors("DescribePendingMaintenanceActions", region=c.region, cluster=c.id)
            if errs:
                out.append(errored(ref, f"pending maintenance unknown: {error_text(errs)}"))
                continue
            for pm in snap.pending_maintenance:
                if pm.resource_arn not in arns and pm.resource_id not in ids:
                    continue
                due = pm.forced_apply_date or pm.auto_applied_after
                if due is None:
                    continue
                left = (due.date() - ctx.today).days
                if left <= m_days:
                    who = pm.resource_id or pm.resource_arn.rsplit(":", 1)[-1]
                    problems.append(
                        f"{pm.action} on {who} is forced on {due.date().isoformat()} ({left} days)"
                    )
                    expected[f"{who}.{pm.action}.days_to_forced_apply"] = f"> {m_days}"
                    actual[f"{who}.{pm.action}.days_to_forced_apply"] = left
        if c_days is not None:
            for holder, cert in [(c.id, c.certificate)] + [(i.id, i.certificate) for i in insts]:
                if cert is None or cert.valid_till is None:
                    continue
                left = (cert.valid_till.date() - ctx.today).days
                if left <= c_days:
                    problems.append(
                        f"{holder}'s server certificate {cert.ca_identifier or ''} expires on "
                        f"{cert.valid_till.date().isoformat()} ({left} days)".replace("  ", " ")
                    )
                    expected[f"{holder}.certificate_days_left"] = f"> {c_days}"
                    actual[f"{holder}.certificate_days_left"] = left
        if problems:
            out.append(
                failed(
                    ref,
                    "; ".join(problems) + ": schedule it in a maintenance window before AWS applies it "
                    "at a time of its choosing",
                    diff(expected, actual, out_of_range=list(expected)),
                )
            )
        else:
            out.append(
                passed(
                    ref, "no maintenance forced within the window and no server certificate close to expiry"
                )
            )
    return out
