"""RDS parameter formulas: the safe evaluator and the instance-class table it is fed from."""

from __future__ import annotations

from datetime import date

import pytest

from auditor.engine import formulas
from auditor.engine.checks.parameters import compare_group, group_sizings
from auditor.engine.context import Context
from auditor.engine.instance_classes import CLASSES, GIB, SERVERLESS, sizing
from auditor.models.baseline import Matcher
from auditor.models.snapshot import Parameter, ParameterGroup, Snapshot

MEM_16G = 16 * GIB


@pytest.mark.parametrize(
    ("text", "mem", "vcpu", "want"),
    [
        # Aurora PostgreSQL engine defaults (DescribeEngineDefaultClusterParameters, aurora-postgresql16)
        ("LEAST({DBInstanceClassMemory/9531392},5000)", MEM_16G, 2, 1802),
        ("LEAST({DBInstanceClassMemory/9531392},5000)", 4 * GIB, 2, 450),
        ("LEAST({DBInstanceClassMemory/9531392},5000)", 64 * GIB, 8, 5000),
        ("{DBInstanceClassMemory/10922}", MEM_16G, 2, 1572960),
        ("GREATEST({DBInstanceClassMemory*1024/63963136},65536)", MEM_16G, 2, 275036),
        ("GREATEST({DBInstanceClassMemory*1024/63963136},65536)", 1 * GIB, 2, 65536),
        ("GREATEST(${DBInstanceVCPU*2},8)", MEM_16G, 2, 8),
        ("GREATEST(${DBInstanceVCPU*2},8)", MEM_16G, 64, 128),
        ("${DBInstanceVCPU/2}", None, 5, 2),  # the quotient is truncated, not rounded
        ("SUM({DBInstanceVCPU*2},3,{DBInstanceVCPU-1})", None, 4, 14),
        ("{DBInstanceVCPU*3/2}", None, 3, 4),  # left to right: (3*3)/2 = 4
        ("{(0-7)/2}", None, None, -3),  # truncated toward zero (floor would give -4)
        ("500", None, None, 500),
    ],
)
def test_evaluates_rds_formulas(text: str, mem: int | None, vcpu: int | None, want: int) -> None:
    assert formulas.evaluate(text, mem, vcpu) == want


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "{DBInstanceClassMemory.__class__}",
        "().__class__.__bases__[0]",
        "open('/etc/passwd')",
        "{DBInstanceClassMemory/0}",
        "{2**1000}",
        "{DBInstanceClassMemory//2}",
        "{AllocatedStorage/2}",  # a documented variable this auditor cannot know for an instance class
        "{TrueIfReplica}",
        "IF({TrueIfReplica},1,0)",
        "log({DBInstanceClassMemory/8187281418})*1000",
        "LEAST()",
        "LEAST(x=1)",
        "least({DBInstanceClassMemory/9531392},5000)",  # function names are case-sensitive
        "{dbinstanceclassmemory/2}",  # and so are variables
        "{DBInstanceClassMemory/2.5}",
        "{'a'*3}",
        "{1 < 2}",
        "$DBInstanceVCPU",
        "LEAST({DBInstanceClassMemory/9531392",
        "",
        "GREATEST(" * 400 + "1" + ")" * 400,
    ],
)
def test_refuses_anything_else(text: str) -> None:
    assert formulas.evaluate(text, MEM_16G, 2) is None


def test_a_variable_not_supplied_is_unknown() -> None:
    assert formulas.evaluate("{DBInstanceClassMemory/9531392}", None, 2) is None
    assert formulas.evaluate("GREATEST(${DBInstanceVCPU*2},8)", MEM_16G, None) is None


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("LEAST({DBInstanceClassMemory/9531392},5000)", True),
        ("{DBInstanceClassMemory/10922}", True),
        ("GREATEST(${DBInstanceVCPU*2},8)", True),
        ("500", False),
        ("ddl", False),
        ("pg_stat_statements,auto_explain", False),
        (500, False),
        (None, False),
    ],
)
def test_is_formula(value: object, want: bool) -> None:
    assert formulas.is_formula(value) is want


@pytest.mark.parametrize(
    ("cls", "vcpu", "gib"),
    [
        ("db.r6g.large", 2, 16),
        ("db.r5.24xlarge", 96, 768),
        ("db.r6i.32xlarge", 128, 1024),
        ("db.r7g.16xlarge", 64, 512),
        ("db.r7i.48xlarge", 192, 1536),
        ("db.r8g.2xlarge", 8, 64),
        ("db.x2g.large", 2, 32),
        ("db.x2g.16xlarge", 64, 1024),
        ("db.t3.medium", 2, 4),
        ("db.t4g.large", 2, 8),
    ],
)
def test_instance_class_table(cls: str, vcpu: int, gib: int) -> None:
    s = sizing(cls)
    assert (s.vcpu, s.memory_bytes) == (vcpu, gib * GIB)
    assert s.label == cls


def test_table_covers_the_families_and_no_unoffered_sizes() -> None:
    for fam in ("r5", "r6g", "r6i", "r7g", "r7i", "r8g", "x2g"):
        for size in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"):
            assert f"db.{fam}.{size}" in CLASSES
    assert "db.r6g.24xlarge" not in CLASSES  # Graviton2 r6g stops at 16xlarge
    assert "db.t4g.small" not in CLASSES


def test_unknown_and_serverless_classes() -> None:
    assert sizing("db.z9.large") == sizing("db.z9.large")
    assert (sizing("db.z9.large").memory_bytes, sizing("db.z9.large").vcpu) == (None, None)
    sv = sizing(SERVERLESS, 16)
    assert (sv.memory_bytes, sv.vcpu) == (32 * GIB, None)  # max ACU × 2 GiB; no vCPU for an ACU
    assert sv.label == "db.serverless (max 16 ACU)"
    assert sizing(SERVERLESS, None).memory_bytes is None
    assert sizing(SERVERLESS, 0.5).label == "db.serverless (max 0.5 ACU)"


# ---------------------------------------------------------------- which instances a group applies to


def _ctx(patch: list[dict[str, object]]) -> Context:
    from tests.test_rule_cases import apply_patch, base_data

    snap = Snapshot.model_validate(apply_patch(base_data(), patch))
    return Context(snapshot=snap, today=date(2026, 1, 1), targets=list(snap.clusters))


FORMULA = "LEAST({DBInstanceClassMemory/9531392},5000)"


def _with_formula(g: ParameterGroup) -> ParameterGroup:
    p = Parameter(name="max_connections", value=FORMULA, source="engine-default")
    return g.model_copy(update={"parameters": {"max_connections": p}})


def test_db_group_is_sized_by_the_instances_naming_it() -> None:
    # prod-app-3 moves to its own DB group: prod-app-pg16-db now applies to prod-app-1/2 only
    ctx = _ctx(
        [
            {"op": "set", "path": "/instances[id=prod-app-1]/instance_class", "value": "db.r6g.large"},
            {"op": "set", "path": "/instances[id=prod-app-3]/instance_class", "value": "db.t4g.medium"},
            {"op": "set", "path": "/instances[id=prod-app-3]/parameter_groups", "value": [{"name": "other"}]},
        ]
    )
    g = ctx.group("db", "prod-app-pg16-db", "us-east-1", "123456789012")
    assert g is not None
    assert [s.instance_class for s in group_sizings(ctx, g)] == ["db.r6g.2xlarge", "db.r6g.large"]
    formula = FORMULA
    g = _with_formula(g)
    cmp = compare_group(g, {"max_connections": Matcher.model_validate({"min": 500})}, ctx)
    assert cmp.drift == [] and cmp.notes == []
    assert cmp.shown["max_connections"] == f"{formula} ≈ 1802 on db.r6g.large"
    # without a context (no instance classes) the formula stays text and does not satisfy a numeric matcher
    assert compare_group(g, {"max_connections": Matcher.model_validate({"min": 500})}).drift


def test_cluster_group_is_sized_by_every_instance_of_its_clusters_in_its_region() -> None:
    eu_1 = "/instances[id=prod-app-eu-1]/instance_class"
    ctx = _ctx([{"op": "set", "path": eu_1, "value": "db.t4g.medium"}])
    us = ctx.group("cluster", "prod-app-pg16", "us-east-1", "123456789012")
    eu = ctx.group("cluster", "prod-app-pg16", "eu-west-1", "123456789012")
    assert us is not None and eu is not None
    assert [s.instance_class for s in group_sizings(ctx, us)] == ["db.r6g.2xlarge"]
    assert [s.instance_class for s in group_sizings(ctx, eu)] == ["db.r6g.2xlarge", "db.t4g.medium"]


def test_exact_number_must_hold_on_every_class() -> None:
    ctx = _ctx([{"op": "set", "path": "/instances[id=prod-app-1]/instance_class", "value": "db.r6g.large"}])
    g = ctx.group("cluster", "prod-app-pg16", "us-east-1", "123456789012")
    assert g is not None
    formula = FORMULA
    g = _with_formula(g)
    cmp = compare_group(g, {"max_connections": Matcher.model_validate(5000)}, ctx)
    assert [(d.expected, d.actual) for d in cmp.drift] == [(5000, f"{formula} ≈ 1802 on db.r6g.large")]
    cmp = compare_group(g, {"max_connections": Matcher.model_validate({"max": 5000})}, ctx)
    assert cmp.drift == [] and cmp.shown["max_connections"] == f"{formula} ≈ 5000 on db.r6g.2xlarge"
