"""Helpers every reporter shares: the verdict, grouping, ordering and text clean-up.

Reporters see only `AuditResult` and return strings (DESIGN.md, convention 11).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC
from enum import StrEnum
from typing import Any

from auditor.models.findings import AuditResult, Finding, Severity, Status

SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFO,
)
STATUS_ORDER: tuple[Status, ...] = (Status.FAIL, Status.ERROR, Status.WAIVED, Status.SKIPPED, Status.PASS)

# Rule families from RULES.md; an unknown family is shown by its code.
FAMILY_NAMES: dict[str, str] = {
    "CL": "Cluster configuration",
    "HA": "Availability and failover",
    "PG": "Parameter groups",
    "RS": "Replication slots",
    "GD": "Global Database",
    "BG": "Blue/green gate",
    "FL": "Fleet coverage",
}

# Characters XML 1.0 forbids (https://www.w3.org/TR/xml/#charsets) — also never wanted on a terminal.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# C0/C1 control characters except tab and newline: ANSI escapes in a hostile value must not reach a terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry at all (even escaped)."""
    return _XML_ILLEGAL.sub("", text)


def strip_control(text: str) -> str:
    """Drop control characters (keeps tab and newline)."""
    return _CONTROL.sub("", xml_safe(text))


def one_line(text: str) -> str:
    return " ".join(strip_control(text).split())


def value_text(value: Any) -> str:
    """A drift value as a reviewer reads it: strings as-is, None as an em dash, others as JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def generated_text(result: AuditResult) -> str:
    """`generated_at` as UTC wall time for people."""
    when = result.generated_at
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def severity_rank(finding: Finding) -> int:
    return SEVERITY_ORDER.index(finding.severity)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most important first: status, then severity, then rule id, then resource id."""
    return sorted(
        findings,
        key=lambda f: (STATUS_ORDER.index(f.status), severity_rank(f), f.rule_id, f.resource.id),
    )


def group_key(finding: Finding) -> str:
    """The cluster a finding belongs to: its resource's cluster, or the resource itself."""
    return finding.resource.cluster or finding.resource.id


def group_by_cluster(result: AuditResult) -> list[tuple[str, list[Finding]]]:
    groups: dict[str, list[Finding]] = {}
    for finding in result.findings:
        groups.setdefault(group_key(finding), []).append(finding)
    return sorted(groups.items())


def summary_counts(result: AuditResult) -> dict[str, int]:
    """The result's summary, computed from the findings when the engine left it empty."""
    computed = result.compute_summary()
    return {s.value: int(result.summary.get(s.value, computed[s.value])) for s in Status}


class VerdictKind(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    headline: str  # e.g. "FAIL"
    detail: str  # one sentence a manager can read
    blocking: list[Finding] = field(default_factory=list)  # the findings behind the verdict


def blocking_failures(result: AuditResult) -> list[Finding]:
    return [f for f in result.findings if f.status is Status.FAIL and f.severity.at_least(result.fail_on)]


def blocking_errors(result: AuditResult) -> list[Finding]:
    """Errors that make the run exit 2: at or above fail_on, and for `gate` any BG error (fail closed)."""
    gate = result.command == "gate"
    return [
        f
        for f in result.findings
        if f.status is Status.ERROR
        and (f.severity.at_least(result.fail_on) or (gate and f.rule_id[:2] == "BG"))
    ]


def verdict(result: AuditResult) -> Verdict:
    """The same decision as `auditor.exit_codes.decide` (2 incomplete > 1 fail > 0 pass), plus: a result
    marked `complete=False` is always INCOMPLETE (CONTRACT.md: a run that exits 2 is marked incomplete).
    A test keeps the two in step.
    """
    errors = blocking_errors(result)
    failures = blocking_failures(result)
    threshold = result.fail_on.value
    if not result.complete or errors:
        parts = []
        if not result.complete:
            parts.append("the audit could not collect everything it needed")
        if errors:
            parts.append(f"{_n(len(errors), 'blocking check')} could not be evaluated")
        if failures:
            parts.append(f"{_n(len(failures), 'failure')} at or above {threshold}")
        return Verdict(VerdictKind.INCOMPLETE, "INCOMPLETE", "; ".join(parts).capitalize() + ".", errors)
    if failures:
        by_sev = ", ".join(
            f"{sum(1 for f in failures if f.severity is s)} {s.value}"
            for s in SEVERITY_ORDER
            if any(f.severity is s for f in failures)
        )
        return Verdict(
            VerdictKind.FAIL,
            "FAIL",
            f"{_n(len(failures), 'failure')} at or above {threshold} ({by_sev}).",
            failures,
        )
    counts = summary_counts(result)
    return Verdict(
        VerdictKind.PASS,
        "PASS",
        f"No unwaived failure at or above {threshold} ({counts['pass']} passed, "
        f"{counts['fail']} below threshold, {counts['waived']} waived).",
    )


def headline(result: AuditResult, v: Verdict) -> str:
    """The word a report leads with: for the pre-switchover gate, the question it answers."""
    if result.command == "gate" and v.kind is not VerdictKind.INCOMPLETE:
        return "SWITCHOVER OK" if v.kind is VerdictKind.PASS else "SWITCHOVER BLOCKED"
    return v.headline


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
