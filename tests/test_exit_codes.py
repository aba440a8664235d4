"""The exit-code decision (CONTRACT.md "Exit codes"), in its one place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from auditor.exit_codes import ExitCode, decide
from auditor.models.findings import AuditResult, Finding, ResourceRef, Severity, Status, ToolInfo


def _result(*findings: tuple[str, Status, Severity]) -> AuditResult:
    return AuditResult(
        tool=ToolInfo(version="0.1.0"),
        generated_at=datetime(2026, 11, 25, tzinfo=UTC),
        command="check",
        findings=[
            Finding(
                rule_id=rid,
                title="t",
                status=st,
                severity=sev,
                resource=ResourceRef(kind="cluster", id="prod-app"),
                message="m",
            )
            for rid, st, sev in findings
        ],
    ).with_summary()


@pytest.mark.parametrize(
    ("findings", "fail_on", "expected"),
    [
        ([], "high", ExitCode.OK),
        ([("CL01", Status.PASS, Severity.HIGH)], "high", ExitCode.OK),
        ([("CL01", Status.FAIL, Severity.HIGH)], "high", ExitCode.FINDINGS),
        ([("CL07", Status.FAIL, Severity.LOW)], "high", ExitCode.OK),
        ([("CL07", Status.FAIL, Severity.LOW)], "low", ExitCode.FINDINGS),
        ([("CL01", Status.WAIVED, Severity.CRITICAL)], "info", ExitCode.OK),
        ([("CL01", Status.ERROR, Severity.HIGH)], "high", ExitCode.ERROR),
        ([("CL07", Status.ERROR, Severity.LOW)], "high", ExitCode.OK),
        (
            [("CL01", Status.FAIL, Severity.HIGH), ("RS02", Status.ERROR, Severity.CRITICAL)],
            "high",
            ExitCode.ERROR,
        ),
        ([("CL01", Status.SKIPPED, Severity.HIGH)], "high", ExitCode.OK),
    ],
)
def test_decide(findings: list, fail_on: str, expected: ExitCode) -> None:
    assert decide(_result(*findings), fail_on) is expected


def test_gate_fails_closed_on_any_bg_error_whatever_its_severity() -> None:
    result = _result(("BG07", Status.ERROR, Severity.MEDIUM))
    assert decide(result, "critical") is ExitCode.OK
    assert decide(result, "critical", gate=True) is ExitCode.ERROR


def test_gate_with_db_skipped_without_approval_is_an_error() -> None:
    result = _result(("BG02", Status.PASS, Severity.CRITICAL), ("BG08", Status.SKIPPED, Severity.CRITICAL))
    assert decide(result, "high", gate=True) is ExitCode.OK
    assert decide(result, "high", gate=True, db_skipped_unapproved=True) is ExitCode.ERROR
