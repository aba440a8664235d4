"""AWS sessions for collection: read-only guard, call log, client cache, failure classification.

Every client made here refuses, before anything is signed or sent, any operation that is not in
`READ_ONLY_OPERATIONS` (the allow-list is also the source of the least-privilege IAM policy).
Calls are counted and timed per `service.Operation` through botocore's event hooks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.session
from botocore.config import Config
from botocore.parsers import ResponseParserError

from auditor.errors import CollectionFailed
from auditor.models.snapshot import CallStat, CollectionError

ROLE_SESSION_NAME = "aurora-audit"

# The only operations aurora-audit may call, per boto3 service name. Nothing here writes.
# rds GenerateDBAuthToken is local SigV4 presigning (no API call), so it never reaches these hooks.
READ_ONLY_OPERATIONS: Mapping[str, frozenset[str]] = {
    "sts": frozenset({"GetCallerIdentity", "AssumeRole"}),
    "rds": frozenset(
        {
            "DescribeDBClusters",
            "DescribeDBInstances",
            "DescribeDBClusterParameterGroups",
            "DescribeDBClusterParameters",
            "DescribeDBParameterGroups",
            "DescribeDBParameters",
            "DescribeGlobalClusters",
            "DescribeBlueGreenDeployments",
            "DescribeDBProxies",
            "DescribeDBProxyTargetGroups",
            "DescribeDBProxyTargets",
            "DescribeDBEngineVersions",
            "DescribeDBMajorEngineVersions",
            "DescribePendingMaintenanceActions",
            "DescribeCertificates",
            "ListTagsForResource",
        }
    ),
    "kms": frozenset({"DescribeKey"}),
    "secretsmanager": frozenset({"GetSecretValue"}),
    "cloudwatch": frozenset({"DescribeAlarms", "GetMetricStatistics", "GetMetricData"}),
    "application-autoscaling": frozenset({"DescribeScalableTargets", "DescribeScalingPolicies"}),
    "ec2": frozenset({"DescribeRegions"}),
}

# IAM service prefixes differ from boto3 service names in one case.
_IAM_PREFIX = {"application-autoscaling": "application-autoscaling", "cloudwatch": "cloudwatch"}


def iam_actions() -> list[str]:
    """The allow-list as IAM actions (`rds:DescribeDBClusters`, ...), for a least-privilege policy."""
    return sorted(
        f"{_IAM_PREFIX.get(svc, svc)}:{op}" for svc, ops in READ_ONLY_OPERATIONS.items() for op in ops
    )


class ReadOnlyViolation(RuntimeError):
    """An operation outside the read-only allow-list was attempted; it was refused before sending."""


@dataclass(frozen=True)
class AwsOptions:
    profile: str | None = None
    region: str | None = None
    role_arn: str | None = None
    endpoint_url: str | None = None


class CallLog:
    """Counts and times API calls per `service.Operation` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, int] = {}
        self._seconds: dict[str, float] = {}

    def started(self, operation: str) -> None:
        with self._lock:
            self._calls[operation] = self._calls.get(operation, 0) + 1

    def finished(self, operation: str, seconds: float) -> None:
        with self._lock:
            self._seconds[operation] = self._seconds.get(operation, 0.0) + seconds

    def count(self, operation: str) -> int:
        with self._lock:
            return self._calls.get(operation, 0)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._calls.items()))

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._calls.values())

    def mark(self) -> dict[str, tuple[int, float]]:
        """A point to measure from (see `stats(since=...)`): one context may serve several snapshots."""
        with self._lock:
            return {op: (n, self._seconds.get(op, 0.0)) for op, n in self._calls.items()}

    def stats(self, since: dict[str, tuple[int, float]] | None = None) -> list[CallStat]:
        since = since or {}
        with self._lock:
            out = []
            for op, n in sorted(self._calls.items()):
                n0, s0 = since.get(op, (0, 0.0))
                if n - n0 > 0:
                    out.append(
                        CallStat(
                            operation=op, calls=n - n0, seconds=round(self._seconds.get(op, 0.0) - s0, 6)
                        )
                    )
            return out


_START_KEY = "aurora_audit_started"


def install_hooks(client: Any, call_log: CallLog) -> None:
    """Read-only guard + call log on one client's event system."""

    # provide-client-params is the first event of every API call and is emitted to every handler (never
    # short-circuited): nothing is validated, signed or sent yet. Refuse there; count and time from there.
    def guard(model: Any = None, context: Any = None, **_: Any) -> None:
        service = model.service_model.service_name
        if model.name not in READ_ONLY_OPERATIONS.get(service, frozenset()):
            raise ReadOnlyViolation(
                f"refused {service}:{model.name} before sending: aurora-audit only calls read operations"
            )
        op = f"{service}.{model.name}"
        call_log.started(op)
        if context is not None:
            context[_START_KEY] = (op, time.monotonic())

    # after-call carries the model; after-call-error (connection failures) only the request context.
    def after(context: Any = None, **_: Any) -> None:
        started = (context or {}).pop(_START_KEY, None)
        if started is not None:
            call_log.finished(started[0], time.monotonic() - started[1])

    events = client.meta.events
    events.register_first("provide-client-params", guard, unique_id="aurora-audit-guard")
    events.register("after-call", after, unique_id="aurora-audit-calllog-after")
    events.register("after-call-error", after, unique_id="aurora-audit-calllog-error")


DEFAULT_MAX_ATTEMPTS = 8  # botocore "standard" retry mode: throttling and transient errors, with backoff


class AwsContext:
    """A session (optionally via AssumeRole), clients cached per (service, region), hooks on each."""

    def __init__(
        self,
        options: AwsOptions,
        call_log: CallLog | None = None,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.options = options
        self._config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts}, connect_timeout=5, read_timeout=30
        )
        self.call_log = call_log if call_log is not None else CallLog()
        self._lock = threading.RLock()
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._session: boto3.Session | None = None
        self._account_id: str | None = None

    # boto3 sessions are not thread-safe: every client is created under the lock.
    def _base_session(self) -> boto3.Session:
        try:
            return boto3.Session(profile_name=self.options.profile, region_name=self.options.region)
        except botocore.exceptions.ProfileNotFound as exc:
            raise CollectionFailed(f"AWS profile not found: {exc}; check --profile / AWS_PROFILE") from exc

    def _make_client(self, session: boto3.Session, service: str, region: str | None) -> Any:
        kwargs: dict[str, Any] = {"config": self._config}
        if region:
            kwargs["region_name"] = region
        if self.options.endpoint_url:
            kwargs["endpoint_url"] = self.options.endpoint_url
        client = session.client(service, **kwargs)
        install_hooks(client, self.call_log)
        return client

    @property
    def session(self) -> boto3.Session:
        with self._lock:
            if self._session is None:
                base = self._base_session()
                if self.options.role_arn:
                    sts = self._make_client(base, "sts", self.options.region or base.region_name)
                    base = self._assumed_role_session(sts, self.options.region or base.region_name)
                self._session = base
            return self._session

    def _assumed_role_session(self, sts: Any, region: str | None) -> boto3.Session:
        """A session on the role's credentials, refreshed by AssumeRole again before they expire (a nightly
        fleet run can outlast the default one-hour role session; botocore's RefreshableCredentials renews
        them on use)."""
        role_arn = self.options.role_arn

        def assume() -> dict[str, str]:
            try:
                creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
            except botocore.exceptions.NoCredentialsError as exc:
                raise no_credentials(exc) from exc
            except botocore.exceptions.ClientError as exc:
                raise CollectionFailed(
                    f"could not assume role {role_arn}: {error_code(exc)}: {error_message(exc)}"
                ) from exc
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": creds["Expiration"].isoformat(),
            }

        refreshable = botocore.credentials.RefreshableCredentials.create_from_metadata(
            metadata=assume(), refresh_using=assume, method="sts-assume-role"
        )
        core = botocore.session.get_session()
        core._credentials = refreshable  # the documented-by-practice way to hand a session refreshable creds
        if region:
            core.set_config_variable("region", region)
        return boto3.Session(botocore_session=core)

    @property
    def default_region(self) -> str | None:
        return self.options.region or self.session.region_name

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.default_region
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._make_client(self.session, service, region)
                self._clients[key] = client
            return client

    @property
    def account_id(self) -> str:
        with self._lock:
            if self._account_id is None:
                try:
                    self._account_id = self.client("sts").get_caller_identity()["Account"]
                except botocore.exceptions.NoCredentialsError as exc:
                    raise no_credentials(exc) from exc
            return self._account_id


# ---------------------------------------------------------------- failures as data


def no_credentials(exc: Exception) -> CollectionFailed:
    return CollectionFailed(
        "no AWS credentials found: configure a profile (--profile / AWS_PROFILE), environment credentials "
        "or an instance role, then retry"
    )


def error_code(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    if isinstance(exc, ResponseParserError):
        # moto answers an unimplemented operation with HTTP 500 and a body botocore cannot parse
        return "UnknownOperation"
    if isinstance(exc, NotImplementedError):
        return "UnknownOperation"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectTimeoutError):
        return "EndpointUnreachable"
    if isinstance(exc, botocore.exceptions.ReadTimeoutError):
        return "ReadTimeout"
    if isinstance(exc, ReadOnlyViolation):
        return "ReadOnlyViolation"
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        msg = exc.response.get("Error", {}).get("Message") or str(exc)
    else:
        msg = str(exc) or type(exc).__name__
    return " ".join(str(msg).split())[:500]


# Exceptions that mean "this read failed": recorded as CollectionError, collection goes on.
COLLECTION_EXCEPTIONS: tuple[type[BaseException], ...] = (
    botocore.exceptions.ClientError,
    botocore.exceptions.BotoCoreError,
    ResponseParserError,  # moto server: HTTP 500 for an unimplemented operation
    NotImplementedError,  # moto in-process, for operations it does not implement
)


def collection_error(
    exc: BaseException,
    *,
    resource: str,
    kind: str | None,
    operation: str,
    region: str | None,
    account: str | None = None,
    cluster: str | None = None,
) -> CollectionError:
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        raise no_credentials(exc) from exc
    return CollectionError(
        resource=resource,
        resource_kind=kind,
        operation=operation,
        region=region,
        account=account,
        cluster=cluster,
        code=error_code(exc),
        message=error_message(exc),
    )
