"""Findings and the audit result: what the engine produces and every reporter reads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REPORT_SCHEMA = "aurora-audit/report/v1"


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"
    WAIVED = "waived"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """critical=4 ... info=0, for `--fail-on` comparisons."""
        return ["info", "low", "medium", "high", "critical"].index(self.value)

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ResourceRef(_Model):
    kind: str  # cluster | instance | cluster-parameter-group | db-parameter-group | proxy | ...
    id: str
    region: str | None = None
    arn: str | None = None
    cluster: str | None = None
    account: str | None = None


class DriftItem(_Model):
    path: str
    expected: Any = None
    actual: Any = None
    change: str = "changed"  # changed | added | removed | out-of-range
    # Extra columns a reviewer needs beside expected/actual, e.g. {"blue": "0"} for a green-vs-blue gate diff.
    compare: dict[str, Any] = Field(default_factory=dict)


class Finding(_Model):
    rule_id: str
    title: str
    status: Status
    severity: Severity
    resource: ResourceRef
    message: str
    drift: list[DriftItem] = Field(default_factory=list)
    remediation: str = ""
    waiver: str | None = None  # the waiver's reason when status is waived
    trend: str | None = None  # new | open | resolved, when compared with a previous report

    @property
    def family(self) -> str:
        return self.rule_id[:2]


class Target(_Model):
    kind: str
    id: str
    region: str | None = None
    account: str | None = None


class ReportError(_Model):
    resource: str
    operation: str
    message: str
    region: str | None = None
    code: str | None = None


class ToolInfo(_Model):
    name: str = "aurora-audit"
    version: str


class AuditResult(_Model):
    schema_: str = Field(default=REPORT_SCHEMA, alias="schema")
    tool: ToolInfo
    generated_at: datetime
    command: str
    complete: bool = True
    targets: list[Target] = Field(default_factory=list)
    summary: dict[str, int] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    errors: list[ReportError] = Field(default_factory=list)
    # Context for people reading the reports (additive to the v1 contract):
    baselines: list[str] = Field(default_factory=list)
    fail_on: Severity = Severity.HIGH
    notes: list[str] = Field(default_factory=list)
    topology: list[dict[str, Any]] = Field(default_factory=list)

    def compute_summary(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for f in self.findings:
            counts[f.status.value] += 1
        return counts

    def with_summary(self) -> AuditResult:
        return self.model_copy(update={"summary": self.compute_summary()})

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(by_alias=True, indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> AuditResult:
        return cls.model_validate_json(text)
