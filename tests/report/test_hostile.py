"""Property test: any text in any field the audit data controls leaves every report well-formed and inert."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.models.findings import AuditResult, DriftItem, Finding, ResourceRef, Severity, Status
from auditor.report import Format, render
from auditor.report.common import xml_safe
from auditor.report.terminal import render_terminal
from tests.report.fixture import build_result

NASTY = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "]]>",
        "</textarea>",
        "|",
        "\x00",
        "\x1b[2J",
        "{{ 7*7 }}",
        "${x}",
        "&amp;",
        "\r\n",
    ]
)
TEXT = st.lists(st.one_of(st.text(max_size=20), NASTY), max_size=5).map("".join)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.handlers = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.handlers += sum(1 for k, _ in attrs if k.startswith("on"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rule_title=TEXT,
    resource_id=TEXT,
    message=TEXT,
    value=TEXT,
    remediation=TEXT,
    status=st.sampled_from(list(Status)),
    severity=st.sampled_from(list(Severity)),
)
def test_reports_stay_well_formed(
    rule_title: str,
    resource_id: str,
    message: str,
    value: str,
    remediation: str,
    status: Status,
    severity: Severity,
) -> None:
    finding = Finding(
        rule_id="PG01",
        title=rule_title,
        status=status,
        severity=severity,
        resource=ResourceRef(kind="cluster", id=resource_id or "x", cluster=resource_id or "x"),
        message=message,
        drift=[DriftItem(path=value, expected=value, actual=message, compare={"blue": value})],
        remediation=remediation,
        waiver=value if status is Status.WAIVED else None,
    )
    base = build_result(complete=True)
    result: AuditResult = base.model_copy(update={"findings": [*base.findings, finding]}).with_summary()

    # JSON: exact round trip.
    assert AuditResult.from_json(render(Format.JSON, result)) == result

    # JUnit: well-formed, and attribute values read back as the original minus XML-illegal characters.
    root = ET.fromstring(render(Format.JUNIT, result))
    cases = [
        c
        for c in root.iter("testcase")
        if c.get("name", "").startswith(f"PG01 {xml_safe(resource_id or 'x')}:")
    ]
    assert cases
    if status is Status.FAIL:
        failures = [el for c in cases if (el := c.find("failure")) is not None]
        assert any(el.get("message") == xml_safe(message) for el in failures)

    # HTML: only our own script element, no injected event handlers.
    tags = _Tags()
    tags.feed(render(Format.HTML, result))
    assert tags.scripts == 1 and tags.handlers == 0

    # Markdown: every table row keeps its column count.
    md = render(Format.MD, result)
    for block in re.split(r"\n(?!\|)", md):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:
            widths = {len(re.findall(r"(?<!\\)\|", r)) for r in rows}
            assert len(widths) == 1, rows
    assert "<script" not in md

    # Terminal: no escape sequence we did not write.
    text = render_terminal(result, color=False)
    assert "\x1b" not in text and "\x00" not in text
    json.dumps(text)
