"""A fixed AuditResult that exercises every reporter path: all statuses, severities and families, drift with
blue/green compare columns, waivers, errors, topology, and hostile values (markup, `]]>`, control characters,
pipes, ANSI escapes) where a careless reporter would break or execute them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from auditor.models.findings import (
    AuditResult,
    DriftItem,
    Finding,
    ReportError,
    ResourceRef,
    Severity,
    Status,
    Target,
    ToolInfo,
)

XSS = "<script>alert(1)</script>"
HOSTILE_TAG = f'owner{XSS}" onmouseover="alert(2)'
HOSTILE_PARAM = f"{XSS}]]>\x00\x1b[31mred\x1b[0m|pipe|**bold**\x0b"
REGION = "us-east-1"
ACCOUNT = "123456789012"


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:rds:{REGION}:{ACCOUNT}:{kind}:{name}"


def _cluster(cid: str) -> ResourceRef:
    return ResourceRef(
        kind="cluster", id=cid, region=REGION, arn=_arn("cluster", cid), cluster=cid, account=ACCOUNT
    )


def _f(
    rule: str,
    title: str,
    status: Status,
    severity: Severity,
    resource: ResourceRef,
    message: str,
    drift: list[DriftItem] | None = None,
    remediation: str = "",
    waiver: str | None = None,
    trend: str | None = None,
) -> Finding:
    return Finding(
        rule_id=rule,
        title=title,
        status=status,
        severity=severity,
        resource=resource,
        message=message,
        drift=drift or [],
        remediation=remediation,
        waiver=waiver,
        trend=trend,
    )


def build_findings() -> list[Finding]:
    prod = _cluster("prod-app")
    green = _cluster("prod-app-green-abc123")
    eu = ResourceRef(kind="cluster", id="prod-app-eu", region="eu-west-1", cluster="prod-app-eu")
    green_pg = ResourceRef(
        kind="cluster-parameter-group",
        id="prod-app-pg16-green",
        region=REGION,
        arn=_arn("cluster-pg", "prod-app-pg16-green"),
        cluster="prod-app-green-abc123",
    )
    reader = ResourceRef(kind="instance", id="prod-app-analytics", region=REGION, cluster="prod-app")
    hostile = ResourceRef(kind="cluster", id="legacy|<b>x</b>", region=REGION, cluster="legacy|<b>x</b>")
    return [
        # prod-app: passes, a waiver, a skip, high failure with drift
        _f(
            "CL01", "Deletion protection is on", Status.PASS, Severity.HIGH, prod, "deletion protection is on"
        ),
        _f("CL02", "Backup retention meets the baseline", Status.PASS, Severity.HIGH, prod, "14 days ≥ 14"),
        _f("CL07", "Copy tags to snapshots", Status.PASS, Severity.LOW, prod, "on"),
        _f(
            "HA04",
            "No burstable instance class",
            Status.WAIVED,
            Severity.MEDIUM,
            reader,
            "prod-app-analytics is db.t4g.large",
            remediation="Move the reader to a db.r6g class.",
            waiver="analytics reader, approved by the database team (expires 2027-01-31)",
        ),
        _f(
            "RS01",
            "No inactive logical replication slot",
            Status.SKIPPED,
            Severity.HIGH,
            prod,
            "in-database checks skipped (--no-db)",
        ),
        _f(
            "PG01",
            "Cluster parameter group matches the approved baseline",
            Status.FAIL,
            Severity.HIGH,
            prod,
            "2 parameters differ from the approved baseline",
            drift=[
                DriftItem(path="max_connections", expected={"min": 500}, actual=200, change="out-of-range"),
                DriftItem(path="log_statement", expected={"in": ["ddl", "mod"]}, actual="none"),
            ],
            remediation="Set them in the cluster parameter group; reboot if the apply type is static.",
            trend="open",
        ),
        _f(
            "CL03",
            "Storage encrypted with a customer-managed key",
            Status.FAIL,
            Severity.LOW,
            prod,
            "below the fail-on threshold: informational drift",
        ),
        # green of the blue/green deployment: the critical gate failure with blue/green compare columns
        _f(
            "BG02",
            "Green cluster parameter group matches the approved baseline",
            Status.FAIL,
            Severity.CRITICAL,
            green_pg,
            "rds.logical_replication is 1, the approved baseline says 0",
            drift=[
                DriftItem(
                    path="rds.logical_replication",
                    expected="0",
                    actual="1",
                    change="changed",
                    compare={"blue": "0"},
                ),
                DriftItem(
                    path="shared_preload_libraries",
                    expected="pg_stat_statements",
                    actual="pg_stat_statements,pglogical",
                    compare={"blue": "pg_stat_statements"},
                ),
                DriftItem(path="tags.Owner", expected="dba", actual=HOSTILE_TAG, compare={"blue": "dba"}),
            ],
            remediation="Reset rds.logical_replication to 0 in the green parameter group; reboot green.",
            trend="new",
        ),
        _f(
            "BG08",
            "No orphan replication slot on blue or green",
            Status.ERROR,
            Severity.CRITICAL,
            green,
            "could not read pg_replication_slots: connection timed out after 5 s",
            remediation="Allow the auditor to reach the green writer, or pass --pg-dsn.",
        ),
        _f(
            "BG04", "Green engine version equals the target", Status.PASS, Severity.HIGH, green, "16.4 = 16.4"
        ),
        # global secondary
        _f(
            "GD02",
            "Every secondary is connected",
            Status.PASS,
            Severity.HIGH,
            eu,
            "SynchronizationStatus connected",
        ),
        _f(
            "GD04",
            "No headless secondary",
            Status.FAIL,
            Severity.MEDIUM,
            eu,
            "prod-app-eu has 0 instances",
            remediation="Add a reader to prod-app-eu, or approve headless secondaries in the baseline.",
        ),
        # hostile cluster: values that must stay inert text everywhere
        _f(
            "PG02",
            f"DB parameter group matches {XSS}",
            Status.FAIL,
            Severity.MEDIUM,
            hostile,
            f"parameter value {HOSTILE_PARAM} differs",
            drift=[DriftItem(path=f"app.{XSS}", expected="safe", actual=HOSTILE_PARAM)],
            remediation="Do not paste `]]>` or <markup> into parameters.\nSecond line | with pipe.",
        ),
        _f("HA01", "At least one reader", Status.PASS, Severity.HIGH, hostile, "1 reader"),
        _f(
            "CL09",
            "No forced maintenance soon",
            Status.FAIL,
            Severity.INFO,
            hostile,
            "pending system-update, no forced date",
        ),
    ]


def build_topology() -> list[dict[str, Any]]:
    return [
        {
            "id": "prod-app",
            "region": REGION,
            "account": ACCOUNT,
            "role": "primary",
            "engine_version": "16.4",
            "global_cluster": "prod-app-global",
            "blue_green": "bgd-abc123",
            "writer": {"id": "prod-app-1", "az": "us-east-1a", "tier": 0, "instance_class": "db.r6g.2xlarge"},
            "readers": [
                {"id": "prod-app-2", "az": "us-east-1b", "tier": 1, "instance_class": "db.r6g.2xlarge"},
                {"id": "prod-app-3", "az": "us-east-1c", "tier": 1, "instance_class": "db.r6g.2xlarge"},
                {
                    "id": "prod-app-analytics",
                    "az": "us-east-1b",
                    "tier": 15,
                    "instance_class": "db.t4g.large",
                },
            ],
            "proxy": {"id": "prod-app-proxy", "require_tls": True, "iam_auth": "REQUIRED"},
            "global_secondaries": [
                {
                    "id": "prod-app-eu",
                    "region": "eu-west-1",
                    "status": "connected",
                    "lag_ms": 120,
                    "instances": 0,
                }
            ],
        },
        {
            "id": "prod-app-green-abc123",
            "region": REGION,
            "role": "green",
            "engine_version": "16.4",
            "blue_green": "bgd-abc123",
            "writer": {
                "id": "prod-app-1-green-x1",
                "az": "us-east-1a",
                "tier": 0,
                "instance_class": "db.r6g.2xlarge",
            },
            "readers": [
                {
                    "id": "prod-app-2-green-x2",
                    "az": "us-east-1b",
                    "tier": 1,
                    "instance_class": "db.r6g.2xlarge",
                }
            ],
            "proxy": None,
            "global_secondaries": [],
        },
        {
            "id": "legacy|<b>x</b>",
            "region": REGION,
            "role": "standalone",
            "writer": {
                "id": f"w{XSS}",
                "az": "us-east-1a",
                "tier": 0,
                "instance_class": "db.r5.large",
            },
            "readers": [{"id": "legacy-r1", "az": "us-east-1a", "tier": 1, "instance_class": "db.t3.medium"}],
            "proxy": {"id": "legacy-proxy", "require_tls": False, "iam_auth": "DISABLED"},
        },
    ]


# Shapes an engine bug could produce; the HTML must still render (and draw what it can).
MALFORMED_TOPOLOGY: list[object] = [
    {"id": "odd", "writer": {"id": "w1", "tier": "not-a-number"}, "readers": "garbage", "proxy": "nope"},
    {"id": "odd2", "writer": None, "readers": [None, {"az": "x"}, {"id": "r1"}], "global_secondaries": [{}]},
    {"no_id": True},
    "not a dict",
]


def build_result(*, complete: bool = False) -> AuditResult:
    result = AuditResult(
        tool=ToolInfo(version="0.1.0"),
        generated_at=datetime(2026, 11, 25, 18, 0, 0, tzinfo=UTC),
        command="gate",
        complete=complete,
        targets=[
            Target(kind="blue-green-deployment", id="bgd-abc123", region=REGION, account=ACCOUNT),
            Target(kind="cluster", id="prod-app", region=REGION, account=ACCOUNT),
        ],
        findings=build_findings(),
        errors=[
            ReportError(
                resource="prod-app-green-abc123",
                operation="connect",
                message="timeout connecting to the green writer",
                region=REGION,
            ),
            ReportError(
                resource=f"region {REGION}",
                operation="DescribePendingMaintenanceActions",
                message=f"Throttling: Rate exceeded {XSS}",
                region=REGION,
                code="Throttling",
            ),
        ],
        baselines=["default", "prod"],
        fail_on=Severity.HIGH,
        notes=[f"note with markup {XSS}"],
        topology=build_topology(),
    )
    return result.with_summary()
