"""Exit codes: the one place they are defined (CONTRACT.md, "Exit codes")."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # audit complete; no unwaived fail at or above --fail-on
    FINDINGS = 1  # audit complete; at least one unwaived fail at or above --fail-on
    ERROR = 2  # could not audit what was asked (bad input, or an error finding at/above --fail-on)


OK = ExitCode.OK
FINDINGS = ExitCode.FINDINGS
ERROR = ExitCode.ERROR
