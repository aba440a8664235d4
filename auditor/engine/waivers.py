"""Accepted risks (`aurora-audit/waivers/v1`): a waiver turns a matching `fail` into `waived`.

Design (documented for users in the README):
- A waiver matches a finding when the rule id is equal and the resource glob matches the finding's
  resource id (or its cluster id, so `prod-app` can waive a slot finding on that cluster).
- Only `fail` is waivable. `error` never is: a failed collection must not be hidden by an old waiver.
- From the day after `expires` a waiver stops waiving; the failure shows again, and the waiver itself is
  reported as a `fail` finding (severity low) under the waived rule's id with resource kind `waiver`.
- An unexpired waiver that waived nothing in this run is reported as a `fail` finding of severity info
  (resource kind `waiver`): remove it, or it will silently cover a future regression.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from auditor.engine.yamlfile import YamlDoc, validate
from auditor.models.findings import Finding, ResourceRef, Severity, Status

WAIVERS_SCHEMA = "aurora-audit/waivers/v1"


class Waiver(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str = Field(pattern=r"^[A-Z]{2}\d{2}$")
    resource: str = Field(min_length=1)
    reason: str = Field(min_length=3)
    expires: date
    line: int = Field(default=0, exclude=True)

    def matches(self, f: Finding) -> bool:
        if f.rule_id != self.rule:
            return False
        return fnmatch.fnmatchcase(f.resource.id, self.resource) or (
            f.resource.cluster is not None and fnmatch.fnmatchcase(f.resource.cluster, self.resource)
        )

    def active(self, today: date) -> bool:
        return today <= self.expires


class Waivers(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_: Literal["aurora-audit/waivers/v1"] = Field(alias="schema")
    waivers: tuple[Waiver, ...] = ()
    path: str | None = Field(default=None, exclude=True)


def parse_waivers(doc: YamlDoc, known_rules: set[str] | None = None) -> Waivers:
    if not isinstance(doc.data, dict):
        raise doc.fail((), "a waiver file must be a mapping", "start with `schema: aurora-audit/waivers/v1`")
    if isinstance(doc.data.get("waivers"), list):
        for n, item in enumerate(doc.data["waivers"]):
            if isinstance(item, dict) and "line" in item:
                raise doc.fail(
                    ("waivers", n, "line"), "unknown key 'line'", "allowed: rule, resource, reason, expires"
                )
    w = validate(doc, Waivers, hint="each waiver needs rule, resource, reason and expires (YYYY-MM-DD)")
    assert isinstance(w, Waivers)
    items = tuple(x.model_copy(update={"line": doc.line(("waivers", n))}) for n, x in enumerate(w.waivers))
    if known_rules is not None:
        for n, x in enumerate(items):
            if x.rule not in known_rules:
                raise doc.fail(
                    ("waivers", n, "rule"),
                    f"no rule {x.rule} in the catalogue",
                    "see `aurora-audit rules list`",
                )
    return w.model_copy(update={"waivers": items, "path": doc.path})


@dataclass
class _Use:
    waiver: Waiver
    waived: int = 0
    would_match: int = 0


def apply_waivers(findings: list[Finding], waivers: Waivers | None, today: date) -> list[Finding]:
    """Findings with matching failures waived, plus one finding per expired or unused waiver."""
    if waivers is None or not waivers.waivers:
        return findings
    uses = [_Use(w) for w in waivers.waivers]
    out: list[Finding] = []
    for f in findings:
        if f.status is Status.FAIL:
            for u in uses:
                if u.waiver.matches(f):
                    u.would_match += 1
                    if u.waiver.active(today):
                        u.waived += 1
                        f = f.model_copy(update={"status": Status.WAIVED, "waiver": u.waiver.reason})
                        break
        out.append(f)
    where = waivers.path or "waivers"
    for u in uses:
        w = u.waiver
        ref = ResourceRef(kind="waiver", id=w.resource)
        loc = f"{where}:{w.line}" if w.line else where
        if not w.active(today):
            covered = (
                f"{u.would_match} failure(s) it covered are reported again"
                if u.would_match
                else "it no longer matches any failure"
            )
            out.append(
                Finding(
                    rule_id=w.rule,
                    title="Waiver expired",
                    status=Status.FAIL,
                    severity=Severity.LOW,
                    resource=ref,
                    message=f"waiver for {w.rule} on {w.resource} expired on {w.expires.isoformat()} "
                    f"({loc}); {covered}",
                    remediation="Fix the underlying failure, or renew the waiver with a new expiry date "
                    "and a current "
                    "reason approved by the database team; delete it if it is no longer needed.",
                )
            )
        elif u.waived == 0:
            out.append(
                Finding(
                    rule_id=w.rule,
                    title="Waiver matched nothing",
                    status=Status.FAIL,
                    severity=Severity.INFO,
                    resource=ref,
                    message=f"waiver for {w.rule} on {w.resource} ({loc}) waived no failure in this run; "
                    "remove it so it cannot hide a future regression",
                    remediation="Delete the waiver from the waiver file (or narrow its resource pattern).",
                )
            )
    return out
