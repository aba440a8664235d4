"""The AWS context: read-only guard, call log, client cache, credentials, failure classification."""

from __future__ import annotations

import threading

import boto3
import botocore.exceptions
import pytest
from botocore.parsers import ResponseParserError
from moto import mock_aws

from auditor.collect.aws import (
    READ_ONLY_OPERATIONS,
    AwsContext,
    AwsOptions,
    ReadOnlyViolation,
    error_code,
    iam_actions,
)
from auditor.collect.topology import collect_snapshot
from auditor.errors import CollectionFailed


def test_allow_list_names_only_real_read_operations() -> None:
    session = boto3.Session(region_name="us-east-1")
    for service, ops in READ_ONLY_OPERATIONS.items():
        model = session.client(service).meta.service_model
        for op in ops:
            assert op in model.operation_names, f"{service}:{op} is not a {service} operation"
            assert op.startswith(("Describe", "List", "Get")) or op == "AssumeRole", op
    actions = iam_actions()
    assert "rds:DescribeDBClusters" in actions and "kms:DescribeKey" in actions
    assert not [a for a in actions if ":Delete" in a or ":Modify" in a or ":Create" in a]


def _sent_counter(client) -> list[str]:  # noqa: ANN001
    sent: list[str] = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    return sent


def test_guard_refuses_writes_before_sending(ctx: AwsContext) -> None:
    raw = boto3.client("rds", "us-east-1")
    raw.create_db_cluster(
        DBClusterIdentifier="c1",
        Engine="aurora-postgresql",
        MasterUsername="u",
        MasterUserPassword="password123",
    )
    rds = ctx.client("rds", "us-east-1")
    sent = _sent_counter(rds)
    with pytest.raises(ReadOnlyViolation, match="DeleteDBCluster"):
        rds.delete_db_cluster(DBClusterIdentifier="c1", SkipFinalSnapshot=True)
    with pytest.raises(ReadOnlyViolation):
        rds.modify_db_cluster(DBClusterIdentifier="c1", DeletionProtection=False)
    with pytest.raises(ReadOnlyViolation):
        ctx.client("kms", "us-east-1").create_key()
    with pytest.raises(ReadOnlyViolation):
        ctx.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=["x"])
    assert sent == []  # nothing left the process
    assert raw.describe_db_clusters(DBClusterIdentifier="c1")["DBClusters"]  # still there
    assert ctx.call_log.total == 0  # refused calls are not counted as calls
    rds.describe_db_clusters()
    assert len(sent) == 1 and ctx.call_log.counts() == {"rds.DescribeDBClusters": 1}


def test_call_log_counts_concurrent_calls_exactly(ctx: AwsContext) -> None:
    rds = ctx.client("rds", "us-east-1")
    cw = ctx.client("cloudwatch", "us-east-1")

    def work() -> None:
        for _ in range(5):
            rds.describe_db_clusters()
            cw.describe_alarms()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert ctx.call_log.counts() == {"cloudwatch.DescribeAlarms": 30, "rds.DescribeDBClusters": 30}
    assert ctx.call_log.total == 60
    stats = {s.operation: s for s in ctx.call_log.stats()}
    assert stats["rds.DescribeDBClusters"].calls == 30 and stats["rds.DescribeDBClusters"].seconds > 0
    mark = ctx.call_log.mark()
    rds.describe_db_clusters()
    assert [(s.operation, s.calls) for s in ctx.call_log.stats(since=mark)] == [("rds.DescribeDBClusters", 1)]


def test_clients_cached_per_service_and_region(ctx: AwsContext) -> None:
    assert ctx.client("rds", "us-east-1") is ctx.client("rds", "us-east-1")
    assert ctx.client("rds", "us-east-1") is not ctx.client("rds", "eu-west-1")
    assert ctx.client("rds") is ctx.client("rds", "us-east-1")  # default region from the options
    cfg = ctx.client("rds", "eu-west-1").meta.config
    # botocore reads Config(retries={"max_attempts": 8}) as 8 retries: 9 attempts in all.
    assert cfg.retries == {"mode": "standard", "total_max_attempts": 9}


def test_assume_role_uses_the_audit_session_name(moto_env: None) -> None:
    ctx = AwsContext(AwsOptions(region="us-east-1", role_arn="arn:aws:iam::111122223333:role/auditor"))
    assert ctx.account_id == "111122223333"
    arn = ctx.client("sts").get_caller_identity()["Arn"]
    assert arn.endswith("assumed-role/auditor/aurora-audit")
    assert ctx.call_log.count("sts.AssumeRole") == 1


def test_assumed_role_credentials_are_refreshed_before_they_expire(moto_env: None) -> None:
    from datetime import UTC, datetime, timedelta

    ctx = AwsContext(AwsOptions(region="us-east-1", role_arn="arn:aws:iam::111122223333:role/auditor"))
    assert ctx.account_id == "111122223333"
    creds = ctx.session.get_credentials()
    first = creds.get_frozen_credentials().access_key
    creds._expiry_time = datetime.now(UTC) + timedelta(seconds=30)  # a long fleet run nears the hour
    assert creds.get_frozen_credentials().access_key != first
    assert ctx.call_log.count("sts.AssumeRole") == 2


def test_no_credentials_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    ctx = AwsContext(AwsOptions(region="us-east-1", endpoint_url="http://127.0.0.1:9"), max_attempts=1)
    with pytest.raises(CollectionFailed) as info:
        collect_snapshot(ctx, "us-east-1", ["prod-app"])
    assert "no AWS credentials" in str(info.value) and "\n" not in str(info.value)


def test_unreachable_endpoint_fails_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ctx = AwsContext(AwsOptions(region="us-east-1", endpoint_url="http://127.0.0.1:9"), max_attempts=1)
    with pytest.raises(CollectionFailed, match="cannot reach the RDS endpoint for us-east-1"):
        collect_snapshot(ctx, "us-east-1", ["prod-app"])


def test_failure_classification() -> None:
    denied = botocore.exceptions.ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeDBProxies"
    )
    assert error_code(denied) == "AccessDenied"
    assert error_code(ResponseParserError("500 body")) == "UnknownOperation"
    assert error_code(NotImplementedError("not implemented")) == "UnknownOperation"
    assert (
        error_code(botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"))
        == "EndpointUnreachable"
    )


def test_endpoint_url_option_is_used(moto_env: None) -> None:
    ctx = AwsContext(AwsOptions(region="us-east-1", endpoint_url="http://127.0.0.1:4566"))
    assert ctx.client("rds").meta.endpoint_url == "http://127.0.0.1:4566"


@mock_aws
def test_account_id_is_lazy_and_cached(moto_env: None) -> None:
    ctx = AwsContext(AwsOptions(region="us-east-1"))
    assert ctx.call_log.total == 0
    assert ctx.account_id == ctx.account_id == "123456789012"
    assert ctx.call_log.count("sts.GetCallerIdentity") == 1
