"""Engine-typed comparison of parameter values and baseline matchers.

AWS returns every parameter value as a string (DescribeDBClusterParameters `ParameterValue`) with a
`DataType` of boolean | integer | float | string | list. PostgreSQL itself accepts `on`, `true`, `yes`,
`1` for a boolean GUC (PostgreSQL docs, "Setting Parameters": boolean values), so a baseline saying
`rds.force_ssl: "1"`, `1`, `on` or `true` means the same thing. YAML 1.1 (PyYAML) also turns a bare
`on`/`off` into a Python bool, which is handled here too.
"""

from __future__ import annotations

import math
from typing import Any

from auditor.models.baseline import Matcher

_TRUE = {"1", "on", "true", "yes", "t", "y"}
_FALSE = {"0", "off", "false", "no", "f", "n"}


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    return None


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            n = float(value.strip())
        except ValueError:
            return None
        return n if math.isfinite(n) else None
    return None


def normalize(value: Any, data_type: str | None) -> Any:
    """The comparable form of a value, as the engine types it (None stays None)."""
    if value is None:
        return None
    dt = (data_type or "").lower()
    if dt == "boolean":
        b = as_bool(value)
        return b if b is not None else str(value)
    if dt in ("integer", "float"):
        n = as_number(value)
        if n is None:
            return str(value)
        return int(n) if n.is_integer() else n
    if dt == "list":
        items = [p.strip() for p in str(value).split(",") if p.strip()]
        return ",".join(items)
    if dt == "string":
        if isinstance(value, bool):  # YAML `on` / `off` for an enum-like string GUC
            return "on" if value else "off"
        return str(value)
    # DataType unknown (e.g. moto omits it): numbers compare numerically, then booleans, then text.
    n = as_number(value)
    if n is not None:
        return int(n) if n.is_integer() else n
    b = as_bool(value)
    if b is not None:
        return b
    return str(value)


def display(value: Any) -> Any:
    """How a normalized value is shown in drift (strings stay strings, e.g. "0")."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _num_or_none(value: Any, data_type: str | None) -> float | None:
    v = normalize(value, data_type)
    if isinstance(v, bool):
        return float(v)
    return float(v) if isinstance(v, int | float) else None


def matches(matcher: Matcher, actual: Any, data_type: str | None = None) -> bool:
    """True when `actual` satisfies every part of the matcher (exact, min, max, in, not)."""
    if actual is None:
        return False
    a = normalize(actual, data_type)
    if matcher.eq is not None and normalize(matcher.eq, data_type) != a:
        return False
    if matcher.min is not None or matcher.max is not None:
        n = _num_or_none(actual, data_type)
        if n is None:
            return False
        if matcher.min is not None and n < float(matcher.min):
            return False
        if matcher.max is not None and n > float(matcher.max):
            return False
    if matcher.in_ is not None and a not in {normalize(v, data_type) for v in matcher.in_}:
        return False
    if matcher.not_ is not None and normalize(matcher.not_, data_type) == a:
        return False
    return True


def describe(matcher: Matcher, data_type: str | None = None) -> Any:
    """The expected side of a drift item: the exact value, or the rule in words (">= 500")."""
    parts: list[str] = []
    if matcher.eq is not None:
        if matcher.is_exact:
            return display(normalize(matcher.eq, data_type))
        parts.append(f"= {display(normalize(matcher.eq, data_type))}")
    if matcher.min is not None:
        parts.append(f">= {display(matcher.min)}")
    if matcher.max is not None:
        parts.append(f"<= {display(matcher.max)}")
    if matcher.in_ is not None:
        parts.append("one of [" + ", ".join(str(display(normalize(v, data_type))) for v in matcher.in_) + "]")
    if matcher.not_ is not None:
        parts.append(f"not {display(normalize(matcher.not_, data_type))}")
    return " and ".join(parts)
