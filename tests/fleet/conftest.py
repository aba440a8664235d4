"""A small fleet on the simulated AWS: 12 clusters x 2 instances, two regions, 3 shared parameter groups."""

from __future__ import annotations

import pytest

from auditor.sim import SimulatedAws
from auditor.sim.fleet import ScaleFleet, build_scale_fleet

REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def small_fleet(aws_env: SimulatedAws) -> ScaleFleet:
    return build_scale_fleet(
        aws_env, clusters=12, instances_per_cluster=2, regions=REGIONS, parameter_groups=3
    )
