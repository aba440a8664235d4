"""Trend against a previous report: each open finding is `new` or still `open`; fixed ones are `resolved`.

A finding is *open* when its status is `fail` or `error`. Matching is by (rule, resource kind, id, region,
account, cluster) — the identity a reviewer would use; messages and values may change between runs.

- open now, open before           -> trend "open"
- open now, absent/closed before  -> trend "new"
- `pass` now, open before         -> trend "resolved" (the pass finding itself carries it)
- open before, not reported now   -> listed in `notes` as resolved (resource gone or out of scope), unless
  its account-region could not be read this time: then it is "not re-checked", never "resolved".
Previous findings outside this run's regions (another shard's, another --region) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.fleet_merge import finding_key
from auditor.models.findings import AuditResult, Finding, Status

OPEN = frozenset({Status.FAIL, Status.ERROR})
MAX_LISTED = 50


def _label(f: Finding) -> str:
    where = f.resource.id if not f.resource.region else f"{f.resource.id} ({f.resource.region})"
    return f"{f.rule_id} {where}"


def apply_trend(
    result: AuditResult,
    previous: AuditResult,
    *,
    unreadable: Iterable[tuple[str | None, str]] = (),
) -> AuditResult:
    """`result` with Finding.trend set and a summary of the changes in `notes` (first)."""
    prev_open = {finding_key(f): f for f in previous.findings if f.status in OPEN}
    blind = set(unreadable)
    blind_regions = {r for _, r in blind}
    regions = {f.resource.region for f in result.findings if f.resource.region}
    regions |= {t.region for t in result.targets if t.region}

    counts = {"new": 0, "open": 0, "resolved": 0}
    out: list[Finding] = []
    seen: set[tuple[str, ...]] = set()
    for f in result.findings:
        k = finding_key(f)
        seen.add(k)
        trend: str | None = None
        if f.status in OPEN:
            trend = "open" if k in prev_open else "new"
        elif f.status is Status.PASS and k in prev_open:
            trend = "resolved"
        if trend:
            counts[trend] += 1
        out.append(f.model_copy(update={"trend": trend}) if trend != f.trend else f)

    gone: list[Finding] = []
    unchecked: list[Finding] = []
    for k, f in prev_open.items():
        if k in seen:
            continue
        region = f.resource.region
        if region in blind_regions:
            unchecked.append(f)
        elif region is None or region in regions:
            gone.append(f)
    counts["resolved"] += len(gone)

    when = previous.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    notes = [
        f"since the previous run ({when}): {counts['new']} new, {counts['open']} still open, "
        f"{counts['resolved']} resolved"
    ]
    for f in gone[:MAX_LISTED]:
        notes.append(f"resolved (no longer reported): {_label(f)} — was {f.status.value}: {f.message}")
    if len(gone) > MAX_LISTED:
        notes.append(f"…and {len(gone) - MAX_LISTED} more resolved")
    if unchecked:
        notes.append(
            f"not re-checked ({len(unchecked)} previously open finding(s) in unreadable regions): "
            + ", ".join(_label(f) for f in unchecked[:MAX_LISTED])
        )
    return result.model_copy(update={"findings": out, "notes": notes + list(result.notes)})
