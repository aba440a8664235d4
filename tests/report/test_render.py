"""Format enum, FILENAMES, render() dispatch and the shared verdict."""

from __future__ import annotations

import pytest

from auditor.models.findings import AuditResult, Severity, Status
from auditor.report import DEFAULT_FORMATS, FILENAMES, Format, parse_formats, render
from auditor.report.common import VerdictKind, verdict
from tests.report.fixture import build_result


def test_every_format_has_a_file_and_renders(result: AuditResult) -> None:
    assert set(FILENAMES) == set(Format)
    assert len(set(FILENAMES.values())) == len(Format)
    for fmt in Format:
        text = render(fmt, result)
        assert isinstance(text, str) and text.endswith("\n") or fmt is Format.HTML
    assert [f.value for f in DEFAULT_FORMATS] == ["html", "junit", "json"]


def test_parse_formats() -> None:
    assert parse_formats("html,junit,json,md") == list(Format)
    assert parse_formats(" MD , md,json") == [Format.MD, Format.JSON]
    with pytest.raises(ValueError, match="unknown report format 'xml'"):
        parse_formats("html,xml")


def _with(result: AuditResult, **update: object) -> AuditResult:
    return result.model_copy(update=update).with_summary()


def test_verdict_follows_the_exit_code_rules() -> None:
    base = build_result(complete=True)
    no_errors = [f for f in base.findings if f.status is not Status.ERROR]
    assert verdict(base).kind is VerdictKind.INCOMPLETE  # a critical error finding
    failing = _with(base, findings=no_errors)
    v = verdict(failing)
    assert v.kind is VerdictKind.FAIL and "1 critical, 1 high" in v.detail
    below = [f for f in no_errors if not (f.status is Status.FAIL and f.severity.at_least(Severity.HIGH))]
    assert verdict(_with(base, findings=below)).kind is VerdictKind.PASS
    assert verdict(_with(base, findings=below, fail_on=Severity.INFO)).kind is VerdictKind.FAIL
    assert verdict(_with(base, findings=below, complete=False)).kind is VerdictKind.INCOMPLETE


@pytest.mark.parametrize("command", ["check", "gate", "fleet"])
@pytest.mark.parametrize("fail_on", list(Severity))
def test_verdict_agrees_with_exit_codes(command: str, fail_on: Severity) -> None:
    from auditor.exit_codes import ExitCode, decide

    base = build_result(complete=True)
    variants = [
        base.findings,
        [f for f in base.findings if f.status is not Status.ERROR],
        [f for f in base.findings if f.status is Status.PASS],
        [f.model_copy(update={"severity": Severity.LOW}) for f in base.findings],  # a low BG error
    ]
    expected = {
        ExitCode.OK: VerdictKind.PASS,
        ExitCode.FINDINGS: VerdictKind.FAIL,
        ExitCode.ERROR: VerdictKind.INCOMPLETE,
    }
    for findings in variants:
        r = _with(base, findings=findings, command=command, fail_on=fail_on)
        assert verdict(r).kind is expected[decide(r, fail_on, gate=command == "gate")]
