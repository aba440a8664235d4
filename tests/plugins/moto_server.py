"""Simulated AWS fixtures: one SimulatedAws (moto server + front, 127.0.0.1) for the whole session.

- `sim`: the session's SimulatedAws (not reset; use `aws_env` in tests).
- `aws_env`: resets the sim (moto state, overrides, faults) and points boto3 at it through environment
  variables only (AWS_ENDPOINT_URL, dummy keys, no config/credentials files), yields the sim.
- `demo_fleet`: `aws_env` plus `build_demo_fleet` (a few seconds; use it where the whole fleet matters).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auditor.sim import SimulatedAws
from auditor.sim.fleet import DemoFleet, build_demo_fleet


@pytest.fixture(scope="session")
def sim() -> Iterator[SimulatedAws]:
    with SimulatedAws() as s:
        yield s


@pytest.fixture
def aws_env(sim: SimulatedAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatedAws]:
    sim.reset()
    for name in list(__import__("os").environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    yield sim
    sim.clear_faults()


@pytest.fixture
def demo_fleet(aws_env: SimulatedAws) -> DemoFleet:
    return build_demo_fleet(aws_env)
