"""The one place check modules are imported (so their @register calls run exactly once)."""

from __future__ import annotations

from auditor.engine.checks import (  # noqa: F401
    availability,
    blue_green,
    blue_green_db,
    cluster,
    coverage,
    global_db,
    lifecycle,
    monitoring,
    parameters,
    proxy,
    slots,
)
