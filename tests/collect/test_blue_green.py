"""collect_blue_green: the gate's snapshot of one deployment (blue and green as targets)."""

from __future__ import annotations

import pytest

from auditor.collect.aws import AwsContext
from auditor.collect.blue_green import collect_blue_green
from auditor.errors import NotFoundError
from tests.collect import topo


@pytest.fixture
def built(ctx: AwsContext) -> topo.Topology:
    t = topo.build()
    topo.install_gaps(ctx, t)
    return t


@pytest.mark.parametrize("by", ["id", "name"])
def test_collect_by_id_or_name(ctx: AwsContext, built: topo.Topology, by: str) -> None:
    ref = built.bgd_id if by == "id" else built.bgd_name
    snap = collect_blue_green(ctx, topo.PRIMARY, ref)
    assert [(x.kind, x.id) for x in snap.targets] == [
        ("blue-green", built.bgd_id),
        ("cluster", "prod-app"),
        ("cluster", built.green),
    ]
    roles = {c.id: c.role for c in snap.clusters}
    assert roles["prod-app"] == "target" and roles[built.green] == "green"
    green = snap.cluster(built.green)
    assert (
        green is not None
        and green.engine_version == "16.6"
        and green.parameter_group == "prod-app-pg16-green"
    )
    assert len(snap.instances_of(green)) == 3
    [bgd] = snap.blue_green_deployments
    assert bgd.status == "AVAILABLE" and bgd.target_engine_version == "16.6"
    assert [t.status for t in bgd.tasks] == ["COMPLETED", "COMPLETED"]
    assert snap.errors == ()


def test_absent_deployment_is_not_found(ctx: AwsContext, built: topo.Topology) -> None:
    with pytest.raises(
        NotFoundError,
        match="blue/green deployment prod-app-upgrad not found in region us-east-1"
        r".*did you mean: prod-app-upgrade",
    ):
        collect_blue_green(ctx, topo.PRIMARY, "prod-app-upgrad")
    with pytest.raises(NotFoundError, match="bgd-doesnotexist0000 not found"):
        collect_blue_green(ctx, topo.PRIMARY, "bgd-doesnotexist0000")
