"""Typed drift: deepdiff over expected-vs-actual structures, turned into DriftItem rows.

Checks build two plain structures (dicts of comparable values) and call `diff`. The drift shown to a
reviewer is exactly what deepdiff found — never the result of comparing rendered strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deepdiff import DeepDiff

from auditor.models.findings import DriftItem

_CHANGE = {
    "values_changed": "changed",
    "type_changes": "changed",
    "dictionary_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_added": "added",
    "iterable_item_removed": "removed",
    "set_item_added": "added",
    "set_item_removed": "removed",
}

_MISSING = "(not set)"


def _path(level: Any) -> str:
    parts = level.path(output_format="list")
    return ".".join(str(p) for p in parts) if parts else "(root)"


def _value(v: Any) -> Any:
    if type(v).__name__ == "NotPresent":
        return None
    return v


def diff(
    expected: dict[str, Any],
    actual: dict[str, Any],
    *,
    out_of_range: Iterable[str] = (),
    ignore_order: bool = True,
) -> list[DriftItem]:
    """Drift between two structures. Keys listed in `out_of_range` are range matchers: a change there
    is reported as `out-of-range` (the expected side then reads like ">= 500")."""
    if expected == actual:
        return []
    ranged = set(out_of_range)
    dd = DeepDiff(expected, actual, view="tree", ignore_order=ignore_order, verbose_level=2)
    items: list[DriftItem] = []
    for report_type, levels in dd.items():
        change = _CHANGE.get(report_type)
        if change is None:
            continue
        for level in levels:
            path = _path(level)
            exp, act = _value(level.t1), _value(level.t2)
            if change == "changed" and path in ranged:
                change_kind = "out-of-range"
            elif change == "changed" and act is None:
                change_kind = "removed"
            else:
                change_kind = change
            items.append(DriftItem(path=path, expected=exp, actual=act, change=change_kind))
    items.sort(key=lambda d: d.path)
    return items


def missing_marker() -> str:
    return _MISSING
