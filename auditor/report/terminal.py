"""Terminal output: a compact table of failures and errors by severity, and a one-line verdict.

Colour only on a TTY and never when NO_COLOR is set (https://no-color.org). Values from AWS or PostgreSQL
are stripped of control characters so a hostile parameter value cannot send escape sequences.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import IO

from auditor.models.findings import AuditResult, Severity, Status
from auditor.report.common import VerdictKind, one_line, sort_findings, summary_counts, verdict

_RESET = "\x1b[0m"
_SEV_COLOUR = {
    Severity.CRITICAL: "\x1b[1;97;41m",  # bold white on red
    Severity.HIGH: "\x1b[1;31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_VERDICT_COLOUR = {
    VerdictKind.PASS: "\x1b[1;32m",
    VerdictKind.FAIL: "\x1b[1;31m",
    VerdictKind.INCOMPLETE: "\x1b[1;33m",
}
_STATUS_COLOUR = {Status.FAIL: "\x1b[31m", Status.ERROR: "\x1b[35m"}

DEFAULT_WIDTH = 100


def should_color(stream: IO[str]) -> bool:
    """True when `stream` is a TTY and NO_COLOR is unset (or empty)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def verdict_line(result: AuditResult, color: bool) -> str:
    v = verdict(result)
    c = summary_counts(result)
    counts = " ".join(f"{k}={c[k]}" for k in ("pass", "fail", "error", "skipped", "waived"))
    return f"{_paint(v.headline, _VERDICT_COLOUR[v.kind], color)} {one_line(v.detail)} [{counts}]"


def gate_verdict(
    result: AuditResult, code: int, db_skipped_unapproved: bool = False, color: bool = False
) -> str:
    """One line for the blue/green gate, from the exit code cli.py decided (0 / 1 / 2): may we switch over?"""
    bg = [f for f in result.findings if f.family == "BG"]
    bg_err = [f for f in bg if f.status is Status.ERROR]
    blocking = [f for f in result.findings if f.status is Status.FAIL and f.severity.at_least(result.fail_on)]
    if code == 0:
        word, colour = "SWITCHOVER OK", _VERDICT_COLOUR[VerdictKind.PASS]
        why = f"{len(bg)} blue/green checks evaluated, none blocking"
    elif code == 1:
        by_sev = [
            f"{n} {sev.value}"
            for sev in Severity
            if (n := sum(1 for f in blocking if f.severity is sev))
        ]
        word = "SWITCHOVER BLOCKED: " + ", ".join(by_sev)
        colour = _VERDICT_COLOUR[VerdictKind.FAIL]
        ids = ", ".join(sorted({f.rule_id for f in blocking}))
        why = f"do not switch over ({ids})"
    else:
        word, colour = "SWITCHOVER BLOCKED: could not verify", _VERDICT_COLOUR[VerdictKind.INCOMPLETE]
        reasons = []
        if db_skipped_unapproved:
            reasons.append("in-database checks were skipped (--no-db without --allow-skip-db)")
        if bg_err:
            reasons.append("could not evaluate " + ", ".join(sorted({f.rule_id for f in bg_err})))
        if not result.complete:
            reasons.append("the audit is incomplete")
        why = "fail closed: " + ("; ".join(reasons) or "the audit could not be completed")
    return f"{_paint(word, colour, color)}: {why}"


def render_terminal(result: AuditResult, color: bool, quiet: bool = False, width: int | None = None) -> str:
    """The text the CLI prints to stdout after an audit (ends with a newline)."""
    if quiet:
        return verdict_line(result, color) + "\n"
    width = width or DEFAULT_WIDTH
    rows = [f for f in sort_findings(result.findings) if f.status in (Status.FAIL, Status.ERROR)]
    lines: list[str] = []
    if rows:
        rule_w = 4
        res_w = min(max(len(one_line(f.resource.id)) for f in rows), 32)
        msg_w = max(width - (8 + 1 + 5 + 1 + rule_w + 1 + res_w + 1), 20)
        header = f"{'SEVERITY':<8} {'STAT':<5} {'RULE':<{rule_w}} {'RESOURCE':<{res_w}} MESSAGE"
        lines.append(_paint(header, "\x1b[1m", color))
        for f in rows:
            sev = _paint(f"{f.severity.value:<8}", _SEV_COLOUR[f.severity], color)
            stat = _paint(f"{f.status.value:<5}", _STATUS_COLOUR.get(f.status, ""), color)
            res = _cut(one_line(f.resource.id), res_w)
            lines.append(
                f"{sev} {stat} {f.rule_id:<{rule_w}} {res:<{res_w}} {_cut(one_line(f.message), msg_w)}"
            )
        lines.append("")
    if result.errors:
        lines.append(_paint(f"{len(result.errors)} collection error(s):", "\x1b[1m", color))
        for e in result.errors[:10]:
            lines.append(
                _cut(f"  {one_line(e.operation)} {one_line(e.resource)}: {one_line(e.message)}", width)
            )
        if len(result.errors) > 10:
            lines.append(f"  …and {len(result.errors) - 10} more")
        lines.append("")
    for note in result.notes[:5]:
        lines.append(_cut(f"note: {one_line(note)}", width))
    if result.notes:
        lines.append("")
    lines.append(verdict_line(result, color))
    return "\n".join(lines) + "\n"


class Progress:
    """A one-line progress counter on stderr ("collecting 12/200 clusters…"), TTY only; silent otherwise.

    progress = Progress("collecting", total=len(ids), unit="clusters")
    for cid in ids: ...; progress.advance()
    progress.close()
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        unit: str = "",
        stream: IO[str] | None = None,
        min_interval_s: float = 0.1,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self._isatty(self.stream)
        self.count = 0
        self._min_interval = min_interval_s
        self._last = 0.0
        self._shown = False

    @staticmethod
    def _isatty(stream: IO[str]) -> bool:
        try:
            return bool(stream.isatty())
        except (AttributeError, ValueError):
            return False

    def text(self) -> str:
        of = f"/{self.total}" if self.total is not None else ""
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.label} {self.count}{of}{unit}…"

    def advance(self, n: int = 1) -> None:
        self.update(self.count + n)

    def update(self, count: int) -> None:
        self.count = count
        if not self.enabled:
            return
        now = time.monotonic()
        finished = self.total is not None and count >= self.total
        if not finished and now - self._last < self._min_interval:
            return
        self._last = now
        columns = shutil.get_terminal_size((80, 20)).columns
        self.stream.write("\r" + _cut(self.text(), columns - 1).ljust(columns - 1))
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """Clear the line so what follows starts clean."""
        if self.enabled and self._shown:
            columns = shutil.get_terminal_size((80, 20)).columns
            self.stream.write("\r" + " " * (columns - 1) + "\r")
            self.stream.flush()
        self._shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
