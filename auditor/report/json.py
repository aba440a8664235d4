"""report.json: the machine contract (schema `aurora-audit/report/v1`, CONTRACT.md)."""

from __future__ import annotations

import json as _json
from importlib import resources
from typing import Any

from auditor.models.findings import AuditResult

SCHEMA_RESOURCE = "report.v1.schema.json"


def render_json(result: AuditResult) -> str:
    """`AuditResult.to_json` with the summary filled in when the engine left it empty; ends with a newline."""
    if not result.summary:
        result = result.with_summary()
    return result.to_json(indent=2) + "\n"


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) shipped inside the package, for report.json v1."""
    text = resources.files("auditor.report").joinpath("schema", SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = _json.loads(text)
    return schema
