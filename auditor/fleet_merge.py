"""Joining fleet pieces: per-account-region snapshots into one Snapshot, shard reports into one report.

Snapshots: a unit may also hold clusters of other regions (Global Database members, blue/green greens) as
context; the merged snapshot keeps one copy of each resource, preferring the copy collected as a target.
Reports: every input is validated (JSON, schema `aurora-audit/report/v1`, same tool major version, the
report model) and a bad one raises InputFileError naming the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from auditor import __version__
from auditor.errors import InputFileError, UsageError
from auditor.models.findings import REPORT_SCHEMA, AuditResult, Finding, Severity
from auditor.models.snapshot import CallStat, CollectionError, Snapshot, Target

T = TypeVar("T")

_SHARD_NOTE = re.compile(r"^shard (\d+)/(\d+):")


# ------------------------------------------------------------------ snapshots


def _unique(
    items: Iterable[T], key: Callable[[T], Hashable], prefer: Callable[[T], int] | None = None
) -> list[T]:
    """First item per key (or the one with the lowest `prefer` rank), in first-seen key order."""
    out: dict[Hashable, T] = {}
    for item in items:
        k = key(item)
        if k not in out or (prefer is not None and prefer(item) < prefer(out[k])):
            out[k] = item
    return list(out.values())


def merge_snapshots(
    snapshots: list[Snapshot],
    *,
    extra_errors: Iterable[CollectionError] = (),
    calls: dict[str, tuple[int, float]] | None = None,
    regions: Iterable[str] = (),
    look_back_minutes: int | None = None,
) -> Snapshot:
    """One Snapshot for the fleet. `calls` (operation -> (count, seconds)) replaces the per-snapshot call
    stats, which overlap when units of one account share a call log."""

    def tagged(attr: str) -> list[tuple[str | None, Any]]:
        # Models without an account field are keyed by the account their snapshot was collected in.
        out = []
        for s in snapshots:
            acct = next((t.account for t in s.targets if t.account), None)
            out += [(acct, x) for x in getattr(s, attr)]
        return out

    def every(attr: str) -> list[Any]:
        return [x for s in snapshots for x in getattr(s, attr)]

    role_rank = {"target": 0, "green": 1, "global-member": 2}
    clusters = _unique(every("clusters"), lambda c: (c.account, c.region, c.id), lambda c: role_rank[c.role])
    if calls is None:
        summed: dict[str, tuple[int, float]] = {}
        for st in every("calls"):
            n0, s0 = summed.get(st.operation, (0, 0.0))
            summed[st.operation] = (n0 + st.calls, s0 + st.seconds)
        calls = summed
    errors = _unique([*every("errors"), *extra_errors], lambda e: e.model_dump_json())
    targets = _unique(every("targets"), lambda t: (t.kind, t.id, t.region, t.account))
    return Snapshot(
        tool_version=__version__,
        taken_at=min((s.taken_at for s in snapshots), default=datetime.now(UTC)),
        targets=tuple(sorted(targets, key=lambda t: (t.account or "", t.region or "", t.kind, t.id))),
        regions=tuple(sorted({*regions, *every("regions")})),
        look_back_minutes=look_back_minutes or (snapshots[0].look_back_minutes if snapshots else 60),
        clusters=tuple(sorted(clusters, key=lambda c: (c.account or "", c.region, c.id))),
        instances=tuple(
            sorted(
                _unique(every("instances"), lambda i: (i.account, i.region, i.id)),
                key=lambda i: (i.account or "", i.region, i.cluster_id or "", i.id),
            )
        ),
        parameter_groups=tuple(
            sorted(
                _unique(every("parameter_groups"), lambda g: (g.account, g.region, g.kind, g.name)),
                key=lambda g: (g.account or "", g.region, g.kind, g.name),
            )
        ),
        global_clusters=tuple(_unique(every("global_clusters"), lambda g: g.arn or g.id)),
        blue_green_deployments=tuple(
            _unique(every("blue_green_deployments"), lambda b: (b.account, b.region, b.id))
        ),
        proxies=tuple(_unique(every("proxies"), lambda p: (p.account, p.region, p.name))),
        scalable_targets=tuple(
            x
            for _, x in _unique(
                tagged("scalable_targets"),
                lambda ax: (ax[0], ax[1].region, ax[1].resource_id, ax[1].scalable_dimension),
            )
        ),
        alarms=tuple(
            x for _, x in _unique(tagged("alarms"), lambda ax: (ax[0], ax[1].region, ax[1].arn or ax[1].name))
        ),
        metrics=tuple(
            x
            for _, x in _unique(
                tagged("metrics"),
                lambda ax: (ax[0], ax[1].region, ax[1].metric_name, tuple(sorted(ax[1].dimensions.items()))),
            )
        ),
        pending_maintenance=tuple(
            _unique(every("pending_maintenance"), lambda p: (p.resource_arn, p.action))
        ),
        engine_versions=tuple(_unique(every("engine_versions"), lambda e: (e.region, e.engine, e.version))),
        databases=tuple(
            x for _, x in _unique(tagged("databases"), lambda ax: (ax[0], ax[1].region, ax[1].cluster_id))
        ),
        errors=tuple(errors),
        calls=tuple(
            CallStat(operation=op, calls=n, seconds=round(s, 6)) for op, (n, s) in sorted(calls.items())
        ),
    )


# ------------------------------------------------------------------ report files


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def load_report(path: str, what: str = "report") -> AuditResult:
    """A report.json, validated: JSON, schema, tool name and major version, the report model."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputFileError(f"{path}: cannot read {what} ({e.strerror}); check the path") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFileError(f"{path}:{e.lineno}: not JSON ({e.msg}); pass a report.json") from None
    if not isinstance(data, dict):
        raise InputFileError(f"{path}: not an aurora-audit report (a JSON object is expected)")
    schema = data.get("schema")
    if schema != REPORT_SCHEMA:
        raise InputFileError(f"{path}: schema is {schema!r}, expected {REPORT_SCHEMA!r}; pass a report.json")
    raw_tool = data.get("tool")
    tool: dict[str, Any] = raw_tool if isinstance(raw_tool, dict) else {}
    name, version = tool.get("name"), str(tool.get("version") or "")
    if name != "aurora-audit":
        raise InputFileError(f"{path}: written by {name!r}, not aurora-audit")
    if _major(version) != _major(__version__):
        raise InputFileError(
            f"{path}: written by aurora-audit {version or '?'}, this is {__version__} "
            "(major versions differ); rerun the audit with the same major version"
        )
    try:
        return AuditResult.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(x) for x in first.get("loc", ()))
        raise InputFileError(f"{path}: invalid report ({loc or 'document'}: {first.get('msg')})") from None


def finding_key(f: Finding) -> tuple[str, str, str, str, str, str]:
    r = f.resource
    return (f.rule_id, r.kind, r.id, r.region or "", r.account or "", r.cluster or "")


def merge_reports(paths: list[str], fail_on: Severity | None = None) -> AuditResult:
    """Join report.json files (e.g. the shards of one fleet run) into one report.

    Findings are the union (a finding reported by two inputs is kept once, and the overlap is noted);
    targets, errors and topology are joined; `complete` only if every input was and no shard is missing.
    `fail_on` defaults to the strictest of the inputs'.
    """
    if not paths:
        raise UsageError("merge needs at least one report.json")
    reports = [(p, load_report(p)) for p in paths]
    notes: list[str] = []
    shards: dict[int, set[int]] = {}
    other_notes: list[str] = []
    for _, r in reports:
        for n in r.notes:
            m = _SHARD_NOTE.match(n)
            if m:
                shards.setdefault(int(m.group(2)), set()).add(int(m.group(1)))
            if n not in other_notes:
                other_notes.append(n)
    complete = all(r.complete for _, r in reports)
    for total, got in sorted(shards.items()):
        missing = sorted(set(range(1, total + 1)) - got)
        if missing:
            complete = False
            notes.append(
                f"merge: shard(s) {', '.join(f'{k}/{total}' for k in missing)} missing — their "
                "account-regions are not in this report"
            )
    if len(shards) > 1:
        notes.append(
            f"merge: inputs come from runs split {' and '.join(f'{n} ways' for n in sorted(shards))}"
        )

    findings: dict[tuple[str, ...], Finding] = {}
    overlap = 0
    for _, r in reports:
        for f in r.findings:
            k = finding_key(f)
            if k in findings:
                overlap += 1
                continue
            findings[k] = f
    if overlap:
        notes.append(
            f"merge: {overlap} finding(s) appeared in more than one input (kept once): overlapping shards?"
        )
    commands = sorted({r.command for _, r in reports})
    if len(commands) > 1:
        notes.append(f"merge: inputs come from different commands ({', '.join(commands)})")
    baselines = list(dict.fromkeys(b for _, r in reports for b in r.baselines))
    if len({tuple(r.baselines) for _, r in reports}) > 1:
        notes.append("merge: inputs were evaluated against different baselines")
    strictest = min((r.fail_on for _, r in reports), key=lambda s: s.rank)
    merged = AuditResult(
        tool=reports[0][1].tool.model_copy(update={"version": __version__}),
        generated_at=datetime.now(UTC).replace(microsecond=0),
        command=commands[0] if len(commands) == 1 else "merge",
        complete=complete,
        targets=_unique(
            (t for _, r in reports for t in r.targets),
            lambda t: (t.kind, t.id, t.region or "", t.account or ""),
        ),
        findings=list(findings.values()),
        errors=_unique((e for _, r in reports for e in r.errors), lambda e: e.model_dump_json()),
        baselines=baselines,
        fail_on=fail_on or strictest,
        notes=notes + [f"merged from {len(paths)} report(s): {', '.join(paths)}"] + other_notes,
        topology=_unique(
            (t for _, r in reports for t in r.topology),
            lambda t: (str(t.get("account")), str(t.get("region")), str(t.get("id"))),
        ),
    )
    return merged.with_summary()


__all__ = ["merge_snapshots", "load_report", "merge_reports", "finding_key", "Target"]
