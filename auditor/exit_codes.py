"""Exit codes: the one place they are defined (CONTRACT.md, "Exit codes")."""

from __future__ import annotations

from enum import IntEnum

from auditor.models.findings import AuditResult, Severity, Status


class ExitCode(IntEnum):
    OK = 0  # audit complete; no unwaived fail at or above --fail-on
    FINDINGS = 1  # audit complete; at least one unwaived fail at or above --fail-on
    ERROR = 2  # could not audit what was asked (bad input, or an error finding at/above --fail-on)


OK = ExitCode.OK
FINDINGS = ExitCode.FINDINGS
ERROR = ExitCode.ERROR


def decide(
    result: AuditResult, fail_on: Severity | str, *, gate: bool = False, db_skipped_unapproved: bool = False
) -> ExitCode:
    """The exit code for a finished audit (CONTRACT.md "Exit codes").

    2 when any finding in `error` is at or above `fail_on` (for the gate: any BG finding in `error`, or the
    in-database checks skipped by `--no-db` without `--allow-skip-db`); 1 when an unwaived `fail` is at or
    above `fail_on`; else 0. Waived findings never count.
    """
    threshold = Severity(str(fail_on))
    if gate and db_skipped_unapproved:
        return ExitCode.ERROR
    code = ExitCode.OK
    for f in result.findings:
        at_or_above = f.severity.at_least(threshold)
        is_bg = f.rule_id.startswith("BG")
        if f.status is Status.ERROR and (at_or_above or (gate and is_bg)):
            return ExitCode.ERROR
        if f.status is Status.FAIL and at_or_above:
            code = ExitCode.FINDINGS
    return code
