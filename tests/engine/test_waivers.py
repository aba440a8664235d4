"""Waivers: active ones waive failures, expired ones stop and are reported, unused ones are reported."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from auditor.engine.loader import load_baseline, load_waivers
from auditor.engine.runner import evaluate
from auditor.models.findings import Severity, Status
from auditor.models.snapshot import Snapshot


def burstable(snap: Snapshot) -> Snapshot:
    data = snap.model_dump(by_alias=True)
    for i in data["instances"]:
        if i["id"] == "prod-app-3":
            i["instance_class"] = "db.t4g.large"
            i["promotion_tier"] = 15
    return Snapshot.model_validate(data)


def waivers_file(tmp: Path, expires: str, resource: str = "prod-app-3", rule: str = "HA04") -> Path:
    p = tmp / "waivers.yaml"
    p.write_text(
        "schema: aurora-audit/waivers/v1\nwaivers:\n"
        f"  - rule: {rule}\n    resource: {resource}\n"
        "    reason: analytics reader, approved by the database team\n"
        f"    expires: {expires}\n",
        encoding="utf-8",
    )
    return p


def ha04(result, rid: str = "prod-app-3"):  # noqa: ANN001, ANN201
    return [f for f in result.findings if f.rule_id == "HA04" and f.resource.id == rid]


def test_active_waiver_waives_with_reason(base_snapshot: Snapshot, tmp_path: Path) -> None:
    w = load_waivers(waivers_file(tmp_path, "2027-01-31", resource="prod-app-*"))
    r = evaluate(burstable(base_snapshot), load_baseline(["prod"]), waivers=w)
    (f,) = ha04(r)
    assert f.status is Status.WAIVED and f.waiver == "analytics reader, approved by the database team"
    assert r.summary["waived"] == 1 and r.summary["fail"] == 0
    # passing findings the glob matches are untouched
    assert ha04(r, "prod-app-1")[0].status is Status.PASS


def test_expired_waiver_stops_waiving_and_is_reported(base_snapshot: Snapshot, tmp_path: Path) -> None:
    w = load_waivers(waivers_file(tmp_path, "2026-11-24"))
    r = evaluate(burstable(base_snapshot), load_baseline(["prod"]), waivers=w, today=date(2026, 11, 25))
    assert ha04(r)[0].status is Status.FAIL
    (exp,) = [f for f in r.findings if f.resource.kind == "waiver"]
    assert exp.rule_id == "HA04" and exp.status is Status.FAIL and exp.severity is Severity.LOW
    assert "expired on 2026-11-24" in exp.message and "waivers.yaml:3" in exp.message
    assert "reported again" in exp.message


def test_waiver_is_valid_through_its_expiry_day(base_snapshot: Snapshot, tmp_path: Path) -> None:
    w = load_waivers(waivers_file(tmp_path, "2026-11-25"))
    r = evaluate(burstable(base_snapshot), load_baseline(["prod"]), waivers=w, today=date(2026, 11, 25))
    assert ha04(r)[0].status is Status.WAIVED


def test_unused_waiver_is_reported_as_info(base_snapshot: Snapshot, tmp_path: Path) -> None:
    w = load_waivers(waivers_file(tmp_path, "2027-01-31"))
    r = evaluate(base_snapshot, load_baseline(["prod"]), waivers=w)
    (u,) = [f for f in r.findings if f.resource.kind == "waiver"]
    assert u.severity is Severity.INFO and "waived no failure" in u.message
    assert r.summary["waived"] == 0


def test_errors_are_never_waived(base_snapshot: Snapshot, tmp_path: Path) -> None:
    data = base_snapshot.model_dump(by_alias=True)
    data["databases"] = []
    w = load_waivers(waivers_file(tmp_path, "2027-01-31", resource="prod-app", rule="RS01"))
    r = evaluate(Snapshot.model_validate(data), load_baseline(["prod"]), waivers=w)
    (rs01,) = [f for f in r.findings if f.rule_id == "RS01" and f.resource.kind == "database"]
    assert rs01.status is Status.ERROR
