"""summary.md: short Markdown for a pull request comment or $GITHUB_STEP_SUMMARY.

Every value from the audit is escaped: pipes cannot break a table, HTML cannot render (GitHub allows some
inline HTML in Markdown), and Markdown syntax characters are backslash-escaped (CommonMark §2.4).
"""

from __future__ import annotations

import re

from auditor.models.findings import AuditResult, Finding, Status
from auditor.report.common import (
    SEVERITY_ORDER,
    VerdictKind,
    generated_text,
    headline,
    one_line,
    sort_findings,
    summary_counts,
    verdict,
)

MAX_ROWS = 20
MAX_CELL = 200

# Inline Markdown that can fire mid-line (emphasis, code, links, tables, strikethrough). Dots, parentheses
# and hyphens only matter at the start of a line, so only a leading one is escaped: the summary stays
# readable as plain text too (a pull-request comment is often read raw).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LEADING = re.compile(r"^(\d*)([#+\-=.)]+)(?=\s|$)")
_ICON = {VerdictKind.PASS: "✅", VerdictKind.FAIL: "❌", VerdictKind.INCOMPLETE: "⚠️"}


def md_escape(text: str, limit: int = MAX_CELL) -> str:
    """One table-safe line: no newlines, no raw HTML, Markdown syntax escaped, long text cut."""
    flat = one_line(text)
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _MD_SPECIAL.sub(r"\\\1", flat)
    return _MD_LEADING.sub(r"\1\\\2", flat)  # "1. x" -> "1\. x", "# x" -> "\# x"


def _code(text: str) -> str:
    """Short identifiers (rule ids, resource ids) in a code span, with backticks and pipes made harmless."""
    flat = one_line(text)[:MAX_CELL]
    # Code spans are literal in CommonMark, other renderers differ: markup-like text gets escaped instead.
    if not flat or any(ch in flat for ch in "`|<>&"):
        return md_escape(flat)
    return f"`{flat}`"


def _failure_row(finding: Finding) -> str:
    return (
        f"| {finding.severity.value} | {_code(finding.rule_id)} | {_code(finding.resource.id)} "
        f"| {md_escape(finding.message)} |"
    )


def _trend_lines(result: AuditResult, max_rows: int) -> list[str]:
    """Changes since the previous run (fleet --previous) and the run's notes (e.g. regions not audited)."""
    lines: list[str] = []
    ordered = sort_findings(result.findings)
    trends = {t: [f for f in ordered if f.trend == t] for t in ("new", "open", "resolved")}
    if any(trends.values()):
        lines += [
            "#### Since the previous run",
            "",
            f"new: {len(trends['new'])} · still open: {len(trends['open'])} · "
            f"resolved: {len(trends['resolved'])}",
            "",
        ]
        shown = [*trends["new"], *trends["resolved"]][:max_rows]
        lines += [
            f"- **{f.trend}** ({f.status.value}) {_code(f.rule_id)} {_code(f.resource.id)}: "
            f"{md_escape(f.message)}"
            for f in shown
        ]
        if shown:
            lines.append("")
    if result.notes:
        lines += ["#### Notes", "", *(f"- {md_escape(n, limit=500)}" for n in result.notes[:max_rows])]
        if len(result.notes) > max_rows:
            lines.append(f"- …and {len(result.notes) - max_rows} more (see report.html)")
        lines.append("")
    return lines


def render_markdown(result: AuditResult, max_rows: int = MAX_ROWS) -> str:
    v = verdict(result)
    counts = summary_counts(result)
    targets = ", ".join(_code(t.id) for t in result.targets) or "—"
    lines = [
        f"### {_ICON[v.kind]} aurora-audit {md_escape(result.command)}: **{headline(result, v)}**",
        "",
        md_escape(v.detail, limit=1000),
        "",
        f"Targets: {targets} · fail on: {result.fail_on.value} · "
        f"baselines: {', '.join(_code(b) for b in result.baselines) or '—'} · "
        f"aurora-audit {md_escape(result.tool.version)} · "
        f"{generated_text(result)}",
        "",
    ]
    if not result.complete:
        lines += ["> **INCOMPLETE** — some data could not be collected; see errors below.", ""]
    lines += [
        "| status | count |",
        "| --- | ---: |",
        *(f"| {s.value} | {counts[s.value]} |" for s in Status),
        "",
    ]
    lines += _trend_lines(result, max_rows)
    failures = [f for f in sort_findings(result.findings) if f.status is Status.FAIL]
    if failures:
        by_sev = " · ".join(
            f"{sev.value}: {n}"
            for sev in SEVERITY_ORDER
            if (n := sum(1 for f in failures if f.severity is sev))
        )
        lines += [
            f"#### Failures ({len(failures)} — {by_sev})",
            "",
            "| severity | rule | resource | message |",
            "| --- | --- | --- | --- |",
            *(_failure_row(f) for f in failures[:max_rows]),
        ]
        if len(failures) > max_rows:
            lines.append(f"| | | | …and {len(failures) - max_rows} more (see report.html) |")
        lines.append("")
    finding_errors = [f for f in sort_findings(result.findings) if f.status is Status.ERROR]
    if finding_errors or result.errors:
        lines += ["#### Errors", ""]
        shown = 0
        for f in finding_errors:
            if shown >= max_rows:
                break
            lines.append(f"- {_code(f.rule_id)} {_code(f.resource.id)}: {md_escape(f.message)}")
            shown += 1
        for e in result.errors:
            if shown >= max_rows:
                break
            lines.append(f"- {_code(e.operation)} on {_code(e.resource)}: {md_escape(e.message)}")
            shown += 1
        remaining = len(finding_errors) + len(result.errors) - shown
        if remaining > 0:
            lines.append(f"- …and {remaining} more")
        lines.append("")
    return "\n".join(lines)
