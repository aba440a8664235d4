"""In-process moto for the AWS collector tests (the moto-server `sim` fixtures live in tests/plugins)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from auditor.collect.aws import AwsContext, AwsOptions


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.fixture
def ctx(moto_env: None) -> AwsContext:
    return AwsContext(AwsOptions(region="us-east-1"))
