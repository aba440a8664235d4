"""Engine versions and their support dates, pending maintenance, server CA certificates.

- DescribeDBEngineVersions (Engine + EngineVersion): once per distinct version in use per region.
- DescribeDBMajorEngineVersions (Engine + MajorEngineVersion): once per distinct major per region; gives
  `SupportedEngineLifecycles` (open-source-rds-standard-support / -extended-support end dates).
- DescribePendingMaintenanceActions: one paged call per region, kept for collected clusters/instances.
- DescribeCertificates: one paged call per region, only when some instance lacks CertificateDetails.ValidTill.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from auditor.collect.state import RDS_PAGE, Collection, all_pages, aware
from auditor.models.snapshot import CertificateInfo, EngineVersion, PendingMaintenance

STANDARD = "open-source-rds-standard-support"
EXTENDED = "open-source-rds-extended-support"


def collect_engine_versions(col: Collection, region: str) -> None:
    rds = col.ctx.client("rds", region)
    versions = sorted({(c.engine, c.engine_version) for c in col.clusters_in(region) if c.engine_version})
    majors: dict[tuple[str, str], dict[str, Any]] = {}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for engine, version in versions:
        if not col.claim(("engine-version", region, engine, version)):
            continue
        got = col.attempt(
            partial(
                all_pages,
                rds,
                "describe_db_engine_versions",
                "DBEngineVersions",
                Engine=engine,
                EngineVersion=version,
                IncludeAll=True,
                MaxRecords=RDS_PAGE,
            ),
            resource=f"{engine} {version}",
            kind="engine-version",
            operation="DescribeDBEngineVersions",
            region=region,
        )
        if got is not None:
            match = [v for v in got if v.get("EngineVersion") == version]
            found[(engine, version)] = match[0] if match else {}
    for engine, version in versions:
        major = (found.get((engine, version)) or {}).get("MajorEngineVersion") or version.split(".")[0]
        key = (engine, major)
        if key in majors or not col.claim(("major-version", region, engine, major)):
            continue
        got = col.attempt(
            partial(
                all_pages,
                rds,
                "describe_db_major_engine_versions",
                "DBMajorEngineVersions",
                Engine=engine,
                MajorEngineVersion=major,
                MaxRecords=RDS_PAGE,
            ),
            resource=f"{engine} {major}",
            kind="engine-version",
            operation="DescribeDBMajorEngineVersions",
            region=region,
        )
        if got is not None:
            majors[key] = next((m for m in got if m.get("MajorEngineVersion") == major), {})
    out = []
    for engine, version in versions:
        info = found.get((engine, version))
        major = (info or {}).get("MajorEngineVersion") or version.split(".")[0]
        life = majors.get((engine, major))
        if info is None and life is None:
            continue  # both reads failed: the errors say so; no guessed entry
        ends = {
            x.get("LifecycleSupportName"): x.get("LifecycleSupportEndDate")
            for x in (life or {}).get("SupportedEngineLifecycles") or ()
        }
        out.append(
            EngineVersion(
                engine=engine,
                version=version,
                region=region,
                # IncludeAll: DescribeDBEngineVersions lists deprecated versions (Status "deprecated").
                status=info.get("Status") if info else None,
                major_version=major if (info or life) else None,
                standard_support_end=aware(ends.get(STANDARD)),
                extended_support_end=aware(ends.get(EXTENDED)),
                lifecycle_source="api" if life else None,
            )
        )
    with col.lock:
        for ev in out:
            col.engine_versions[(ev.engine, ev.version, ev.region)] = ev


def collect_pending_maintenance(col: Collection, region: str) -> None:
    if not col.claim(("pending-maintenance", region)):
        return
    arns = {c.arn: c.id for c in col.clusters_in(region) if c.arn}
    arns.update({i.arn: i.id for i in col.instances_in(region) if i.arn})
    if not arns:
        return
    rds = col.ctx.client("rds", region)
    got = col.attempt(
        partial(
            all_pages,
            rds,
            "describe_pending_maintenance_actions",
            "PendingMaintenanceActions",
            MaxRecords=RDS_PAGE,
        ),
        resource=region,
        kind="region",
        operation="DescribePendingMaintenanceActions",
        region=region,
    )
    out = []
    for res in got or []:
        arn = res.get("ResourceIdentifier", "")
        if arn not in arns:
            continue
        for a in res.get("PendingMaintenanceActionDetails") or ():
            out.append(
                PendingMaintenance(
                    resource_arn=arn,
                    resource_id=arns[arn],
                    region=region,
                    action=a.get("Action", ""),
                    description=a.get("Description"),
                    auto_applied_after=aware(a.get("AutoAppliedAfterDate")),
                    forced_apply_date=aware(a.get("ForcedApplyDate")),
                    current_apply_date=aware(a.get("CurrentApplyDate")),
                    opt_in_status=a.get("OptInStatus"),
                )
            )
    with col.lock:
        col.pending.extend(out)


def collect_certificates(col: Collection, region: str) -> None:
    """Fill CertificateInfo.valid_till from DescribeCertificates where DescribeDBInstances left it out."""
    missing = [
        i
        for i in col.instances_in(region)
        if i.certificate and i.certificate.ca_identifier and i.certificate.valid_till is None
    ]
    if not missing or not col.claim(("certificates", region)):
        return
    rds = col.ctx.client("rds", region)
    got = col.attempt(
        partial(all_pages, rds, "describe_certificates", "Certificates", MaxRecords=RDS_PAGE),
        resource=region,
        kind="region",
        operation="DescribeCertificates",
        region=region,
    )
    if got is None:
        return
    till = {
        c.get("CertificateIdentifier"): aware(c.get("CustomerOverrideValidTill") or c.get("ValidTill"))
        for c in got
    }
    for inst in missing:
        ca = inst.certificate.ca_identifier if inst.certificate else None
        if ca in till:
            col.replace_instance(
                inst.model_copy(
                    update={"certificate": CertificateInfo(ca_identifier=ca, valid_till=till[ca])}
                )
            )
