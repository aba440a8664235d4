"""CL — cluster configuration checks (CL01–CL10)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from auditor.engine import lifecycle
from auditor.engine.checks._util import errored, failed, flag, minimum, passed, skipped
from auditor.engine.context import Context, cluster_ref, error_text
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline
from auditor.models.findings import Severity
from auditor.models.snapshot import Cluster, EngineVersion, Snapshot


@register("cluster-deletion-protection")
def deletion_protection(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    return [
        flag(
            cluster_ref(c),
            key="cluster.deletion_protection",
            path="deletion_protection",
            want=bl.cluster.deletion_protection,
            actual=c.deletion_protection,
            on="deletion protection is on",
            off="deletion protection is off: one delete-db-cluster call (or a Terraform replacement) "
            "destroys the cluster, and automated backups go with it unless a final snapshot is taken",
            unknown="DescribeDBClusters did not return DeletionProtection for this cluster",
        )
        for c in ctx.targets
    ]


@register("cluster-backup-retention")
def backup_retention(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    floor = bl.cluster.backup_retention_days_min
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if floor is None:
            out.append(skipped(ref, "cluster.backup_retention_days_min"))
        elif c.backup_retention_days is None:
            out.append(errored(ref, "DescribeDBClusters did not return BackupRetentionPeriod"))
        elif c.backup_retention_days >= floor:
            out.append(
                passed(
                    ref,
                    f"automated backups are kept {c.backup_retention_days} days (baseline minimum {floor})",
                )
            )
        else:
            out.append(
                failed(
                    ref,
                    f"automated backups are kept only {c.backup_retention_days} days; the baseline "
                    f"requires at least {floor} for point-in-time recovery",
                    minimum(ref, "backup_retention_days", floor, c.backup_retention_days),
                )
            )
    return out


@register("cluster-encryption")
def encryption(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    want_enc, want_cmk = bl.cluster.storage_encrypted, bl.cluster.kms_customer_managed
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if want_enc is None and want_cmk is None:
            out.append(skipped(ref, "cluster.storage_encrypted"))
            continue
        if c.storage_encrypted is None:
            out.append(errored(ref, "DescribeDBClusters did not return StorageEncrypted"))
            continue
        expected: dict[str, object] = {}
        actual: dict[str, object] = {}
        if want_enc or want_cmk:
            expected["storage_encrypted"], actual["storage_encrypted"] = True, c.storage_encrypted
        if want_cmk and c.storage_encrypted:
            if c.kms_key_manager is None:
                errs = ctx.errors("DescribeKey", region=c.region, cluster=c.id)
                why = (
                    error_text(errs)
                    if errs
                    else "the KMS key's manager (KMS DescribeKey KeyManager) was not collected"
                )
                out.append(errored(ref, f"cannot tell whether {c.kms_key_id} is customer managed: {why}"))
                continue
            expected["kms_key_manager"], actual["kms_key_manager"] = "CUSTOMER", c.kms_key_manager
        drift = diff(expected, actual)
        if not drift:
            key = f" with customer-managed key {c.kms_key_id}" if want_cmk else ""
            out.append(
                passed(
                    ref,
                    f"storage is encrypted{key}"
                    if c.storage_encrypted
                    else "storage is not encrypted, and the baseline does not require it",
                )
            )
        elif not c.storage_encrypted:
            out.append(
                failed(
                    ref,
                    "storage is not encrypted; Aurora cannot encrypt an existing cluster in place — "
                    "restore a snapshot copy with a KMS key and cut over",
                    drift,
                )
            )
        else:
            out.append(
                failed(
                    ref,
                    f"storage is encrypted with an AWS-managed key ({c.kms_key_id}); the baseline "
                    "requires a customer-managed key (key policy, rotation and cross-account "
                    "snapshot sharing are under your control only with one)",
                    drift,
                )
            )
    return out


@register("cluster-iam-auth")
def iam_auth(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    return [
        flag(
            cluster_ref(c),
            key="cluster.iam_auth",
            path="iam_database_authentication",
            want=bl.cluster.iam_auth,
            actual=c.iam_auth,
            on="IAM database authentication is enabled",
            off="IAM database authentication is off: every application needs a long-lived database password",
            unknown="DescribeDBClusters did not return IAMDatabaseAuthenticationEnabled",
        )
        for c in ctx.targets
    ]


@register("cluster-managed-master-password")
def managed_password(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out = []
    for c in ctx.targets:
        managed = c.master_user_secret is not None and bool(c.master_user_secret.secret_arn)
        out.append(
            flag(
                cluster_ref(c),
                key="cluster.managed_master_password",
                path="manage_master_user_password",
                want=bl.cluster.managed_master_password,
                actual=managed,
                on="the master password is managed and rotated by Secrets Manager",
                off="the master password is a static password set at creation; let RDS manage it in "
                "Secrets Manager (ManageMasterUserPassword) so it is rotated and never typed",
                unknown="",
            )
        )
    return out


@register("cluster-log-exports")
def log_exports(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    want = bl.cluster.log_exports
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if want is None:
            out.append(skipped(ref, "cluster.log_exports"))
            continue
        have = set(c.log_exports)
        drift = diff({"log_exports": sorted(want)}, {"log_exports": sorted(x for x in want if x in have)})
        if drift:
            missing = ", ".join(sorted(set(want) - have))
            out.append(
                failed(
                    ref,
                    f"CloudWatch Logs export is missing {missing}: the PostgreSQL log stays on the "
                    "instance and is lost when the instance is replaced",
                    drift,
                )
            )
        else:
            out.append(passed(ref, f"exports {', '.join(sorted(have)) or 'nothing'} to CloudWatch Logs"))
    return out


@register("cluster-copy-tags")
def copy_tags(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    return [
        flag(
            cluster_ref(c),
            key="cluster.copy_tags_to_snapshot",
            path="copy_tags_to_snapshot",
            want=bl.cluster.copy_tags_to_snapshot,
            actual=c.copy_tags_to_snapshot,
            on="tags are copied to snapshots",
            off="snapshots do not inherit the cluster's tags (cost allocation, ownership and retention "
            "policies keyed on tags miss them)",
            unknown="DescribeDBClusters did not return CopyTagsToSnapshot",
        )
        for c in ctx.targets
    ]


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
        else:
            out.append(
                passed(
                    ref,
                    f"{c.engine_version} is in standard support until {when} ({days} days; source: {source})",
                )
            )
    return out


@register("maintenance-and-certificates")
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


class CustomGroupsParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    default_prefix: str = "default."


@register("custom-parameter-groups", CustomGroupsParams)
def custom_groups(snap: Snapshot, bl: Baseline, p: CustomGroupsParams, ctx: Context) -> list[Outcome]:
    out = []
    for c in ctx.targets:
        ref = cluster_ref(c)
        if not bl.cluster.custom_parameter_groups:
            out.append(
                skipped(ref, "cluster.custom_parameter_groups")
                if bl.cluster.custom_parameter_groups is None
                else passed(ref, "custom parameter groups are not required by the baseline")
            )
            continue
        expected: dict[str, object] = {}
        actual: dict[str, object] = {}
        if c.parameter_group is None:
            out.append(errored(ref, "DescribeDBClusters did not return DBClusterParameterGroup"))
            continue
        if c.parameter_group.startswith(p.default_prefix):
            expected[f"{c.id}.cluster_parameter_group"] = "a custom group"
            actual[f"{c.id}.cluster_parameter_group"] = c.parameter_group
        for i in ctx.instances_of(c):
            for g in i.parameter_groups:
                if g.name.startswith(p.default_prefix):
                    expected[f"{i.id}.db_parameter_group"] = "a custom group"
                    actual[f"{i.id}.db_parameter_group"] = g.name
        if expected:
            out.append(
                failed(
                    ref,
                    "uses AWS default parameter groups ("
                    + ", ".join(sorted(set(map(str, actual.values()))))
                    + "): they cannot be modified, so the first urgent parameter change needs a group swap "
                    "and a reboot",
                    diff(expected, actual),
                )
            )
        else:
            out.append(
                passed(ref, f"cluster and instances use custom parameter groups ({c.parameter_group})")
            )
    return out
