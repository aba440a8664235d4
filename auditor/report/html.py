"""report.html: one self-contained page (inline CSS and JS, no network) rendered by Jinja2 with autoescape.

This module only shapes the data (a view model of plain dicts and lists); all markup lives in
templates/report.html.j2, where Jinja2 escapes every value. Nothing here builds markup from strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from auditor.models.findings import AuditResult, DriftItem, Finding, Status
from auditor.report.common import (
    FAMILY_NAMES,
    SEVERITY_ORDER,
    STATUS_ORDER,
    generated_text,
    group_by_cluster,
    headline,
    sort_findings,
    strip_control,
    summary_counts,
    value_text,
    verdict,
)
from auditor.report.topology import ClusterTopology, read_topology, readers_by_az


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` passes here before escaping: drop control characters (ESC, NUL) from AWS data."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return strip_control(value)
    return value


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("auditor.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["value"] = value_text
    return env


@dataclass
class DriftView:
    columns: list[tuple[str, str]]  # (key, header) beyond path: expected, compare keys..., actual
    rows: list[dict[str, Any]]


@dataclass
class ClusterView:
    id: str
    anchor: str
    regions: list[str]
    counts: dict[str, int]
    worst: str | None  # worst severity among fail/error, for the index
    attention: list[Finding]  # everything but passes, most important first
    passing: list[Finding]
    topology: ClusterTopology | None
    readers_by_az: list[tuple[str, list[Any]]] = field(default_factory=list)


def drift_view(items: list[DriftItem]) -> DriftView:
    """Expected vs actual, with extra compare columns (e.g. blue) between them: baseline | blue | green."""
    extra: list[str] = []
    for item in items:
        for key in item.compare:
            if key not in extra:
                extra.append(key)
    actual_header = "green (actual)" if "blue" in extra and "green" not in extra else "actual"
    expected_header = "baseline (expected)" if extra else "expected"
    columns = [
        ("expected", expected_header),
        *((f"compare:{k}", k) for k in extra),
        ("actual", actual_header),
    ]
    rows = []
    for item in items:
        cells = {"expected": value_text(item.expected), "actual": value_text(item.actual)}
        for key in extra:
            cells[f"compare:{key}"] = value_text(item.compare[key]) if key in item.compare else ""
        rows.append({"path": item.path, "change": item.change, "cells": cells})
    return DriftView(columns=columns, rows=rows)


def _anchor(index: int) -> str:
    # Ids never come from audit data, so a hostile cluster id cannot collide with page ids.
    return f"cluster-{index}"


def build_view(result: AuditResult) -> dict[str, Any]:
    topo = {t["id"]: t for t in read_topology(result.topology)}
    clusters: list[ClusterView] = []
    for index, (cluster_id, findings) in enumerate(group_by_cluster(result)):
        ordered = sort_findings(findings)
        counts = {s.value: sum(1 for f in findings if f.status is s) for s in Status}
        bad = [f for f in ordered if f.status in (Status.FAIL, Status.ERROR)]
        worst = min((SEVERITY_ORDER.index(f.severity) for f in bad), default=None)
        t = topo.pop(cluster_id, None)
        clusters.append(
            ClusterView(
                id=cluster_id,
                anchor=_anchor(index),
                regions=sorted({f.resource.region for f in findings if f.resource.region}),
                counts=counts,
                worst=SEVERITY_ORDER[worst].value if worst is not None else None,
                attention=[f for f in ordered if f.status is not Status.PASS],
                passing=[f for f in ordered if f.status is Status.PASS],
                topology=t,
                readers_by_az=readers_by_az(t) if t else [],
            )
        )
    # Clusters in the topology with no findings still get a section (absence of findings is not a pass).
    for t in topo.values():
        clusters.append(
            ClusterView(
                id=t["id"],
                anchor=_anchor(len(clusters)),
                regions=[region] if (region := t.get("region")) else [],
                counts={s.value: 0 for s in Status},
                worst=None,
                attention=[],
                passing=[],
                topology=t,
                readers_by_az=readers_by_az(t),
            )
        )
    # Clusters needing attention first (worst severity, then most failures), then the rest by id.
    clusters.sort(
        key=lambda c: (
            SEVERITY_ORDER.index(next(s for s in SEVERITY_ORDER if s.value == c.worst)) if c.worst else 99,
            -(c.counts["fail"] + c.counts["error"]),
            c.id,
        )
    )
    matrix = {sev.value: {st.value: 0 for st in Status} for sev in SEVERITY_ORDER}
    for f in result.findings:
        matrix[f.severity.value][f.status.value] += 1
    families = sorted({f.family for f in result.findings})
    return {
        "result": result,
        "verdict": verdict(result),
        "headline": headline(result, verdict(result)),
        "counts": summary_counts(result),
        "matrix": matrix,
        "severities": [s.value for s in SEVERITY_ORDER],
        "statuses": [s.value for s in STATUS_ORDER],
        "families": [(code, FAMILY_NAMES.get(code, code)) for code in families],
        "family_names": FAMILY_NAMES,
        "clusters": clusters,
        "drift_view": drift_view,
        "generated": generated_text(result),
    }


def render_html(result: AuditResult) -> str:
    return _env().get_template("report.html.j2").render(**build_view(result))
