"""summary.md: verdict line, counts table, capped failures table, errors; values cannot break the Markdown."""

from __future__ import annotations

import re

from auditor.models.findings import AuditResult, ResourceRef, Severity, Status
from auditor.report import Format, render
from auditor.report.markdown import md_escape, render_markdown
from tests.report.fixture import XSS, _f

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _tables(text: str) -> list[list[str]]:
    tables: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_verdict_is_the_first_line(result: AuditResult) -> None:
    first = render(Format.MD, result).splitlines()[0]
    assert first.startswith("### ") and "**INCOMPLETE**" in first
    passing = result.model_copy(update={"findings": [f for f in result.findings if f.status is Status.PASS]})
    passing = passing.model_copy(update={"complete": True, "errors": []}).with_summary()
    assert "**SWITCHOVER OK**" in render_markdown(passing).splitlines()[0]  # the fixture is a gate run
    check = passing.model_copy(update={"command": "check"})
    assert "**PASS**" in render_markdown(check).splitlines()[0]


def test_every_table_row_has_the_header_column_count(result: AuditResult) -> None:
    text = render(Format.MD, result)
    tables = _tables(text)
    assert len(tables) == 2  # counts, failures
    for table in tables:
        width = len(UNESCAPED_PIPE.findall(table[0]))
        for row in table:
            assert len(UNESCAPED_PIPE.findall(row)) == width, row


def test_counts_table_matches_summary(result: AuditResult) -> None:
    text = render(Format.MD, result)
    for status, count in result.compute_summary().items():
        assert f"| {status} | {count} |" in text


def test_markup_never_renders(result: AuditResult) -> None:
    text = render(Format.MD, result)
    assert XSS not in text and "<b>" not in text and "<script" not in text
    assert "\x1b" not in text and "\x00" not in text
    assert "&lt;script&gt;" in text


def test_failures_are_capped_with_and_n_more() -> None:
    findings = [
        _f(f"PG{i % 100:02d}", "t", Status.FAIL, Severity.HIGH, ResourceRef(kind="cluster", id=f"c{i}"), "m")
        for i in range(45)
    ]
    from tests.report.fixture import build_result

    r = build_result(complete=True).model_copy(update={"findings": findings, "errors": []}).with_summary()
    text = render_markdown(r, max_rows=20)
    failures = _tables(text)[1]
    assert len(failures) == 2 + 20 + 1
    assert "…and 25 more" in failures[-1]
    assert "**SWITCHOVER BLOCKED**" in text.splitlines()[0]  # a gate run names the decision it gates
    assert "**FAIL**" in render_markdown(r.model_copy(update={"command": "check"})).splitlines()[0]


def test_md_escape() -> None:
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("line1\nline2") == "line1 line2"
    assert md_escape("<img src=x onerror=alert(1)>").startswith("&lt;img")
    # with the brackets escaped no link can form; the parentheses stay readable
    assert md_escape("[x](javascript:alert(1))") == "\\[x\\](javascript:alert(1))"
    assert md_escape("1. not a list") == "1\\. not a list"
    assert md_escape("# not a heading") == "\\# not a heading"
    assert md_escape("rds.force_ssl is 0 (blue 1)") == "rds.force\\_ssl is 0 (blue 1)"
    assert len(md_escape("x" * 500)) == 200
