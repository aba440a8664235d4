"""Gate test fixtures: the simulated AWS (aws_env) plus two real PostgreSQL servers, blue and green."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.plugins.postgres import PgServer


@pytest.fixture()
def writers(pg_server_factory: Callable[[str], PgServer]) -> Iterator[tuple[PgServer, PgServer]]:
    """(blue, green) PostgreSQL servers standing in for the two writers; cleaned after each test."""
    blue, green = pg_server_factory("blue"), pg_server_factory("green")
    yield blue, green
    for s in (green, blue):  # green first: its subscriptions use blue's slots
        for (sub,) in s.execute("SELECT subname FROM pg_subscription"):
            s.execute(
                f'ALTER SUBSCRIPTION "{sub}" DISABLE',
                f'ALTER SUBSCRIPTION "{sub}" SET (slot_name = NONE)',
                f'DROP SUBSCRIPTION "{sub}"',
            )
        s.reset()
