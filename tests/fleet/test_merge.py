"""Shards + merge == the unsharded run; report inputs are validated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.api import RunOptions, merge_reports, run_fleet
from auditor.errors import InputFileError
from auditor.fleet_merge import finding_key
from auditor.models.findings import AuditResult
from auditor.report import Format, render
from auditor.sim.fleet import ScaleFleet

from .conftest import REGIONS


def _opts() -> RunOptions:
    return RunOptions(regions=REGIONS, no_db=True)


def _write(path: Path, result: AuditResult) -> str:
    path.write_text(render(Format.JSON, result), encoding="utf-8")
    return str(path)


def _set(result: AuditResult) -> set[tuple[object, ...]]:
    return {(*finding_key(f), f.status.value, f.severity.value, f.message) for f in result.findings}


@pytest.mark.moto_server
def test_shards_merged_equal_unsharded(small_fleet: ScaleFleet, tmp_path: Path) -> None:
    whole = run_fleet(_opts()).result
    parts = [run_fleet(_opts(), shard=f"{k}/2").result for k in (1, 2)]
    # two account-regions, two shards: each shard takes exactly one region
    assert [{t.region for t in p.targets} for p in parts] == [{"eu-west-1"}, {"us-east-1"}]
    assert all(
        any(n.startswith(f"shard {k}/2:") for n in p.notes) for k, p in zip((1, 2), parts, strict=True)
    )
    merged = merge_reports([_write(tmp_path / f"s{k}.json", p) for k, p in zip((1, 2), parts, strict=True)])
    assert _set(merged) == _set(whole)
    assert merged.summary == whole.summary
    assert {(t.id, t.region) for t in merged.targets} == {(t.id, t.region) for t in whole.targets}
    assert merged.complete == whole.complete
    assert len(merged.topology) == len(whole.topology)

    # one shard missing: incomplete, and the note says which
    alone = merge_reports([str(tmp_path / "s1.json")])
    assert not alone.complete
    assert any("shard(s) 2/2 missing" in n for n in alone.notes)


def _minimal(version: str = "0.1.0", **over: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "schema": "aurora-audit/report/v1",
        "tool": {"name": "aurora-audit", "version": version},
        "generated_at": "2026-11-25T18:00:00Z",
        "command": "fleet",
        "complete": True,
        "targets": [],
        "summary": {},
        "findings": [],
        "errors": [],
    }
    return doc | over


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not JSON"),
        ("[]", "JSON object"),
        (json.dumps(_minimal(schema="aurora-audit/report/v0")), "schema"),
        (json.dumps(_minimal(tool={"name": "other", "version": "0.1.0"})), "not aurora-audit"),
        (json.dumps(_minimal(version="7.0.0")), "major versions differ"),
        (json.dumps(_minimal(findings=[{"rule_id": "CL01"}])), "invalid report"),
    ],
)
def test_bad_inputs_name_the_file(tmp_path: Path, content: str, needle: str) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_minimal()))
    bad = tmp_path / "bad-report.json"
    bad.write_text(content)
    with pytest.raises(InputFileError) as exc:
        merge_reports([str(good), str(bad)])
    assert str(bad) in str(exc.value) and needle in str(exc.value)
    with pytest.raises(InputFileError, match="cannot read"):
        merge_reports([str(tmp_path / "missing.json")])


def test_overlapping_inputs_keep_one_copy(tmp_path: Path) -> None:
    finding = {
        "rule_id": "CL01",
        "title": "t",
        "status": "fail",
        "severity": "high",
        "resource": {"kind": "cluster", "id": "a", "region": "us-east-1"},
        "message": "m",
        "drift": [],
        "remediation": "",
    }
    p = tmp_path / "r.json"
    p.write_text(json.dumps(_minimal(findings=[finding])))
    merged = merge_reports([str(p), str(p)])
    assert len(merged.findings) == 1 and merged.summary["fail"] == 1
    assert any("more than one input" in n for n in merged.notes)
