"""Parameter groups: every page of 100 (Marker), typing by DataType, one fetch per group, no Source filter.

moto returns only user-set parameters, unpaged and without Source/ApplyType/DataType/IsModifiable, so
these tests answer with botocore's Stubber: responses shaped like the RDS API Reference
(DescribeDBClusterParameters / DescribeDBParameters, `Parameter` data type), and Stubber checks that the
request parameters are exactly the expected ones (MaxRecords=100, the Marker, no Source).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from auditor.collect import params
from auditor.collect.aws import AwsContext
from auditor.collect.state import Collection

DEFAULTS = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "aws" / "engine_default_parameters.json").read_text()
)["Parameters"]


@pytest.mark.parametrize(
    ("raw", "data_type", "expected"),
    [
        ("1", "boolean", True),
        ("0", "boolean", False),
        ("on", "boolean", True),
        ("off", "boolean", False),
        ("true", "boolean", True),
        ("FALSE", "boolean", False),
        ("maybe", "boolean", "maybe"),
        ("1000", "integer", 1000),
        ("-1", "integer", -1),
        ("0.2", "float", 0.2),
        ("1e3", "float", 1000.0),
        (
            "LEAST({DBInstanceClassMemory/9531392},5000)",
            "integer",
            "LEAST({DBInstanceClassMemory/9531392},5000)",
        ),
        ("{DBInstanceClassMemory/32768}", "integer", "{DBInstanceClassMemory/32768}"),
        ("pg_stat_statements,pglogical", "list", "pg_stat_statements,pglogical"),
        ("ddl", "string", "ddl"),
        ("12", "string", "12"),
        ("12MB", "integer", "12MB"),
        (None, "integer", None),
    ],
)
def test_typed_value(raw: str | None, data_type: str, expected: Any) -> None:
    value = params.typed_value(raw, data_type)
    assert value == expected and type(value) is type(expected)


def _pages(rows: list[dict[str, Any]], size: int = 100) -> list[dict[str, Any]]:
    out = []
    for start in range(0, len(rows), size):
        page: dict[str, Any] = {"Parameters": rows[start : start + size]}
        if start + size < len(rows):
            page["Marker"] = f"marker-{start + size}"
        out.append(page)
    return out


def _col(ctx: AwsContext) -> Collection:
    return Collection(ctx, "123456789012", 60, datetime.now(UTC))


def _stub_group(stub: Stubber, kind: str, name: str, pages: list[dict[str, Any]]) -> None:
    if kind == "cluster":
        stub.add_response(
            "describe_db_cluster_parameter_groups",
            {
                "DBClusterParameterGroups": [
                    {
                        "DBClusterParameterGroupName": name,
                        "DBParameterGroupFamily": "aurora-postgresql16",
                        "Description": "prod",
                        "DBClusterParameterGroupArn": f"arn:aws:rds:us-east-1:123456789012:cluster-pg:{name}",
                    }
                ]
            },
            {"DBClusterParameterGroupName": name},
        )
        method, arg = "describe_db_cluster_parameters", "DBClusterParameterGroupName"
    else:
        stub.add_response(
            "describe_db_parameter_groups",
            {
                "DBParameterGroups": [
                    {
                        "DBParameterGroupName": name,
                        "DBParameterGroupFamily": "aurora-postgresql16",
                        "Description": "prod",
                        "DBParameterGroupArn": f"arn:aws:rds:us-east-1:123456789012:pg:{name}",
                    }
                ]
            },
            {"DBParameterGroupName": name},
        )
        method, arg = "describe_db_parameters", "DBParameterGroupName"
    marker = None
    for page in pages:
        expected = {arg: name, "MaxRecords": 100}  # exact: no Source, so engine defaults come back too
        if marker:
            expected["Marker"] = marker
        stub.add_response(method, page, expected)
        marker = page.get("Marker")


@pytest.mark.parametrize("kind", ["cluster", "db"])
def test_all_pages_read_and_typed(ctx: AwsContext, kind: str) -> None:
    rows = [dict(p) for p in DEFAULTS]
    for p in rows:
        if p["ParameterName"] == "rds.logical_replication":
            p.update(ParameterValue="1", Source="user")
    assert len(rows) > 300
    col = _col(ctx)
    with Stubber(ctx.client("rds", "us-east-1")) as stub:
        _stub_group(stub, kind, "prod-app-pg16", _pages(rows))
        params.fetch_group(col, "us-east-1", kind, "prod-app-pg16")  # type: ignore[arg-type]
        params.fetch_group(col, "us-east-1", kind, "prod-app-pg16")  # type: ignore[arg-type]  # deduped
        stub.assert_no_pending_responses()
    assert col.errors == []
    g = col.parameter_groups[(kind, "us-east-1", "prod-app-pg16")]
    assert g.complete and len(g.parameters) == len(rows)
    assert g.family == "aurora-postgresql16" and g.arn and g.arn.endswith(":prod-app-pg16")
    lr = g.parameters["rds.logical_replication"]
    assert (lr.raw_value, lr.value, lr.source, lr.data_type) == ("1", True, "user", "boolean")
    assert lr.apply_type == "static" and lr.is_modifiable is True and lr.allowed_values == "0,1"
    assert lr.apply_method == "pending-reboot"
    assert g.parameters["rds.force_ssl"].value is True
    assert g.parameters["max_connections"].value == "LEAST({DBInstanceClassMemory/9531392},5000)"
    assert g.parameters["shared_preload_libraries"].value == "pg_stat_statements"
    assert g.parameters["autovacuum_vacuum_scale_factor"].value == 0.2
    assert g.parameters["autovacuum_max_workers"].value == 3
    assert g.parameters["log_statement"].value == "none"
    assert g.parameters["archive_command"].value is None  # engine default with no value stays None
    assert g.parameters["autovacuum_vacuum_scale_factor"].source == "engine-default"


def test_failed_page_keeps_what_was_read_and_says_incomplete(ctx: AwsContext) -> None:
    pages = _pages([dict(p) for p in DEFAULTS])
    col = _col(ctx)
    with Stubber(ctx.client("rds", "us-east-1")) as stub:
        _stub_group(stub, "cluster", "pg", pages[:1])
        stub.add_client_error(
            "describe_db_cluster_parameters",
            service_error_code="Throttling",
            service_message="Rate exceeded",
            http_status_code=400,
            expected_params={"DBClusterParameterGroupName": "pg", "MaxRecords": 100, "Marker": "marker-100"},
        )
        params.fetch_group(col, "us-east-1", "cluster", "pg", cluster="prod-app")
    g = col.parameter_groups[("cluster", "us-east-1", "pg")]
    assert not g.complete and len(g.parameters) == 100
    [err] = col.errors
    assert (err.operation, err.code, err.resource, err.resource_kind, err.cluster, err.region) == (
        "DescribeDBClusterParameters",
        "Throttling",
        "pg",
        "cluster-parameter-group",
        "prod-app",
        "us-east-1",
    )


def test_groups_to_fetch_dedupes_shared_groups(ctx: AwsContext) -> None:
    from auditor.models.snapshot import Cluster, Instance, ParameterGroupRef

    col = _col(ctx)
    for cid in ("a", "b"):
        col.clusters[("us-east-1", cid)] = Cluster(
            id=cid,
            region="us-east-1",
            engine="aurora-postgresql",
            engine_version="16.4",
            parameter_group="shared-cpg",
        )
    for n in range(4):
        col.instances[("us-east-1", f"i{n}")] = Instance(
            id=f"i{n}",
            region="us-east-1",
            cluster_id="a" if n < 2 else "b",
            instance_class="db.r6g.large",
            parameter_groups=(ParameterGroupRef(name="shared-dbpg"),),
        )
    assert params.groups_to_fetch(col) == [
        ("us-east-1", "cluster", "shared-cpg", "a"),
        ("us-east-1", "db", "shared-dbpg", "a"),
    ]
