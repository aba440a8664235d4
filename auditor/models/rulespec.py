"""Rule metadata (`rules/<ID>.yaml`): validated when the catalogue loads."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from auditor.models.findings import Severity

RULE_ID = re.compile(r"^[A-Z]{2}\d{2}$")

FAMILIES = {
    "CL": "cluster configuration",
    "HA": "availability and failover",
    "PG": "parameter groups",
    "RS": "replication slots (in-database)",
    "GD": "Global Database",
    "BG": "blue/green pre-switchover gate",
    "FL": "fleet coverage",
}


class Remediation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1)
    aws: str | None = None  # an `aws` CLI line; <cluster>, <instance>, <resource>, <region> are filled in
    terraform: str | None = None  # the Terraform attribute that sets it, where one exists

    def render(self, *, resource: str = "", cluster: str = "", region: str = "") -> str:
        def fill(s: str) -> str:
            return (
                s.replace("<cluster>", cluster or "<cluster>")
                .replace("<instance>", resource or "<instance>")
                .replace("<resource>", resource or "<resource>")
                .replace("<region>", region or "<region>")
            )

        out = fill(self.text.strip())
        if self.aws:
            out += f"\naws: {fill(self.aws.strip())}"
        if self.terraform:
            out += f"\nterraform: {self.terraform.strip()}"
        return out


class RuleSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str = Field(min_length=5)
    severity: Severity
    family: str
    check: str
    params: dict[str, Any] = Field(default_factory=dict)
    rationale: str = Field(min_length=10)
    remediation: Remediation | None = None
    references: tuple[str, ...] = ()
    baseline_keys: tuple[str, ...] = ()  # baseline keys the rule reads (documentation; skipped when absent)
    in_db: bool = False  # reads PostgreSQL itself (skipped under --no-db)

    # The rule's params validated against its check's Params model (set by the loader).
    _params: Any = PrivateAttr(default=None)
    # The file it was loaded from (for `rules show`).
    _path: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _validate(self) -> RuleSpec:
        if not RULE_ID.match(self.id):
            raise ValueError(f"rule id {self.id!r} must be two capital letters and two digits (e.g. CL01)")
        if self.family != self.id[:2]:
            raise ValueError(f"family {self.family!r} must be the id's first two letters ({self.id[:2]})")
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}; known: {', '.join(sorted(FAMILIES))}")
        if self.severity.at_least(Severity.MEDIUM) and self.remediation is None:
            raise ValueError(f"remediation is required for a {self.severity.value} rule")
        return self

    def describe(self) -> str:
        """Plain-text documentation for `aurora-audit rules show ID` (generated from this file)."""
        lines = [
            f"{self.id}  {self.title}",
            f"severity: {self.severity.value}    family: {self.family} ({FAMILIES[self.family]})"
            + ("    reads PostgreSQL (skipped under --no-db)" if self.in_db else ""),
            "",
            "Why:",
            *_wrap(self.rationale),
        ]
        if self.baseline_keys:
            lines += ["", "Baseline keys: " + ", ".join(self.baseline_keys)]
        if self.params:
            lines += ["", "Parameters:"] + [f"  {k}: {v}" for k, v in self.params.items()]
        if self.remediation is not None:
            lines += ["", "Fix:", *_wrap(self.remediation.text)]
            if self.remediation.aws:
                lines += [f"  aws: {self.remediation.aws.strip()}"]
            if self.remediation.terraform:
                lines += [f"  terraform: {self.remediation.terraform.strip()}"]
        if self.references:
            lines += ["", "References:"] + [f"  - {r}" for r in self.references]
        return "\n".join(lines)

    @property
    def parsed_params(self) -> Any:
        return self._params

    @property
    def path(self) -> str | None:
        return self._path


def _wrap(text: str, width: int = 100) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), width=width, initial_indent="  ", subsequent_indent="  ")
