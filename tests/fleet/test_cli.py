"""The `fleet` and `merge` commands as a real subprocess against the simulated AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.sim import SimulatedAws
from auditor.sim.fleet import ScaleFleet

pytestmark = pytest.mark.moto_server


def _run(sim: SimulatedAws, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | sim.env()
    return subprocess.run(
        [sys.executable, "-m", "auditor.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_access_denied_region_exit_2_rest_reported(
    aws_env: SimulatedAws, small_fleet: ScaleFleet, tmp_path: Path
) -> None:
    aws_env.deny("DescribeDBClusters", region="eu-west-1")
    out = tmp_path / "out"
    snap = tmp_path / "fleet-snapshot.json"
    p = _run(
        aws_env,
        "fleet",
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
        "--no-db",
        "--out",
        str(out),
        "--format",
        "json,md,html",
        "--snapshot-out",
        str(snap),
    )
    assert p.returncode == 2, p.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["complete"] is False
    fl = {(f["resource"]["id"], f["status"]) for f in report["findings"] if f["rule_id"] == "FL01"}
    assert fl == {("eu-west-1", "error"), ("us-east-1", "pass")}
    audited = {t["id"] for t in report["targets"] if t["kind"] == "cluster"}
    assert audited == set(small_fleet.clusters["us-east-1"])
    assert any("eu-west-1" in n for n in report["notes"])
    md = (out / "summary.md").read_text()
    assert "eu\\-west\\-1" in md or "eu-west-1" in md
    assert json.loads(snap.read_text())["schema"] == "aurora-audit/snapshot/v1"


def test_shards_then_merge_cli(aws_env: SimulatedAws, small_fleet: ScaleFleet, tmp_path: Path) -> None:
    base = ["fleet", "--region", "us-east-1", "--region", "eu-west-1", "--no-db", "--format", "json"]
    for k in (1, 2):
        p = _run(aws_env, *base, "--shard", f"{k}/2", "--out", str(tmp_path / f"s{k}"))
        assert p.returncode in (0, 1), p.stderr
    p = _run(
        aws_env,
        "merge",
        str(tmp_path / "s1" / "report.json"),
        str(tmp_path / "s2" / "report.json"),
        "--out",
        str(tmp_path / "merged"),
        "--format",
        "json",
    )
    assert p.returncode in (0, 1), p.stderr
    merged = json.loads((tmp_path / "merged" / "report.json").read_text())
    clusters = {t["id"] for t in merged["targets"] if t["kind"] == "cluster"}
    assert clusters == {c for ids in small_fleet.clusters.values() for c in ids}
    assert {t["region"] for t in merged["targets"] if t["kind"] == "fleet"} == set(small_fleet.clusters)

    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something/else"}')
    p = _run(aws_env, "merge", str(tmp_path / "s1" / "report.json"), str(bad), "--out", str(tmp_path / "m2"))
    assert p.returncode == 2
    assert str(bad) in p.stderr and "schema" in p.stderr
