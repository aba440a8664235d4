"""Helpers for the in-database collector tests (the servers come from tests/plugins/postgres.py)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from auditor.models.snapshot import Cluster, ClusterMember

REGION = "us-east-1"


def make_cluster(cluster_id: str = "prod-app", **kw: Any) -> Cluster:
    fields: dict[str, Any] = {
        "id": cluster_id,
        "region": REGION,
        "engine": "aurora-postgresql",
        "engine_version": "15.4",
        "members": (
            ClusterMember(instance_id=f"{cluster_id}-1", is_writer=True),
            ClusterMember(instance_id=f"{cluster_id}-2", is_writer=False),
        ),
    }
    fields.update(kw)
    return Cluster(**fields)


def make_wal(pg: Any, segments: int) -> None:
    """Move the WAL insert position across `segments` segment boundaries (pg_switch_wal needs some WAL
    written since the previous switch, hence the insert)."""
    pg.execute("CREATE TABLE IF NOT EXISTS walgen (id serial PRIMARY KEY, v int)")
    for _ in range(segments):
        pg.execute("INSERT INTO walgen (v) VALUES (1)", "SELECT pg_switch_wal()")


def wait_for(predicate: Any, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.fixture()
def recvlogical(pg: Any) -> Iterator[Any]:
    """Start a real `pg_recvlogical` consuming a slot; stopped (by its own pid) after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(slot: str) -> subprocess.Popen[bytes]:
        binary = os.path.join(pg.bindir, "pg_recvlogical")
        proc = subprocess.Popen(
            [binary, "-d", pg.dsn(), "--slot", slot, "--start", "-f", "/dev/null", "--no-loop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        procs.append(proc)
        wait_for(
            lambda: (
                pg.execute(f"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'") == [(True,)]
            )
        )
        return proc

    yield start
    for p in procs:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
