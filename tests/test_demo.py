"""`aurora-audit demo` end to end, as a user runs it: a real subprocess, no AWS account, all reports written,
and the story it tells (the poisoned blue/green switchover is blocked) is really in them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.moto_server


def test_demo_writes_every_report_and_blocks_the_poisoned_switchover(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # no account of any kind
    p = subprocess.run(
        [sys.executable, "-m", "auditor.cli", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert p.returncode == 0, p.stderr
    for scenario in ("check", "gate", "fleet"):
        for name in ("report.json", "junit.xml", "report.html", "summary.md"):
            assert (tmp_path / scenario / name).stat().st_size > 0, (scenario, name)
        assert str(tmp_path / scenario / "report.html") in p.stdout

    gate = json.loads((tmp_path / "gate" / "report.json").read_text())
    assert gate["command"] == "gate" and gate["complete"] is True
    failing = {(f["rule_id"], f["status"]) for f in gate["findings"]}
    assert ("BG02", "fail") in failing and ("BG08", "fail") in failing
    bg02 = next(f for f in gate["findings"] if f["rule_id"] == "BG02" and f["status"] == "fail")
    drift = {d["path"]: d for d in bg02["drift"]}
    assert drift["rds.logical_replication"]["expected"] in ("0", 0, False)
    assert drift["rds.logical_replication"]["actual"] in ("1", 1, True)
    assert drift["rds.logical_replication"]["compare"]["blue"] in ("0", 0, False)

    fleet = json.loads((tmp_path / "fleet" / "report.json").read_text())
    clusters = {t["id"] for t in fleet["targets"] if t["kind"] == "cluster"}
    assert {"prod-app", "reporting", "legacy-billing", "prod-app-eu"} <= clusters
    assert {t["region"] for t in fleet["targets"] if t["kind"] == "fleet"} == {"us-east-1", "eu-west-1"}
    assert "SWITCHOVER" not in p.stderr and "Traceback" not in p.stderr
