"""A simulated AWS account for the demo and the end-to-end tests: moto plus a front that fills moto's gaps."""

from __future__ import annotations

from auditor.sim.controls import SimControl, SimControls
from auditor.sim.server import SimulatedAws

__all__ = ["SimControl", "SimControls", "SimulatedAws"]
