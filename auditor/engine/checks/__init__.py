"""The one place check modules are imported (so their @register calls run exactly once)."""

from __future__ import annotations

import importlib
import importlib.util

from auditor.engine.checks import availability, cluster, global_db, monitoring, parameters, slots  # noqa: F401

# Blue/green gate checks (BG01–BG09) live in checks/blue_green.py (another issue);
# imported here once it exists.
if importlib.util.find_spec("auditor.engine.checks.blue_green") is not None:
    importlib.import_module("auditor.engine.checks.blue_green")
