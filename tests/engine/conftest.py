from __future__ import annotations

from pathlib import Path

import pytest

from auditor.models.snapshot import Snapshot

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="session")
def base_snapshot() -> Snapshot:
    return Snapshot.from_json((FIXTURES / "base_snapshot.json").read_text(encoding="utf-8"))
