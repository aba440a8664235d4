"""report.html in real headless Chromium, driven over the DevTools protocol (tests/report/cdp.py).

Needs Debian's `chromium` package and websocket-client; without them these tests skip locally and FAIL when
CI=true. A screenshot is kept in tests/artifacts/ (git-ignored) for people to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.models.findings import AuditResult, Status
from auditor.report import Format, render
from tests.report.fixture import XSS, build_result
from tests.report.synthetic import synthetic_result

pytestmark = pytest.mark.chromium

VISIBLE_FINDINGS = (
    "document.querySelectorAll('.finding').length - document.querySelectorAll('.finding[hidden]').length"
)
# Rendered and not inside a hidden ancestor (checkVisibility also treats closed <details> content as hidden).
RENDERED_CARDS = "[...document.querySelectorAll('article.finding')].filter(e => e.checkVisibility()).length"


def _open(browser: Any, html: str, path: Path, *, javascript: bool = True) -> None:
    path.write_text(html, encoding="utf-8")
    browser.open(path.resolve().as_uri(), javascript=javascript)


def _click(browser: Any, selector: str) -> None:
    # A real click event on the element (bubbles to the form's change handler like a user's click).
    browser.evaluate(f"document.querySelector({selector!r}).click()")


def _console_problems(browser: Any) -> list[str]:
    problems = []
    for e in browser.events_named("Runtime.exceptionThrown"):
        problems.append(str(e["params"]["exceptionDetails"]))
    for e in browser.events_named("Runtime.consoleAPICalled"):
        if e["params"]["type"] in ("error", "assert", "warning"):
            problems.append(str(e["params"]["args"]))
    for e in browser.events_named("Log.entryAdded"):
        if e["params"]["entry"]["level"] in ("error", "warning"):
            problems.append(str(e["params"]["entry"]))
    return problems


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Any:
    _open(browser, render(Format.HTML, build_result()), tmp_path / "report.html")
    return browser


def test_loads_without_console_errors_or_network(page: Any, artifacts_dir: Path) -> None:
    assert _console_problems(page) == []
    urls = [e["params"]["request"]["url"] for e in page.events_named("Network.requestWillBeSent")]
    assert urls and all(u.startswith("file://") for u in urls), urls  # self-contained: nothing fetched
    assert page.evaluate("document.title").startswith("INCOMPLETE")
    page.screenshot(artifacts_dir / "report.png")


def test_filters_change_what_is_shown(page: Any) -> None:
    result = build_result()
    total = len(result.findings)
    problems = sum(1 for f in result.findings if f.status in (Status.FAIL, Status.ERROR))
    assert page.evaluate("document.getElementById('filters').hidden") is False
    assert page.evaluate(VISIBLE_FINDINGS) == total
    assert (
        page.evaluate("document.getElementById('shown-count').textContent")
        == f"{total} of {total} findings shown"
    )

    _click(page, "#filter-problems")
    assert page.evaluate(VISIBLE_FINDINGS) == problems
    assert page.evaluate(RENDERED_CARDS) == problems

    _click(page, "input[name='severity'][value='critical']")  # untick critical
    want = sum(
        1
        for f in result.findings
        if f.status in (Status.FAIL, Status.ERROR) and f.severity.value != "critical"
    )
    assert page.evaluate(VISIBLE_FINDINGS) == want
    # The green cluster had only critical problems and passes: with passes filtered out its section hides.
    assert page.evaluate("document.querySelector('section[data-cluster=\"prod-app-green-abc123\"]').hidden")

    _click(page, "#filter-reset")
    _click(page, "input[name='family'][value='PG']")  # untick the PG family
    assert page.evaluate(VISIBLE_FINDINGS) == sum(1 for f in result.findings if f.family != "PG")
    _click(page, "#filter-reset")
    assert page.evaluate(VISIBLE_FINDINGS) == total
    assert _console_problems(page) == []


def test_planted_script_stays_inert_text(page: Any) -> None:
    assert page.events_named("Page.javascriptDialogOpening") == []
    # Exactly our one script element exists; the planted markup is text in the drift cell and the title.
    assert page.evaluate("document.scripts.length") == 1
    body = page.evaluate("document.body.innerText")
    assert XSS in body
    cells = page.evaluate("[...document.querySelectorAll('table.drift td')].map(td => td.textContent)")
    assert any(XSS in c and 'onmouseover="alert(2)' in c for c in cells)
    assert page.evaluate("document.querySelectorAll('[onmouseover]').length") == 0
    assert page.evaluate("document.querySelectorAll('b').length") == 0  # the cluster id's <b> is text


def test_readable_without_javascript(browser: Any, tmp_path: Path) -> None:
    result = build_result()
    _open(browser, render(Format.HTML, result), tmp_path / "nojs.html", javascript=False)
    try:
        assert browser.evaluate("document.getElementById('filters').hidden") is True  # no dead controls
        non_pass = sum(1 for f in result.findings if f.status is not Status.PASS)
        assert browser.evaluate(RENDERED_CARDS) == non_pass  # everything but the collapsed passes is visible
        assert browser.evaluate("document.getElementById('verdict').innerText").startswith("INCOMPLETE")
    finally:
        browser.send("Emulation.setScriptExecutionDisabled", value=False)


def test_print_layout_hides_filters_and_opens_passes(page: Any, tmp_path: Path) -> None:
    page.send("Emulation.setEmulatedMedia", media="print")
    try:
        assert page.evaluate("getComputedStyle(document.getElementById('filters')).display") == "none"
    finally:
        page.send("Emulation.setEmulatedMedia", media="")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("document.querySelectorAll('details:not([open])').length") == 0
    pdf = page.send("Page.printToPDF", printBackground=True)
    assert len(pdf["data"]) > 1000
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.evaluate("document.querySelectorAll('details[open]').length") == 0


def test_two_hundred_clusters_load_and_filter(browser: Any, tmp_path: Path, artifacts_dir: Path) -> None:
    big: AuditResult = synthetic_result(200)
    _open(browser, render(Format.HTML, big), tmp_path / "fleet.html")
    assert _console_problems(browser) == []
    assert browser.evaluate("document.querySelectorAll('section.cluster').length") == 200
    assert browser.evaluate(VISIBLE_FINDINGS) == len(big.findings)
    # Passing checks are collapsed: no pass row is rendered until its <details> opens.
    visible_pass = "[...document.querySelectorAll('li.finding')].filter(e => e.checkVisibility()).length"
    assert browser.evaluate(visible_pass) == 0
    _click(browser, "#filter-problems")
    want = sum(1 for f in big.findings if f.status in (Status.FAIL, Status.ERROR))
    assert browser.evaluate(VISIBLE_FINDINGS) == want
    browser.screenshot(artifacts_dir / "report-fleet.png", full_page=False)
