"""Small helpers shared by the checks (outcome constructors, the skipped-by-baseline message)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

from auditor.engine.context import Context, cluster_ref, error_text
from auditor.engine.drift import diff
from auditor.engine.registry import Outcome
from auditor.models.findings import DriftItem, ResourceRef, Severity, Status


def passed(ref: ResourceRef, message: str) -> Outcome:
    return Outcome(ref, Status.PASS, message)


def failed(
    ref: ResourceRef, message: str, drift: list[DriftItem] | None = None, severity: Severity | None = None
) -> Outcome:
    return Outcome(ref, Status.FAIL, message, drift or [], severity)


def errored(ref: ResourceRef, message: str) -> Outcome:
    return Outcome(ref, Status.ERROR, message)


def needs_instances(fn: Callable[..., list[Outcome]]) -> Callable[..., list[Outcome]]:
    """For checks that read a cluster's instances: a cluster whose DescribeDBInstances failed yields
    `error` (never a pass, fail or skip judged from a partial member list); the others are checked."""

    @functools.wraps(fn)
    def wrapper(snap: Any, bl: Any, p: Any, ctx: Context) -> list[Outcome]:
        out: list[Outcome] = []
        ok = []
        for c in ctx.targets:
            errs = ctx.instance_errors(c)
            if errs:
                msg = f"instances of {c.id} could not be read: {error_text(errs)}"
                out.append(errored(cluster_ref(c), msg))
            else:
                ok.append(c)
        if ok:
            narrowed = ctx if len(ok) == len(ctx.targets) else dataclasses.replace(ctx, targets=ok)
            out.extend(fn(snap, bl, p, narrowed))
        return out

    return wrapper


def skipped(ref: ResourceRef, key: str, why: str = "") -> Outcome:
    text = why or f"not checked: set {key} in the baseline to enable this rule"
    return Outcome(ref, Status.SKIPPED, text)


def skipped_because(ref: ResourceRef, message: str) -> Outcome:
    return Outcome(ref, Status.SKIPPED, message)


def flag(
    ref: ResourceRef,
    *,
    key: str,
    path: str,
    want: bool | None,
    actual: bool | None,
    on: str,
    off: str,
    unknown: str,
) -> Outcome:
    """A hardening switch the baseline may require: true = must be on; false = not required."""
    if want is None:
        return skipped(ref, key)
    if not want:
        return passed(
            ref, f"not required by the baseline ({key}: false); currently {'on' if actual else 'off'}"
        )
    if actual is None:
        return errored(ref, unknown)
    if actual:
        return passed(ref, on)
    return failed(ref, off, diff({path: True}, {path: actual}))


def minimum(ref: ResourceRef, path: str, floor: float, actual: Any) -> list[DriftItem]:
    return diff({path: f">= {floor:g}"}, {path: actual}, out_of_range=[path])


def maximum(ref: ResourceRef, path: str, ceiling: float, actual: Any) -> list[DriftItem]:
    return diff({path: f"<= {ceiling:g}"}, {path: actual}, out_of_range=[path])


def wal_size(n: int | None) -> str:
    """Bytes of WAL for a person: MiB below 1 GiB, GiB above (0.0 GiB for 46 MiB helps nobody)."""
    if n is None:
        return "an unknown amount of WAL"
    if n < 2**30:
        return f"{n / 2**20:,.1f} MiB of WAL"
    return f"{n / 2**30:,.2f} GiB of WAL"
