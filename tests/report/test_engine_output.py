"""The real engine's AuditResult (base snapshot, prod baseline) goes through every reporter and the schema."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from auditor.models.findings import AuditResult
from auditor.report import Format, render
from auditor.report.json import load_schema
from auditor.report.topology import read_topology

BASE_SNAPSHOT = Path(__file__).resolve().parents[1] / "fixtures" / "base_snapshot.json"


@pytest.fixture(scope="module")
def engine_result() -> AuditResult:
    from auditor.engine import loader, runner
    from auditor.models.snapshot import Snapshot

    snapshot = Snapshot.model_validate_json(BASE_SNAPSHOT.read_text(encoding="utf-8"))
    return runner.evaluate(snapshot, loader.load_baseline(["prod"]))


def test_engine_report_matches_schema(engine_result: AuditResult) -> None:
    doc = json.loads(render(Format.JSON, engine_result))
    validator = Draft202012Validator(load_schema(), format_checker=FormatChecker())
    assert [e.message for e in validator.iter_errors(doc)] == []


def test_engine_topology_has_the_documented_shape(engine_result: AuditResult) -> None:
    # read_topology drops what it cannot draw; the engine's entries must all survive it unchanged in id.
    drawn = read_topology(engine_result.topology)
    assert [t["id"] for t in drawn] == [t["id"] for t in engine_result.topology]
    assert all(t.get("writer") for t in drawn)


def test_engine_result_renders_in_every_format(engine_result: AuditResult) -> None:
    for fmt in Format:
        assert render(fmt, engine_result)
    root = ET.fromstring(render(Format.JUNIT, engine_result))
    assert int(root.get("tests", "-1")) == len(engine_result.findings)
