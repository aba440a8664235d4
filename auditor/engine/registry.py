"""A small explicit registry of checks: `@register("name", Params)`; duplicate names raise.

A check is a pure function `(snapshot, baseline, params, context) -> list[Outcome]`: one outcome per
resource it applies to, passes included. Check modules are imported in one place (engine/checks/__init__).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from auditor.models.baseline import Baseline
from auditor.models.findings import DriftItem, ResourceRef, Severity, Status
from auditor.models.snapshot import Snapshot


class NoParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class Outcome:
    """A finding-to-be: the runner adds rule id, title, severity and remediation."""

    resource: ResourceRef
    status: Status
    message: str
    drift: list[DriftItem] = field(default_factory=list)
    severity: Severity | None = None  # overrides the rule's severity (e.g. a warning window)


CheckFn = Callable[[Snapshot, Baseline, Any, Any], list[Outcome]]
F = TypeVar("F", bound=CheckFn)


@dataclass(frozen=True)
class CheckEntry:
    name: str
    fn: CheckFn
    params: type[BaseModel]


_REGISTRY: dict[str, CheckEntry] = {}


def register(name: str, params: type[BaseModel] = NoParams) -> Callable[[F], F]:
    def deco(fn: F) -> F:
        if name in _REGISTRY:
            raise ValueError(
                f"check {name!r} is registered twice ({_REGISTRY[name].fn.__module__} and {fn.__module__})"
            )
        if params.model_config.get("extra") != "forbid":
            raise ValueError(f"check {name!r}: its Params model must set extra='forbid'")
        _REGISTRY[name] = CheckEntry(name=name, fn=fn, params=params)
        return fn

    return deco


def get(name: str) -> CheckEntry:
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(name) from None


def names() -> list[str]:
    _ensure_loaded()
    return sorted(_REGISTRY)


def _ensure_loaded() -> None:
    from auditor.engine import checks  # noqa: F401  (the one place check modules are imported)
