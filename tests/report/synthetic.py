"""A synthetic AuditResult of N clusters, shaped like a nightly fleet run (tests and benchmarks/ share it)."""

from __future__ import annotations

import random
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

RULES: list[tuple[str, str, Severity]] = [
    ("CL01", "Deletion protection is on", Severity.HIGH),
    ("CL02", "Backup retention meets the baseline", Severity.HIGH),
    ("CL03", "Storage encrypted with a customer-managed key", Severity.HIGH),
    ("CL04", "IAM database authentication on", Severity.MEDIUM),
    ("CL05", "Master password managed by Secrets Manager", Severity.MEDIUM),
    ("CL06", "Log exports include postgresql", Severity.MEDIUM),
    ("CL07", "Copy tags to snapshots", Severity.LOW),
    ("CL08", "Engine version supported", Severity.HIGH),
    ("CL09", "No forced maintenance soon", Severity.MEDIUM),
    ("CL10", "Custom parameter groups", Severity.MEDIUM),
    ("HA01", "At least one reader", Severity.HIGH),
    ("HA02", "Instances span two AZs", Severity.HIGH),
    ("HA03", "Promotion tiers sensible", Severity.HIGH),
    ("HA04", "No burstable instance class", Severity.MEDIUM),
    ("HA05", "Performance Insights on", Severity.MEDIUM),
    ("HA06", "Replica lag within budget", Severity.MEDIUM),
    ("HA07", "RDS Proxy with TLS and IAM", Severity.MEDIUM),
    ("HA08", "Replica auto scaling", Severity.LOW),
    ("HA09", "CloudWatch alarms exist", Severity.MEDIUM),
    ("PG01", "Cluster parameter group matches the baseline", Severity.HIGH),
    ("PG02", "DB parameter group matches the baseline", Severity.MEDIUM),
    ("PG03", "Parameter status in-sync", Severity.HIGH),
    ("PG04", "No member parameter drift", Severity.MEDIUM),
    ("PG05", "rds.force_ssl = 1", Severity.HIGH),
    ("RS01", "No inactive logical slot", Severity.HIGH),
    ("RS02", "WAL retained within budget", Severity.CRITICAL),
    ("RS03", "No unreserved or lost slot", Severity.CRITICAL),
    ("RS04", "Every slot is expected", Severity.HIGH),
    ("RS05", "Slot count under 80%", Severity.MEDIUM),
]


def synthetic_result(clusters: int = 200, seed: int = 7) -> AuditResult:
    rng = random.Random(seed)
    findings: list[Finding] = []
    topology: list[dict[str, Any]] = []
    regions = ["us-east-1", "us-west-2", "eu-west-1"]
    for i in range(clusters):
        cid = f"fleet-{i:03d}"
        region = regions[i % len(regions)]
        ref = ResourceRef(
            kind="cluster",
            id=cid,
            region=region,
            cluster=cid,
            arn=f"arn:aws:rds:{region}:123456789012:cluster:{cid}",
        )
        for rule_id, title, severity in RULES:
            roll = rng.random()
            status = (
                Status.FAIL
                if roll < 0.06
                else Status.ERROR
                if roll < 0.07
                else Status.SKIPPED
                if roll < 0.09
                else Status.WAIVED
                if roll < 0.10
                else Status.PASS
            )
            drift = (
                [DriftItem(path="max_connections", expected={"min": 500}, actual=200, change="out-of-range")]
                if status is Status.FAIL and rule_id.startswith("PG")
                else []
            )
            findings.append(
                Finding(
                    rule_id=rule_id,
                    title=title,
                    status=status,
                    severity=severity,
                    resource=ref,
                    message=f"{title.lower()}: {status.value}",
                    drift=drift,
                    remediation="Fix it as the runbook says." if status is not Status.PASS else "",
                    waiver="accepted by the database team" if status is Status.WAIVED else None,
                )
            )
        azs = [f"{region}{z}" for z in "abc"]
        topology.append(
            {
                "id": cid,
                "region": region,
                "role": "standalone",
                "engine_version": "16.4",
                "writer": {"id": f"{cid}-1", "az": azs[0], "tier": 0, "instance_class": "db.r6g.large"},
                "readers": [
                    {"id": f"{cid}-{n}", "az": azs[n % 3], "tier": 1, "instance_class": "db.r6g.large"}
                    for n in range(2, 2 + rng.randint(0, 3))
                ],
                "proxy": {"id": f"{cid}-proxy", "require_tls": True, "iam_auth": "REQUIRED"}
                if i % 4 == 0
                else None,
                "global_secondaries": [],
            }
        )
    return AuditResult(
        tool=ToolInfo(version="0.1.0"),
        generated_at=datetime(2026, 11, 25, 2, 0, 0, tzinfo=UTC),
        command="fleet",
        complete=True,
        targets=[Target(kind="region", id=r, account="123456789012") for r in regions],
        findings=findings,
        errors=[ReportError(resource="fleet-007", operation="connect", message="timeout")],
        baselines=["prod"],
        topology=topology,
    ).with_summary()
