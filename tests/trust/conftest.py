"""Trust suite (issue 8): faults, read-only by construction, hostile input, output safety.

Shared helpers: the CLI as a real subprocess (`run_cli`) and in-process through `auditor.cli.main`
(`invoke_main`: the same one-line error handling as the console script, fast enough for hypothesis),
an environment that points a subprocess at the simulated AWS and nothing else, and the counters
printed at the end of the run (tests/trust/stats.py).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from auditor.sim import SimulatedAws
from auditor.sim.fleet import DemoFleet, build_demo_fleet
from tests.trust import stats

REPO = Path(__file__).resolve().parents[2]


@dataclass
class CliRun:
    code: int | None
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        # Physical lines: split on "\n" only (str.splitlines would also split on \x1c-\x1e, \x85, \u2028
        # that a user's own option value may carry into the message).
        return [ln for ln in self.stderr.split("\n") if ln.strip()]


def sim_env(sim: SimulatedAws, **extra: str) -> dict[str, str]:
    """os.environ without any AWS_* or PG* variable, plus the sim's endpoint and dummy keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PG"))}
    env.update(sim.env())
    env.update(extra)
    return env


def run_cli(*args: str, env: Mapping[str, str] | None = None, timeout: int = 180) -> CliRun:
    p = subprocess.run(
        [sys.executable, "-m", "auditor.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(env) if env is not None else None,
        cwd=REPO,
    )
    return CliRun(p.returncode, p.stdout, p.stderr)


def invoke_main(args: list[str]) -> CliRun:
    """`aurora-audit ARGS` in-process through the console entry point (auditor.cli.main)."""
    from auditor import cli, cli_support

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["aurora-audit", *args]
    code: Any = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as e:
        code = e.code
    finally:
        sys.argv = saved
        cli_support._DEBUG = False
    return CliRun(int(code) if code is not None else 0, out.getvalue(), err.getvalue())


def assert_one_line_error(r: CliRun, *must_contain: str) -> str:
    assert r.code == 2, (r.code, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr
    lines = r.error_lines
    assert len(lines) == 1, r.stderr
    for text in must_contain:
        assert text in lines[0], (text, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def shared_fleet(sim: SimulatedAws) -> Iterator[DemoFleet]:
    """The demo fleet built once per module (the audits only read it). Tests using it must not use
    `aws_env` (which resets the sim); faults are cleared after each test by `fleet_env`."""
    sim.reset()
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("AWS_"):
                mp.delenv(name, raising=False)
        for name, value in sim.env().items():
            mp.setenv(name, value)
        yield build_demo_fleet(sim)
    sim.clear_faults()


@pytest.fixture
def fleet_env(sim: SimulatedAws, shared_fleet: DemoFleet) -> Iterator[tuple[SimulatedAws, DemoFleet]]:
    sim.clear_faults()
    yield sim, shared_fleet
    sim.clear_faults()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    data = stats.report()
    if not data["fuzzed_inputs_total"] and not data["faults_injected_total"]:
        return
    tr = terminalreporter
    tr.write_sep("-", "trust suite figures (tests/trust/stats.py)")
    tr.write_line(f"fuzzed inputs tried: {data['fuzzed_inputs_total']}")
    for k, v in data["fuzz_outcomes"].items():  # type: ignore[attr-defined]
        tr.write_line(f"  {k}: {v}")
    tr.write_line(f"faults injected: {data['faults_injected_total']}")
    for k, v in data["faults"].items():  # type: ignore[attr-defined]
        tr.write_line(f"  {k}: {v}")
    stats.write()
