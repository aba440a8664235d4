"""Shared pytest set-up. Each service's fixtures live in their own plugin module."""

from __future__ import annotations

pytest_plugins = [
    "tests.plugins.moto_server",  # ThreadedMotoServer (+ sim front) on 127.0.0.1
    "tests.plugins.postgres",  # throwaway PostgreSQL servers on loopback
]
