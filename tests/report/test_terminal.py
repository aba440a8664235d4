"""Terminal table, verdict line, colour decision and the progress helper."""

from __future__ import annotations

import io
import re

import pytest

from auditor.models.findings import AuditResult, Status
from auditor.report.terminal import Progress, render_terminal, should_color

OUR_CODES = re.compile(r"\x1b\[[0-9;]*m")


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_output_has_no_escape_codes(result: AuditResult) -> None:
    text = render_terminal(result, color=False)
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines[0].startswith("SEVERITY")
    assert lines[-1].startswith("INCOMPLETE ")


def test_failures_and_errors_listed_by_severity(result: AuditResult) -> None:
    text = render_terminal(result, color=False)
    shown = [f for f in result.findings if f.status in (Status.FAIL, Status.ERROR)]
    for f in shown:
        assert f" {f.rule_id} " in text
    assert "waived" not in text.split("\n\n")[0]  # the table lists only fail and error
    rows = text.splitlines()[1 : 1 + len(shown)]
    assert rows[0].startswith("critical fail  BG02")


def test_colour_uses_only_our_codes(result: AuditResult) -> None:
    text = render_terminal(result, color=True)
    assert OUR_CODES.search(text)
    # Hostile ESC sequences from AWS data are stripped: every ESC left is one of ours.
    assert text.count("\x1b") == len(OUR_CODES.findall(text))
    assert "\x1b[31mred" not in text


def test_quiet_is_one_verdict_line(result: AuditResult) -> None:
    text = render_terminal(result, color=False, quiet=True)
    assert text.count("\n") == 1 and text.startswith("INCOMPLETE")
    assert "pass=6 fail=6 error=1 skipped=1 waived=1" in text


def test_should_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert should_color(FakeTty()) is True
    assert should_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert should_color(FakeTty()) is False


def test_progress_is_silent_when_not_a_tty() -> None:
    stream = io.StringIO()
    with Progress("collecting", total=3, unit="clusters", stream=stream) as p:
        for _ in range(3):
            p.advance()
    assert stream.getvalue() == ""


def test_progress_on_a_tty_uses_carriage_returns_and_clears() -> None:
    stream = FakeTty()
    p = Progress("collecting", total=200, unit="clusters", stream=stream, min_interval_s=0)
    p.update(12)
    assert "\rcollecting 12/200 clusters…" in stream.getvalue()
    p.update(200)
    p.close()
    out = stream.getvalue()
    assert "\n" not in out and out.endswith("\r")
    assert "collecting 200/200 clusters…" in out


def test_gate_verdict_lines(result: AuditResult) -> None:
    from auditor.report.terminal import gate_verdict

    assert gate_verdict(result, 0).startswith("SWITCHOVER OK")
    closed = gate_verdict(result, 1)
    blocking = [
        f for f in result.findings if f.status.value == "fail" and f.severity.at_least(result.fail_on)
    ]
    n_crit = sum(1 for f in blocking if f.severity.value == "critical")
    assert closed.startswith(f"SWITCHOVER BLOCKED: {n_crit} critical") and "BG02" in closed
    closed_hard = gate_verdict(result, 2, db_skipped_unapproved=True)
    assert closed_hard.startswith("SWITCHOVER BLOCKED: could not verify")
    assert "--no-db" in closed_hard and "BG08" in closed_hard and "incomplete" in closed_hard
    assert "\x1b" not in closed_hard and "\x1b" in gate_verdict(result, 2, color=True)
