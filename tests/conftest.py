"""Shared pytest set-up. Each service's fixtures live in their own plugin module."""

from __future__ import annotations

pytest_plugins = [
    "tests.plugins.moto_server",  # ThreadedMotoServer (+ sim front) on 127.0.0.1
    "tests.plugins.postgres",  # throwaway PostgreSQL servers on loopback
]

# Property-based tests explore new examples on every developer run; in CI they replay a fixed set
# (derandomize) so a submission's result does not depend on the draw. Failures found locally are
# kept in hypothesis' example database and become regression cases.
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")
