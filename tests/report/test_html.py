"""report.html without a browser: self-contained, escaped, structured (browser: test_html_chromium.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from auditor.models.findings import AuditResult, Status
from auditor.report import Format, render
from auditor.report.html import build_view, drift_view, render_html
from auditor.report.topology import read_topology
from tests.report.fixture import MALFORMED_TOPOLOGY, XSS, build_result
from tests.report.synthetic import synthetic_result


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(text: str) -> _Collector:
    c = _Collector()
    c.feed(text)
    return c


def test_self_contained_no_network(result: AuditResult) -> None:
    text = render(Format.HTML, result)
    parsed = _parse(text)
    tags = [t for t, _ in parsed.tags]
    assert "link" not in tags and "img" not in tags and "iframe" not in tags
    scripts = [a for t, a in parsed.tags if t == "script"]
    assert scripts == [{}]  # one inline script, no src
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)
    assert "@import" not in text and "url(" not in text and "@font-face" not in text


def test_hostile_values_are_text_not_markup(result: AuditResult) -> None:
    text = render(Format.HTML, result)
    # The only <script> element is ours; the planted ones are escaped text.
    assert text.count("<script>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    parsed = _parse(text)
    assert any(XSS in chunk for chunk in parsed.text)
    assert not any(k.startswith("on") for _, attrs in parsed.tags for k in attrs)  # no injected handlers
    assert "<b>x</b>" not in text


def test_header_verdict_and_incomplete_banner(result: AuditResult) -> None:
    text = render_html(result)
    assert 'id="incomplete-banner"' in text and "INCOMPLETE AUDIT" in text
    assert "default → prod" in text and "aurora-audit 0.1.0" in text and "2026-11-25 18:00:00 UTC" in text
    complete = build_result(complete=True)
    assert 'id="incomplete-banner"' not in render_html(complete)


def test_every_finding_is_on_the_page_once(result: AuditResult) -> None:
    parsed = _parse(render_html(result))
    rows = [a for t, a in parsed.tags if "finding" in (a.get("class") or "").split()]
    assert len(rows) == len(result.findings)
    for status in Status:
        want = sum(1 for f in result.findings if f.status is status)
        assert sum(1 for a in rows if a.get("data-status") == status.value) == want
    assert {a["data-family"] for a in rows} == {f.family for f in result.findings}


def test_blue_green_drift_has_side_by_side_columns(result: AuditResult) -> None:
    bg02 = next(f for f in result.findings if f.rule_id == "BG02")
    view = drift_view(bg02.drift)
    assert [h for _, h in view.columns] == ["baseline (expected)", "blue", "green (actual)"]
    assert view.rows[0]["cells"] == {"expected": "0", "compare:blue": "0", "actual": "1"}
    text = render_html(result)
    assert "<th>baseline (expected)</th><th>blue</th><th>green (actual)</th>" in text
    plain = next(f for f in result.findings if f.rule_id == "PG01")
    assert [h for _, h in drift_view(plain.drift).columns] == ["expected", "actual"]
    assert drift_view(plain.drift).rows[0]["cells"]["expected"] == '{"min": 500}'


def test_topology_sketch(result: AuditResult) -> None:
    text = render_html(result)
    for node in ("prod-app-proxy", "prod-app-1", "prod-app-2", "prod-app-analytics", "prod-app-eu"):
        assert f"<strong>{node}</strong>" in text
    assert "readers · us-east-1b" in text and "global secondaries · prod-app-global" in text
    view = build_view(result)
    prod = next(c for c in view["clusters"] if c.id == "prod-app")
    assert [az for az, _ in prod.readers_by_az] == ["us-east-1b", "us-east-1c"]
    assert [n["id"] for n in prod.readers_by_az[0][1]] == ["prod-app-2", "prod-app-analytics"]  # by tier


def test_malformed_topology_still_renders() -> None:
    r = build_result().model_copy(update={"topology": MALFORMED_TOPOLOGY})
    assert [t["id"] for t in read_topology(MALFORMED_TOPOLOGY)] == ["odd", "odd2"]
    text = render_html(r)
    assert "<strong>w1</strong>" in text and "<strong>r1</strong>" in text
    assert 'data-cluster="odd2"' in text  # a cluster with topology but no findings still gets a section


def test_passing_checks_collapse_per_cluster() -> None:
    r = synthetic_result(clusters=20)
    text = render_html(r)
    assert text.count('<details class="passing">') == 20
    view = build_view(r)
    assert all(all(f.status is Status.PASS for f in c.passing) for c in view["clusters"])
    # The clusters needing attention come first in the page.
    worst = [c.worst for c in view["clusters"]]
    ranks = [["critical", "high", "medium", "low", "info"].index(w) if w else 9 for w in worst]
    assert ranks == sorted(ranks)


def test_print_styles_present(result: AuditResult) -> None:
    text = render_html(result)
    assert "@media print" in text and "beforeprint" in text


def test_control_characters_never_reach_the_page(result: AuditResult) -> None:
    text = render_html(result)
    for ch in ("\x00", "\x0b", "\x1b"):
        assert ch not in text
    assert "[31mred[0m|pipe|**bold**" in text  # the printable rest of the hostile value is kept
