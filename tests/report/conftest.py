"""Fixtures for the reporter tests: the fixed AuditResult, golden files, and a headless Chromium."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.models.findings import AuditResult
from tests.report.fixture import build_result

GOLDEN_DIR = Path(__file__).parent / "golden"
ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"
# Regenerate golden files: AURORA_AUDIT_UPDATE_GOLDEN=1 pytest tests/report  (then review the git diff)
UPDATE_GOLDEN = os.environ.get("AURORA_AUDIT_UPDATE_GOLDEN") == "1"


@pytest.fixture
def result() -> AuditResult:
    return build_result()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN_DIR / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        return
    assert path.exists(), f"missing golden file {path}; run with AURORA_AUDIT_UPDATE_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden file (AURORA_AUDIT_UPDATE_GOLDEN=1 regenerates)"


def _missing(what: str) -> None:
    # In CI a missing browser is a broken pipeline, not a reason to stop testing the HTML.
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            f"{what} is required when CI=true (apt-get install chromium; pip install websocket-client)"
        )
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from tests.report.cdp import Browser, find_chromium

    binary = find_chromium()
    if binary is None:
        _missing("chromium")
    if importlib.util.find_spec("websocket") is None:
        _missing("websocket-client")
    assert binary is not None
    b = Browser(binary)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR
