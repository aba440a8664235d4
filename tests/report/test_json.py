"""report.json: exactly AuditResult.to_json, valid against the shipped JSON Schema (draft 2020-12)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from auditor.models.findings import AuditResult, Finding
from auditor.report import Format, render
from auditor.report.json import load_schema, render_json

REPO = Path(__file__).resolve().parents[2]


def _validator() -> Draft202012Validator:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _errors(doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(doc)]


def test_report_is_valid_against_shipped_schema(result: AuditResult) -> None:
    doc = json.loads(render(Format.JSON, result))
    assert _errors(doc) == []
    assert doc["schema"] == "aurora-audit/report/v1"


def test_report_is_exactly_the_model_serialisation(result: AuditResult) -> None:
    text = render_json(result)
    assert text == result.to_json(indent=2) + "\n"
    assert AuditResult.from_json(text) == result


def test_empty_summary_is_filled_from_findings(result: AuditResult) -> None:
    bare = result.model_copy(update={"summary": {}})
    doc = json.loads(render_json(bare))
    assert doc["summary"] == result.compute_summary()
    assert sum(doc["summary"].values()) == len(doc["findings"])


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["findings"][0].update(status="ok"), "status"),
        (lambda d: d["findings"][0].update(severity="urgent"), "severity"),
        (lambda d: d["findings"][0].update(rule_id="pg1"), "rule_id"),
        (lambda d: d["summary"].pop("waived"), "waived"),
        (lambda d: d.update(schema="aurora-audit/report/v2"), "schema"),
        (lambda d: d.update(generated_at="yesterday"), "date-time"),
        (lambda d: d.update(surprise=1), "surprise"),
        (lambda d: d["findings"][0]["resource"].pop("id"), "id"),
        (lambda d: d["errors"][0].pop("operation"), "operation"),
    ],
)
def test_schema_rejects_broken_reports(result: AuditResult, mutate: Any, where: str) -> None:
    doc = json.loads(render_json(result))
    broken = copy.deepcopy(doc)
    mutate(broken)
    errors = _errors(broken)
    assert errors, f"schema accepted a report with a bad {where}"
    assert any(where in e for e in errors) or where in ("date-time",), errors


def test_waived_finding_needs_its_reason(result: AuditResult) -> None:
    doc = json.loads(render_json(result))
    waived = next(f for f in doc["findings"] if f["status"] == "waived")
    waived["waiver"] = None
    assert _errors(doc)


def _schema_props(defn: dict[str, Any]) -> set[str]:
    return set(defn["properties"])


def test_schema_and_models_name_the_same_fields() -> None:
    """A field added to the models must be added to the schema too (and the other way round)."""
    schema = load_schema()
    aliases = {name: (f.alias or name) for name, f in AuditResult.model_fields.items()}
    assert _schema_props(schema) == set(aliases.values())
    assert set(schema["required"]) <= set(aliases.values())
    assert _schema_props(schema["$defs"]["finding"]) == set(Finding.model_fields)
    from auditor.models.findings import DriftItem, ReportError, ResourceRef, Target

    assert _schema_props(schema["$defs"]["resource"]) == set(ResourceRef.model_fields)
    assert _schema_props(schema["$defs"]["drift_item"]) == set(DriftItem.model_fields)
    assert _schema_props(schema["$defs"]["error"]) == set(ReportError.model_fields)
    assert _schema_props(schema["$defs"]["target"]) == set(Target.model_fields)


def test_schema_file_lives_inside_the_package() -> None:
    # hatch packages everything under auditor/ that git does not ignore.
    path = REPO / "auditor" / "report" / "schema" / "report.v1.schema.json"
    assert path.is_file()
    ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=REPO, check=False)
    assert ignored.returncode == 1, "the schema file is git-ignored, so hatch would leave it out of the wheel"


def test_wheel_ships_schema_and_template(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="hatchling needed to build the wheel offline")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("aurora_audit-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "auditor/report/schema/report.v1.schema.json" in names
    assert "auditor/report/templates/report.html.j2" in names
