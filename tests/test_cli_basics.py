"""CLI surface: version, help, one-line errors with exit 2 (as a real subprocess and with CliRunner)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from auditor import __version__

COMMANDS = ["check", "gate", "fleet", "snapshot", "diff", "baseline", "rules", "demo", "merge", "policy"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor.cli", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_version() -> None:
    p = run("--version")
    assert p.returncode == 0
    assert __version__ in p.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_contract_command_has_help(command: str) -> None:
    p = run(command, "--help")
    assert p.returncode == 0, p.stderr
    assert "Usage:" in p.stdout


def test_unknown_option_is_one_line_exit_2() -> None:
    p = run("check", "prod-app", "--bogus")
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "--bogus" in lines[0] and "--help" in lines[0]
    assert "Traceback" not in p.stderr


def test_bad_snapshot_file_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "s.json"
    bad.write_text('{"schema": "nope"}')
    p = run("check", "--from-snapshot", str(bad), "--out", str(tmp_path / "out"))
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert str(bad) in lines[0]
    assert "Traceback" not in p.stderr


def test_missing_snapshot_file_is_one_line_exit_2(tmp_path: Path) -> None:
    p = run("diff", str(tmp_path / "nope.json"), str(tmp_path / "nope2.json"))
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_bad_format_is_rejected(tmp_path: Path) -> None:
    from auditor.cli import parse_formats
    from auditor.errors import UsageError

    with pytest.raises(UsageError, match="pdf"):
        parse_formats("html,pdf")


def test_write_atomic_leaves_no_temp_files(tmp_path: Path) -> None:
    from auditor.cli import write_atomic

    target = tmp_path / "a" / "report.json"
    write_atomic(target, "{}")
    write_atomic(target, '{"x": 1}')
    assert target.read_text() == '{"x": 1}'
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


def test_error_line_escapes_control_characters(tmp_path: Path) -> None:
    p = run("check", "--from-snapshot", str(tmp_path / "a\x1b[31mb.json"))
    assert p.returncode == 2
    assert "\x1b" not in p.stderr and "\\x1b" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_fleet_rate_limit_options_reach_the_budget() -> None:
    from dataclasses import replace

    from auditor.api import RunOptions
    from auditor.fleet import budget_from

    budget = budget_from(replace(RunOptions(), rate_limit=5.0, burst=12))
    assert (budget.rate, budget.burst) == (5.0, 12)
    default = budget_from(RunOptions())
    assert (default.rate, default.burst) != (5.0, 12)


def test_policy_command_prints_the_shipped_policy() -> None:
    import json

    from auditor.resources import _PKG

    p = run("policy")
    assert p.returncode == 0
    shipped = json.loads((_PKG / "policy" / "aurora-audit-readonly.json").read_text())
    assert json.loads(p.stdout) == shipped


def test_check_from_snapshot_audits_the_named_cluster_only(tmp_path: Path) -> None:
    snap = Path(__file__).parent / "fixtures" / "base_snapshot.json"
    p = run("check", "nosuch", "--from-snapshot", str(snap), "--out", str(tmp_path))
    assert p.returncode == 2
    assert "cluster nosuch is not an audited cluster" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = run("check", "prod-app", "--from-snapshot", str(snap), "--out", str(tmp_path), "--format", "json")
    assert p.returncode == 0, p.stderr
