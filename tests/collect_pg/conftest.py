"""Helpers for the in-database collector tests (the servers come from tests/plugins/postgres.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auditor.collect.aws import AwsContext, AwsOptions
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


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsContext]:
    for var in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_RDS",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield AwsContext(AwsOptions(region=REGION))


def master_secret(aws: AwsContext, username: str, password: str) -> str:
    # Set-up writes through a plain client: the AwsContext's read-only guard refuses CreateSecret.
    sm = boto3.client("secretsmanager", region_name=REGION)
    arn = sm.create_secret(
        Name=f"rds!cluster-{uuid.uuid4()}",
        SecretString=json.dumps({"username": username, "password": password}),
    )["ARN"]
    return str(arn)


def endpoint_cluster(pg: Any, **kw: Any) -> Cluster:
    return make_cluster(endpoint="127.0.0.1", port=pg.port, database_name="postgres", **kw)


def capture_tokens(aws: AwsContext, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    rds = aws.client("rds", REGION)
    tokens: list[str] = []
    real = rds.generate_db_auth_token

    def recording(**kw: Any) -> str:
        token = real(**kw)
        tokens.append(token)
        return token

    monkeypatch.setattr(rds, "generate_db_auth_token", recording)
    return tokens
