"""Which model fields a snapshot leaves empty everywhere (for the every-field-filled test)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, tuple | list | dict | str) and len(value) == 0:
        return False
    return True


def unfilled_fields(models: list[BaseModel]) -> set[tuple[str, str]]:
    """(Model, field) pairs that are empty in every instance of Model reachable from `models`."""
    seen: dict[str, dict[str, bool]] = {}

    def walk(m: BaseModel) -> None:
        name = type(m).__name__
        slot = seen.setdefault(name, {f: False for f in type(m).model_fields})
        for field in type(m).model_fields:
            value = getattr(m, field)
            slot[field] = slot[field] or _filled(value)
            children = (
                value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else [value]
            )
            for child in children:
                if isinstance(child, BaseModel):
                    walk(child)

    for m in models:
        walk(m)
    return {(model, field) for model, fields in seen.items() for field, ok in fields.items() if not ok}
