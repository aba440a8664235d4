"""FL — fleet coverage: every requested account-region could be read (FL01).

An unread region is a blind spot: its clusters are not audited at all. The fleet run names each requested
account-region as a `fleet` target; a collection error that means "this account-region could not be read"
(DescribeDBClusters refused, the role not assumable, DescribeRegions failing) makes it `error`, so the
run exits 2 and says what is missing. Derived from the snapshot alone, so `--from-snapshot` reproduces it.
"""

from __future__ import annotations

from auditor.engine.checks._util import errored, passed
from auditor.engine.context import Context
from auditor.engine.registry import NoParams, Outcome, register
from auditor.models.baseline import Baseline
from auditor.models.findings import ResourceRef
from auditor.models.snapshot import CollectionError, Snapshot

# Collection errors that mean "this account-region could not be read at all".
UNREADABLE_OPERATIONS = frozenset({"DescribeDBClusters", "AssumeRole", "DescribeRegions", "Collect"})


def is_unreadable(e: CollectionError) -> bool:
    return e.resource_kind == "region" and e.operation in UNREADABLE_OPERATIONS


@register("fleet-coverage")
def fleet_coverage(snap: Snapshot, bl: Baseline, p: NoParams, ctx: Context) -> list[Outcome]:
    out: list[Outcome] = []
    for t in snap.targets:
        if t.kind != "fleet":
            continue
        region = t.region or t.id
        ref = ResourceRef(kind="region", id=region, region=region, account=t.account)
        bad = next(
            (
                e
                for e in snap.errors
                if is_unreadable(e)
                and (e.region or e.resource) == region
                and (e.account is None or t.account is None or e.account == t.account)
            ),
            None,
        )
        if bad is not None:
            where = f"account {t.account} " if t.account else ""
            out.append(
                errored(
                    ref,
                    f"could not read {where}region {region}: {bad.code or 'error'} on {bad.operation}: "
                    f"{bad.message} — the clusters there are not audited",
                )
            )
        else:
            n = sum(
                1
                for c in snap.clusters
                if c.region == region and c.role == "target" and (t.account in (None, c.account))
            )
            out.append(passed(ref, f"region {region} read: {n} cluster(s) audited"))
    return out
