"""Clusters and instances (rds DescribeDBClusters / DescribeDBInstances), converted once."""

from __future__ import annotations

import difflib
from functools import partial
from typing import Any, Literal

from auditor.collect.state import RDS_PAGE, Collection, all_pages, aware, paged, tags
from auditor.errors import NotFoundError
from auditor.models.snapshot import (
    CertificateInfo,
    Cluster,
    ClusterMember,
    Instance,
    MasterUserSecret,
    ParameterGroupRef,
    ServerlessV2Scaling,
)

Role = Literal["target", "green", "global-member"]

# DescribeDBClusters / DescribeDBInstances filter values per call (kept well under the API's limits).
_FILTER_CHUNK = 50

# `None` (whole region) audits Aurora PostgreSQL clusters; DescribeDBClusters also lists Neptune/DocumentDB.
AURORA_ENGINES = ("aurora-postgresql",)


def _certificate(raw: dict[str, Any] | None, ca_id: str | None = None) -> CertificateInfo | None:
    if raw:
        return CertificateInfo(
            ca_identifier=raw.get("CAIdentifier") or ca_id, valid_till=aware(raw.get("ValidTill"))
        )
    if ca_id:
        return CertificateInfo(ca_identifier=ca_id)
    return None


def convert_cluster(raw: dict[str, Any], region: str, account: str | None, role: Role) -> Cluster:
    secret = raw.get("MasterUserSecret")
    scaling = raw.get("ServerlessV2ScalingConfiguration")
    return Cluster(
        id=raw["DBClusterIdentifier"],
        arn=raw.get("DBClusterArn"),
        region=region,
        account=account,
        engine=raw.get("Engine", ""),
        engine_version=raw.get("EngineVersion", ""),
        engine_mode=raw.get("EngineMode"),
        status=raw.get("Status"),
        deletion_protection=raw.get("DeletionProtection"),
        backup_retention_days=raw.get("BackupRetentionPeriod"),
        storage_encrypted=raw.get("StorageEncrypted"),
        kms_key_id=raw.get("KmsKeyId"),
        iam_auth=raw.get("IAMDatabaseAuthenticationEnabled"),
        master_user_secret=MasterUserSecret(
            secret_arn=secret.get("SecretArn"),
            status=secret.get("SecretStatus"),
            kms_key_id=secret.get("KmsKeyId"),
        )
        if secret
        else None,
        log_exports=tuple(raw.get("EnabledCloudwatchLogsExports") or ()),
        copy_tags_to_snapshot=raw.get("CopyTagsToSnapshot"),
        serverless_v2=ServerlessV2Scaling(
            min_capacity=scaling.get("MinCapacity"), max_capacity=scaling.get("MaxCapacity")
        )
        if scaling
        else None,
        endpoint=raw.get("Endpoint"),
        reader_endpoint=raw.get("ReaderEndpoint"),
        port=raw.get("Port"),
        master_username=raw.get("MasterUsername"),
        database_name=raw.get("DatabaseName"),
        availability_zones=tuple(raw.get("AvailabilityZones") or ()),
        parameter_group=raw.get("DBClusterParameterGroup"),
        members=tuple(
            ClusterMember(
                instance_id=m["DBInstanceIdentifier"],
                is_writer=bool(m.get("IsClusterWriter")),
                promotion_tier=m.get("PromotionTier"),
                parameter_group_status=m.get("DBClusterParameterGroupStatus"),
            )
            for m in raw.get("DBClusterMembers") or ()
        ),
        global_cluster_id=raw.get("GlobalClusterIdentifier"),
        replication_source=raw.get("ReplicationSourceIdentifier"),
        auto_minor_version_upgrade=raw.get("AutoMinorVersionUpgrade"),
        certificate=_certificate(raw.get("CertificateDetails")),
        performance_insights_enabled=raw.get("PerformanceInsightsEnabled"),
        tags=tags(raw.get("TagList")),
        role=role,
    )


def convert_instance(
    raw: dict[str, Any], region: str, account: str | None, is_writer: bool | None
) -> Instance:
    return Instance(
        id=raw["DBInstanceIdentifier"],
        arn=raw.get("DBInstanceArn"),
        region=region,
        account=account,
        cluster_id=raw.get("DBClusterIdentifier"),
        instance_class=raw.get("DBInstanceClass", ""),
        engine=raw.get("Engine"),
        engine_version=raw.get("EngineVersion"),
        status=raw.get("DBInstanceStatus"),
        availability_zone=raw.get("AvailabilityZone"),
        promotion_tier=raw.get("PromotionTier"),
        is_writer=is_writer,
        performance_insights_enabled=raw.get("PerformanceInsightsEnabled"),
        performance_insights_kms_key_id=raw.get("PerformanceInsightsKMSKeyId"),
        performance_insights_retention_days=raw.get("PerformanceInsightsRetentionPeriod"),
        monitoring_interval=raw.get("MonitoringInterval"),
        parameter_groups=tuple(
            ParameterGroupRef(name=g["DBParameterGroupName"], apply_status=g.get("ParameterApplyStatus"))
            for g in raw.get("DBParameterGroups") or ()
        ),
        auto_minor_version_upgrade=raw.get("AutoMinorVersionUpgrade"),
        publicly_accessible=raw.get("PubliclyAccessible"),
        certificate=_certificate(raw.get("CertificateDetails"), raw.get("CACertificateIdentifier")),
        tags=tags(raw.get("TagList")),
    )


def _chunks(items: list[str], size: int = _FILTER_CHUNK) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _not_found(col: Collection, region: str, missing: list[str]) -> NotFoundError:
    rds = col.ctx.client("rds", region)
    known: list[str] = []
    try:
        known = [
            c["DBClusterIdentifier"]
            for c in paged(rds, "describe_db_clusters", "DBClusters", MaxRecords=RDS_PAGE)
        ]
    except Exception:  # the suggestion list is a courtesy; the NotFoundError is the answer
        known = []
    parts = []
    for name in missing:
        msg = f"cluster {name} not found in region {region}"
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        if close:
            msg += f" (did you mean: {', '.join(close)}?)"
        parts.append(msg)
    return NotFoundError("; ".join(parts) + "; check the cluster id and --region")


def describe_clusters(
    col: Collection, region: str, cluster_ids: list[str] | None, role: Role = "target", *, strict: bool = True
) -> list[Cluster]:
    """Describe named clusters (one filtered call per 50 ids) or every Aurora PostgreSQL cluster (None).

    strict: a named cluster that does not exist raises NotFoundError; otherwise it is a CollectionError.
    A failure of the call itself (AccessDenied, endpoint down, ...) is recorded and yields no cluster.
    """
    rds = col.ctx.client("rds", region)
    raws: list[dict[str, Any]] = []
    if cluster_ids is None:
        got = col.attempt(
            partial(all_pages, rds, "describe_db_clusters", "DBClusters", MaxRecords=RDS_PAGE),
            resource=region,
            kind="region",
            operation="DescribeDBClusters",
            region=region,
        )
        raws = [c for c in got or [] if c.get("Engine") in AURORA_ENGINES]
    else:
        wanted = list(dict.fromkeys(cluster_ids))
        failed = False
        for chunk in _chunks(wanted):
            got = col.attempt(
                partial(
                    all_pages,
                    rds,
                    "describe_db_clusters",
                    "DBClusters",
                    MaxRecords=RDS_PAGE,
                    Filters=[{"Name": "db-cluster-id", "Values": chunk}],
                ),
                resource=",".join(chunk),
                kind="cluster",
                operation="DescribeDBClusters",
                region=region,
                cluster=chunk[0] if len(chunk) == 1 else None,
            )
            if got is None:
                failed = True
            raws.extend(got or [])
        found = {c["DBClusterIdentifier"] for c in raws}
        # ARNs are accepted as ids by the db-cluster-id filter; match them back too.
        found |= {c.get("DBClusterArn", "") for c in raws}
        missing = [i for i in wanted if i not in found]
        if missing and not failed:
            if strict:
                raise _not_found(col, region, missing)
            for m in missing:
                col.add_error(
                    resource=m,
                    resource_kind="cluster",
                    operation="DescribeDBClusters",
                    region=region,
                    cluster=m,
                    code="DBClusterNotFoundFault",
                    message=f"cluster {m} not found in region {region}",
                )
    out = []
    for raw in raws:
        cluster = convert_cluster(raw, region, col.account, role)
        with col.lock:
            if (region, cluster.id) in col.clusters:
                continue
            col.clusters[(region, cluster.id)] = cluster
        out.append(cluster)
    return out


def describe_instances(col: Collection, region: str, clusters: list[Cluster]) -> None:
    """All instances of the given clusters: DescribeDBInstances filtered by db-cluster-id, pages of 100."""
    if not clusters:
        return
    rds = col.ctx.client("rds", region)
    writers = {m.instance_id: m.is_writer for c in clusters for m in c.members}
    ids = [c.id for c in clusters]
    # Up to one filter's worth of clusters: ask for theirs. Beyond it (a fleet run), one unfiltered listing
    # of the region's instances at 100 a page costs the fewest calls; instances of other clusters are dropped.
    chunks: list[list[str] | None] = list(_chunks(ids)) if len(ids) <= _FILTER_CHUNK else [None]
    wanted = set(ids)
    for chunk in chunks:
        filters: dict[str, Any] = {"Filters": [{"Name": "db-cluster-id", "Values": chunk}]} if chunk else {}
        got = col.attempt(
            partial(all_pages, rds, "describe_db_instances", "DBInstances", MaxRecords=RDS_PAGE, **filters),
            resource=",".join(chunk) if chunk else region,
            kind="cluster" if chunk else "region",
            operation="DescribeDBInstances",
            region=region,
            cluster=chunk[0] if chunk and len(chunk) == 1 else None,
        )
        for raw in got or []:
            if raw.get("DBClusterIdentifier") not in wanted:
                continue
            inst = convert_instance(raw, region, col.account, writers.get(raw["DBInstanceIdentifier"]))
            col.replace_instance(inst)


def describe_kms_keys(col: Collection, region: str) -> None:
    """KMS DescribeKey for each distinct cluster storage key: KeyManager CUSTOMER or AWS."""
    clusters = [c for c in col.clusters_in(region) if c.storage_encrypted and c.kms_key_id]
    if not clusters:
        return
    kms = col.ctx.client("kms", region)
    managers: dict[str, str | None] = {}
    for key in sorted({str(c.kms_key_id) for c in clusters}):
        if not col.claim(("kms", region, key)):
            continue
        meta = col.attempt(
            partial(_key_metadata, kms, key),
            resource=key,
            kind="kms-key",
            operation="DescribeKey",
            region=region,
            cluster=next(c.id for c in clusters if c.kms_key_id == key),
        )
        managers[key] = meta.get("KeyManager") if meta else None
    for c in clusters:
        if managers.get(str(c.kms_key_id)):
            col.replace_cluster(c.model_copy(update={"kms_key_manager": managers[str(c.kms_key_id)]}))


def _key_metadata(kms: Any, key: str) -> dict[str, Any]:
    return dict(kms.describe_key(KeyId=key)["KeyMetadata"])
