"""Several accounts via --role-arn (moto maps an assumed role's credentials to the role's account)."""

from __future__ import annotations

import pytest

from auditor.api import RunOptions, run_fleet
from auditor.models.findings import Status
from auditor.sim import SimulatedAws
from auditor.sim.fleet import ScaleFleet

from .conftest import REGIONS

pytestmark = pytest.mark.moto_server

HOME = "arn:aws:iam::123456789012:role/aurora-audit"  # the sim's account: holds the fleet
OTHER = "arn:aws:iam::111111111111:role/aurora-audit"  # an empty account


def test_two_accounts_each_region_collected_once(small_fleet: ScaleFleet) -> None:
    out = run_fleet(RunOptions(regions=REGIONS, role_arns=(OTHER, HOME), no_db=True))
    r = out.result
    fl = {(f.resource.account, f.resource.region): f.status for f in r.findings if f.rule_id == "FL01"}
    assert fl == {(a, reg): Status.PASS for a in ("111111111111", "123456789012") for reg in REGIONS}
    clusters = [t for t in r.targets if t.kind == "cluster"]
    assert {t.account for t in clusters} == {"123456789012"}
    assert len(clusters) == 12
    # every requested account-region is named in the report as a fleet target
    assert {(t.account, t.region) for t in r.targets if t.kind == "fleet"} == set(fl)
    calls = {c.operation: c.calls for c in out.snapshot.calls}
    assert calls["sts.AssumeRole"] == 2  # once per account, not per account-region
    assert calls["rds.DescribeDBClusters"] == 4  # each account-region listed once


def test_role_that_cannot_be_assumed(aws_env: SimulatedAws, small_fleet: ScaleFleet) -> None:
    aws_env.deny("AssumeRole")
    r = run_fleet(RunOptions(regions=REGIONS, role_arns=(OTHER,), no_db=True)).result
    errors = [f for f in r.findings if f.rule_id == "FL01" and f.status is Status.ERROR]
    assert {(f.resource.account, f.resource.region) for f in errors} == {("111111111111", g) for g in REGIONS}
    assert all("could not assume role" in f.message for f in errors)
    assert not r.complete and not [t for t in r.targets if t.kind == "cluster"]
