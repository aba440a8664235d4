"""FL01 fleet coverage: an `error` finding per account-region that could not be read, a `pass` per read one.

An unread region is a blind spot, so FL01 is critical: the run exits 2 whatever --fail-on says. It is
derived from Snapshot.errors alone, so a saved fleet snapshot (--from-snapshot) reproduces it offline.
"""

from __future__ import annotations

from auditor.models.findings import AuditResult, Finding, ResourceRef, Severity, Status
from auditor.models.snapshot import CollectionError, Snapshot

# Collection errors that mean "this account-region could not be read at all".
UNREADABLE_OPERATIONS = frozenset({"DescribeDBClusters", "AssumeRole", "DescribeRegions", "Collect"})
COVERAGE_RULE = "FL01"
COVERAGE_TITLE = "Every requested account-region could be read"
COVERAGE_REMEDIATION = (
    "Grant the audit role read access in {region} (rds:DescribeDBClusters and the other read-only actions "
    "aurora-audit calls), check that the region is enabled and its endpoint reachable, then rerun."
)


def is_unreadable(e: CollectionError) -> bool:
    return e.resource_kind == "region" and e.operation in UNREADABLE_OPERATIONS


def unreadable_regions(snapshot: Snapshot) -> set[tuple[str | None, str]]:
    return {(e.account, e.region or e.resource) for e in snapshot.errors if is_unreadable(e)}


def coverage_findings(snapshot: Snapshot, units: list[tuple[str | None, str]]) -> list[Finding]:
    """FL01: `error` per account-region that could not be read, `pass` per one that was."""
    out: list[Finding] = []
    bad: dict[tuple[str | None, str], CollectionError] = {}
    for e in snapshot.errors:
        if is_unreadable(e):
            bad.setdefault((e.account, e.region or e.resource), e)
    for (account, region), e in sorted(bad.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        where = f"account {account} " if account else ""
        out.append(
            _fl01(
                Status.ERROR,
                region,
                account,
                f"could not read {where}region {region}: {e.code or 'error'} on {e.operation}: {e.message} "
                "— the clusters there are not audited",
            )
        )
    covered = list(units) or [(None, r) for r in snapshot.regions]  # --from-snapshot: what it covers
    for account, region in dict.fromkeys(covered):
        if any(r == region and (a is None or account is None or a == account) for a, r in bad):
            continue
        n = sum(1 for c in snapshot.clusters if c.region == region and c.role == "target")
        out.append(_fl01(Status.PASS, region, account, f"region {region} read: {n} cluster(s) audited"))
    return out


def _fl01(status: Status, region: str, account: str | None, message: str) -> Finding:
    return Finding(
        rule_id=COVERAGE_RULE,
        title=COVERAGE_TITLE,
        status=status,
        severity=Severity.CRITICAL,  # an unread region is a blind spot: exit 2 whatever --fail-on says
        resource=ResourceRef(kind="region", id=region, region=region, account=account),
        message=message,
        remediation=COVERAGE_REMEDIATION.format(region=region),
    )


def add_coverage(result: AuditResult, snapshot: Snapshot, units: list[tuple[str | None, str]]) -> AuditResult:
    cov = coverage_findings(snapshot, units)
    missing = [f for f in cov if f.status is Status.ERROR]
    notes = [f"not audited: {f.message}" for f in missing]
    return result.model_copy(
        update={
            "findings": cov + list(result.findings),
            "notes": notes + list(result.notes),
            "complete": result.complete and not missing,
        }
    ).with_summary()
