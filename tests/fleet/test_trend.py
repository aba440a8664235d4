"""--previous: findings marked new / open / resolved; shown in HTML and Markdown."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.api import RunOptions, run_fleet
from auditor.models.findings import AuditResult, Finding, ResourceRef, Severity, Status, ToolInfo
from auditor.report import Format, render
from auditor.sim import SimulatedAws
from auditor.sim.fleet import ScaleFleet
from auditor.trend import apply_trend

from .conftest import REGIONS


def _f(rule: str, rid: str, status: Status, region: str = "us-east-1", msg: str = "m") -> Finding:
    return Finding(
        rule_id=rule,
        title=rule,
        status=status,
        severity=Severity.HIGH,
        resource=ResourceRef(kind="cluster", id=rid, region=region, cluster=rid),
        message=msg,
    )


def _result(*findings: Finding) -> AuditResult:
    return AuditResult(
        tool=ToolInfo(version="0.1.0"),
        generated_at=datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
        command="fleet",
        findings=list(findings),
    ).with_summary()


def test_trend_table() -> None:
    prev = _result(
        _f("CL01", "a", Status.FAIL),  # still failing -> open
        _f("CL02", "a", Status.FAIL),  # passes now -> resolved
        _f("CL03", "a", Status.PASS),  # fails now -> new
        _f("CL04", "gone", Status.FAIL),  # cluster gone -> resolved, listed in notes
        _f("CL05", "b", Status.ERROR, region="eu-west-1"),  # region unreadable now -> not re-checked
        _f("CL06", "c", Status.FAIL, region="ap-south-1"),  # outside this run's regions -> ignored
    )
    now = _result(
        _f("CL01", "a", Status.FAIL, msg="message changed"),
        _f("CL02", "a", Status.PASS),
        _f("CL03", "a", Status.FAIL),
        _f("CL07", "a", Status.PASS),
        _f("CL08", "a", Status.WAIVED),
    )
    out = apply_trend(now, prev, unreadable={(None, "eu-west-1")})
    trend = {f.rule_id: f.trend for f in out.findings}
    assert trend == {"CL01": "open", "CL02": "resolved", "CL03": "new", "CL07": None, "CL08": None}
    assert [f.status for f in out.findings] == [f.status for f in now.findings]  # statuses untouched
    head = "since the previous run (2026-11-24 02:00 UTC): 1 new, 1 still open, 2 resolved"
    assert out.notes[0].startswith(head)
    assert any(n.startswith("resolved (no longer reported): CL04 gone") for n in out.notes)
    assert any("not re-checked" in n and "CL05 b" in n for n in out.notes)
    assert not any("CL06" in n for n in out.notes)


def test_first_run_everything_open_is_new() -> None:
    out = apply_trend(_result(_f("CL01", "a", Status.FAIL), _f("CL02", "a", Status.PASS)), _result())
    assert [f.trend for f in out.findings] == ["new", None]


@pytest.mark.moto_server
def test_previous_report_end_to_end(aws_env: SimulatedAws, small_fleet: ScaleFleet, tmp_path: Path) -> None:
    opts = RunOptions(regions=REGIONS, no_db=True)
    aws_env.set_cluster("us-east-1", "scale-0002", fields={"DeletionProtection": False})
    first = run_fleet(opts).result
    prev = tmp_path / "report.json"
    prev.write_text(render(Format.JSON, first), encoding="utf-8")
    cl01 = {f.resource.id: f.status for f in first.findings if f.rule_id == "CL01"}
    assert (cl01["scale-0000"], cl01["scale-0002"]) == (Status.PASS, Status.FAIL)

    # Break scale-0000 (deletion protection off), fix scale-0002.
    aws_env.set_cluster("us-east-1", "scale-0000", fields={"DeletionProtection": False})
    aws_env.set_cluster("us-east-1", "scale-0002", fields={"DeletionProtection": True})
    second = run_fleet(opts, previous=str(prev)).result

    by = {(f.rule_id, f.resource.id): f for f in second.findings}
    assert (by[("CL01", "scale-0000")].status, by[("CL01", "scale-0000")].trend) == (Status.FAIL, "new")
    assert (by[("CL01", "scale-0002")].status, by[("CL01", "scale-0002")].trend) == (Status.PASS, "resolved")
    # CL10 (AWS default DB parameter group) fails in both runs for every cluster: open
    cl10 = [f for f in second.findings if f.rule_id == "CL10" and f.status is Status.FAIL]
    assert len(cl10) == 12 and {f.trend for f in cl10} == {"open"}
    assert all(f.trend in ("new", "open") for f in second.findings if f.status in (Status.FAIL, Status.ERROR))
    assert all(f.trend in (None, "resolved") for f in second.findings if f.status is Status.PASS)
    assert second.notes[0].startswith("since the previous run")
    assert "1 new" in second.notes[0] and "1 resolved" in second.notes[0]

    html = render(Format.HTML, second)
    md = render(Format.MD, second)
    assert 'class="badge trend-new"' in html
    assert 'class="badge trend-resolved"' in html
    assert "#### Since the previous run" in md and "**new** (fail) `CL01` `scale-0000`" in md
    assert "**resolved** (pass) `CL01` `scale-0002`" in md


def test_previous_must_be_a_report(tmp_path: Path) -> None:
    from auditor.errors import InputFileError

    bad = tmp_path / "snapshot.json"
    bad.write_text('{"schema": "aurora-audit/snapshot/v1"}')
    with pytest.raises(InputFileError, match="snapshot.json: schema"):
        run_fleet(RunOptions(regions=REGIONS, no_db=True), previous=str(bad))
