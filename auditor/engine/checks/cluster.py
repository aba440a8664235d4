"""CL — cluster configuration checks (CL01–CL07, CL10; CL08–CL09 are in checks/lifecycle.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from auditor.engine.checks._util import (
    errored,
    failed,
    flag,
    minimum,
    needs_instances,
    passed,
    skipped,
    skipped_because,
)
from auditor.engine.checks.blue_green import FINISHED
from auditor.engine.context import Context, cluster_ref, error_text
from auditor.engine.drift import diff
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline
from auditor.models.snapshot import BlueGreenDeployment, Cluster, Snapshot


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


def _in_blue_green(snap: Snapshot, c: Cluster) -> tuple[BlueGreenDeployment, str] | None:
    """(deployment, "blue source" | "green target") for a deployment still replicating `c`."""
    for d in snap.blue_green_deployments:
        if (d.status or "").upper() in FINISHED or d.region != c.region:
            continue
        if (c.arn and d.source_arn == c.arn) or d.source_cluster_id == c.id:
            return d, "blue source"
        if (c.arn and d.target_arn == c.arn) or d.target_cluster_id == c.id:
            return d, "green target"
    return None


@register("cluster-managed-master-password")
def managed_password(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out = []
    for c in ctx.targets:
        managed = c.master_user_secret is not None and bool(c.master_user_secret.secret_arn)
        bg = _in_blue_green(snap, c) if bl.cluster.managed_master_password and not managed else None
        if bg is not None:
            # Aurora User Guide, "Password management with Amazon Aurora and AWS Secrets Manager" →
            # limitations: managed master user passwords are not supported with Blue/Green Deployments
            # (also under "Limitations and considerations for Amazon Aurora blue/green deployments").
            d, role = bg
            out.append(
                skipped_because(
                    cluster_ref(c),
                    f"not judged while {c.id} is the {role} of blue/green deployment {d.id} "
                    f"(status {d.status or 'unknown'}): Aurora does not support Secrets-Manager-managed "
                    "master passwords on clusters in a blue/green deployment — enable "
                    "ManageMasterUserPassword after switchover, once the deployment is deleted",
                )
            )
            continue
        if bl.cluster.managed_master_password and not managed:
            bg_errs = ctx.errors("DescribeBlueGreenDeployments", region=c.region)
            if bg_errs:  # whether the blue/green exemption applies is unknown: do not advise blindly
                out.append(
                    errored(
                        cluster_ref(c),
                        "the master password is static, but whether the cluster is in a blue/green "
                        "deployment (where AWS allows no managed password) is unknown: "
                        f"{error_text(bg_errs)}",
                    )
                )
                continue
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


class CustomGroupsParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    default_prefix: str = "default."


@register("custom-parameter-groups", CustomGroupsParams)
@needs_instances
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
