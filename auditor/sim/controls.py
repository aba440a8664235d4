"""The typed control API of the simulated AWS, shared by `SimulatedAws` (in-process) and `SimControl` (HTTP).

A test that runs the CLI in a subprocess uses `SimControl(sim.endpoint_url)`: the same methods, sent as
JSON to the front server's `POST /_sim/call` endpoint.
"""

from __future__ import annotations

import json
import urllib.request
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class SimControls(ABC):
    """Overrides and faults. Subclasses implement `_apply(method, kwargs)`."""

    @abstractmethod
    def _apply(self, method: str, kwargs: dict[str, Any]) -> Any:
        """Carry out one control call: in-process (SimulatedAws) or over HTTP (SimControl)."""

    # ---------------------------------------------------------------- resource overrides

    def set_instance(
        self,
        region: str,
        instance_id: str,
        *,
        performance_insights: bool | None = None,
        performance_insights_kms_key_id: str | None = None,
        performance_insights_retention_days: int | None = None,
        monitoring_interval: int | None = None,
        parameter_apply_status: str | None = None,
        ca_certificate: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        """Fields DescribeDBInstances returns for this instance (moto omits PI and monitoring).

        `parameter_apply_status` sets every DBParameterGroups[].ParameterApplyStatus (e.g. pending-reboot);
        `fields` sets any other DBInstance member by its API name.
        """
        out: dict[str, Any] = dict(fields or {})
        if performance_insights is not None:
            out["PerformanceInsightsEnabled"] = performance_insights
        if performance_insights_kms_key_id is not None:
            out["PerformanceInsightsKMSKeyId"] = performance_insights_kms_key_id
        if performance_insights_retention_days is not None:
            out["PerformanceInsightsRetentionPeriod"] = performance_insights_retention_days
        if monitoring_interval is not None:
            out["MonitoringInterval"] = monitoring_interval
        if parameter_apply_status is not None:
            out["_ParameterApplyStatus"] = parameter_apply_status
        if ca_certificate is not None:
            out["CACertificateIdentifier"] = ca_certificate
        self._apply("set_instance", {"region": region, "instance_id": instance_id, "fields": out})

    def set_cluster(self, region: str, cluster_id: str, *, fields: dict[str, Any]) -> None:
        """Any DBCluster member by its API name, laid over what moto returns."""
        self._apply("set_cluster", {"region": region, "cluster_id": cluster_id, "fields": fields})

    def set_member_parameter_status(
        self, region: str, cluster_id: str, status: str, instance_id: str | None = None
    ) -> None:
        """DBClusterMembers[].DBClusterParameterGroupStatus (one member, or all when instance_id is None)."""
        self._apply(
            "set_member_parameter_status",
            {"region": region, "cluster_id": cluster_id, "instance_id": instance_id, "status": status},
        )

    def set_sync_status(self, global_cluster_id: str, cluster_arn: str, status: str) -> None:
        """GlobalClusterMembers[].SynchronizationStatus: connected | pending-resync."""
        self._apply(
            "set_sync_status",
            {"global_cluster_id": global_cluster_id, "cluster_arn": cluster_arn, "status": status},
        )

    def set_blue_green_status(
        self,
        bgd_id: str,
        status: str | None = None,
        *,
        status_details: str | None = None,
        switchover_status: str | None = None,
        tasks: list[dict[str, str]] | None = None,
    ) -> None:
        """Status (e.g. SWITCHOVER_FAILED), StatusDetails, every SwitchoverDetails[].Status, Tasks[]."""
        self._apply(
            "set_blue_green_status",
            {
                "bgd_id": bgd_id,
                "status": status,
                "status_details": status_details,
                "switchover_status": switchover_status,
                "tasks": tasks,
            },
        )

    def set_pending_maintenance(
        self,
        resource_arn: str,
        action: str = "system-update",
        *,
        description: str | None = None,
        auto_applied_after: datetime | str | None = None,
        forced_apply_date: datetime | str | None = None,
        current_apply_date: datetime | str | None = None,
        opt_in_status: str | None = None,
    ) -> None:
        """Add (or replace, per action) a pending maintenance action for a cluster or instance ARN."""
        self._apply(
            "set_pending_maintenance",
            {
                "resource_arn": resource_arn,
                "action": action,
                "description": description,
                "auto_applied_after": auto_applied_after,
                "forced_apply_date": forced_apply_date,
                "current_apply_date": current_apply_date,
                "opt_in_status": opt_in_status,
            },
        )

    def clear_pending_maintenance(self, resource_arn: str | None = None) -> None:
        self._apply("clear_pending_maintenance", {"resource_arn": resource_arn})

    def set_engine_version_status(self, version: str, status: str) -> None:
        """DescribeDBEngineVersions Status of an aurora-postgresql version: available | deprecated."""
        self._apply("set_engine_version_status", {"version": version, "status": status})

    def set_major_version_lifecycle(
        self,
        major: str,
        *,
        standard_start: str | None = None,
        standard_end: str | None = None,
        extended_start: str | None = None,
        extended_end: str | None = None,
    ) -> None:
        """Override a major version's lifecycle dates (ISO dates) in DescribeDBMajorEngineVersions."""
        dates = {
            k: v
            for k, v in (
                ("standard_start", standard_start),
                ("standard_end", standard_end),
                ("extended_start", extended_start),
                ("extended_end", extended_end),
            )
            if v is not None
        }
        self._apply("set_major_version_lifecycle", {"major": str(major), "dates": dates})

    def set_certificate(
        self,
        identifier: str,
        *,
        valid_till: datetime | str | None = None,
        valid_from: datetime | str | None = None,
    ) -> None:
        """Add or change a CA in DescribeCertificates (and instances' CertificateDetails.ValidTill)."""
        fields: dict[str, Any] = {}
        if valid_till is not None:
            fields["ValidTill"] = valid_till
        if valid_from is not None:
            fields["ValidFrom"] = valid_from
        self._apply("set_certificate", {"identifier": identifier, "fields": fields})

    def mark_aws_managed_key(self, key_arn: str) -> None:
        """Answer KMS DescribeKey for this key with KeyManager=AWS (moto has no AWS-managed keys)."""
        self._apply("mark_aws_managed_key", {"key_arn": key_arn})

    def clear_overrides(self) -> None:
        self._apply("clear_overrides", {})

    # ---------------------------------------------------------------- faults

    def fail_operation(
        self,
        operation: str,
        *,
        code: str = "AccessDenied",
        status: int = 403,
        message: str | None = None,
        region: str | None = None,
        count: int | None = None,
    ) -> None:
        """Answer `operation` ("*" = any) with an AWS error; `count` limits it to the next N calls."""
        self._apply(
            "fail_operation",
            {
                "operation": operation,
                "code": code,
                "status": status,
                "message": message,
                "region": region,
                "count": count,
            },
        )

    def deny(self, operation: str, *, region: str | None = None, count: int | None = None) -> None:
        """AccessDenied (HTTP 403) for an operation, as IAM answers a missing permission."""
        self.fail_operation(operation, code="AccessDenied", status=403, region=region, count=count)

    def fail_5xx(self, operation: str, *, count: int | None = None) -> None:
        self.fail_operation(operation, code="InternalFailure", status=500, count=count)

    def set_latency(self, ms: int, operation: str = "*") -> None:
        """Delay every call (or one operation's calls) by `ms` milliseconds."""
        self._apply("set_latency", {"ms": ms, "operation": operation})

    def set_throttling(self, rate: float, operations: list[str] | None = None) -> None:
        """Answer a deterministic fraction `rate` (0..1) of calls with Throttling (HTTP 400)."""
        self._apply("set_throttling", {"rate": rate, "operations": operations})

    def clear_faults(self) -> None:
        self._apply("clear_faults", {})


class SimControl(SimControls):
    """Drive a running SimulatedAws over HTTP (for a CLI running in a subprocess)."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")

    def _apply(self, method: str, kwargs: dict[str, Any]) -> Any:
        body = json.dumps({"method": method, "kwargs": _jsonable(kwargs)}).encode()
        req = urllib.request.Request(
            f"{self.endpoint_url}/_sim/call", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback only
            return json.loads(resp.read() or b"null")

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.endpoint_url}/_sim/state", timeout=10) as resp:  # noqa: S310
            return json.loads(resp.read())  # type: ignore[no-any-return]

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.endpoint_url}/_sim/reset", data=b"{}", method="POST")
        with urllib.request.urlopen(req, timeout=30):  # noqa: S310
            pass
