"""Golden files: each format rendered from the fixed AuditResult matches tests/report/golden/ byte for byte.

Regenerate after an intended change: AURORA_AUDIT_UPDATE_GOLDEN=1 pytest tests/report/test_golden.py
"""

from __future__ import annotations

import pytest

from auditor.models.findings import AuditResult
from auditor.report import FILENAMES, Format, render
from auditor.report.terminal import render_terminal
from tests.report.conftest import check_golden


@pytest.mark.parametrize("fmt", list(Format), ids=[f.value for f in Format])
def test_format_matches_golden(fmt: Format, result: AuditResult) -> None:
    check_golden(FILENAMES[fmt], render(fmt, result))


@pytest.mark.parametrize(
    ("name", "color", "quiet"),
    [
        ("terminal.txt", False, False),
        ("terminal-color.txt", True, False),
        ("terminal-quiet.txt", False, True),
    ],
)
def test_terminal_matches_golden(name: str, color: bool, quiet: bool, result: AuditResult) -> None:
    check_golden(name, render_terminal(result, color=color, quiet=quiet))


def test_rendering_is_deterministic(result: AuditResult) -> None:
    for fmt in Format:
        assert render(fmt, result) == render(fmt, result)
