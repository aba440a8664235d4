"""What the simulated AWS knows beyond moto: per-resource overrides and fault-injection settings.

One `SimState` per `SimulatedAws`, shared by the front server's threads (guarded by a lock). Every
change arrives through `apply(method, kwargs)` — from Python (`SimulatedAws.set_*`) or from the JSON
control endpoint (`SimControl`) — so both paths behave the same.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
    text = str(value)
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Fault:
    operation: str  # an operation name (DescribeDBClusters) or "*"
    code: str
    status: int
    message: str
    region: str | None = None
    remaining: int | None = None  # None: every matching call


@dataclass
class SimState:
    lock: threading.RLock = field(default_factory=threading.RLock)
    instances: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    clusters: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    member_status: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    sync_status: dict[str, dict[str, str]] = field(default_factory=dict)
    blue_green: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # resource ARN -> actions
    version_status: dict[str, str] = field(default_factory=dict)
    lifecycle: dict[str, dict[str, str]] = field(default_factory=dict)
    certificates: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    latency_ms: dict[str, int] = field(default_factory=dict)  # operation or "*" -> ms
    throttle_rate: float = 0.0
    throttle_ops: tuple[str, ...] | None = None
    _throttle_acc: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)  # operation -> calls seen by the front
    aws_managed_keys: set[str] = field(default_factory=set)  # KMS key ARNs answered as KeyManager=AWS

    METHODS = (
        "set_instance",
        "set_cluster",
        "set_member_parameter_status",
        "set_sync_status",
        "set_blue_green_status",
        "set_pending_maintenance",
        "clear_pending_maintenance",
        "set_engine_version_status",
        "set_major_version_lifecycle",
        "set_certificate",
        "fail_operation",
        "set_latency",
        "set_throttling",
        "clear_faults",
        "clear_overrides",
        "mark_aws_managed_key",
    )

    def apply(self, method: str, kwargs: dict[str, Any]) -> Any:
        if method not in self.METHODS:
            raise ValueError(f"unknown sim control method {method!r}")
        with self.lock:
            return getattr(self, "_" + method)(**kwargs)

    # ---------------------------------------------------------------- overrides

    def _set_instance(self, region: str, instance_id: str, fields: dict[str, Any]) -> None:
        self.instances.setdefault((region, instance_id), {}).update(fields)

    def _set_cluster(self, region: str, cluster_id: str, fields: dict[str, Any]) -> None:
        self.clusters.setdefault((region, cluster_id), {}).update(fields)

    def _set_member_parameter_status(
        self, region: str, cluster_id: str, instance_id: str | None, status: str
    ) -> None:
        self.member_status.setdefault((region, cluster_id), {})[instance_id or "*"] = status

    def _set_sync_status(self, global_cluster_id: str, cluster_arn: str, status: str) -> None:
        self.sync_status.setdefault(global_cluster_id, {})[cluster_arn] = status

    def _set_blue_green_status(
        self,
        bgd_id: str,
        status: str | None = None,
        status_details: str | None = None,
        switchover_status: str | None = None,
        tasks: list[dict[str, str]] | None = None,
    ) -> None:
        o = self.blue_green.setdefault(bgd_id, {})
        if status is not None:
            o["Status"] = status
        if status_details is not None:
            o["StatusDetails"] = status_details
        if switchover_status is not None:
            o["_switchover_status"] = switchover_status
        if tasks is not None:
            o["Tasks"] = [dict(t) for t in tasks]

    def _set_pending_maintenance(
        self,
        resource_arn: str,
        action: str,
        description: str | None = None,
        auto_applied_after: Any = None,
        forced_apply_date: Any = None,
        current_apply_date: Any = None,
        opt_in_status: str | None = None,
    ) -> None:
        entry: dict[str, Any] = {"Action": action}
        for key, value in (
            ("AutoAppliedAfterDate", as_datetime(auto_applied_after)),
            ("ForcedApplyDate", as_datetime(forced_apply_date)),
            ("CurrentApplyDate", as_datetime(current_apply_date)),
            ("OptInStatus", opt_in_status),
            ("Description", description),
        ):
            if value is not None:
                entry[key] = value
        actions = [a for a in self.pending.get(resource_arn, []) if a["Action"] != action]
        self.pending[resource_arn] = actions + [entry]

    def _clear_pending_maintenance(self, resource_arn: str | None = None) -> None:
        if resource_arn is None:
            self.pending.clear()
        else:
            self.pending.pop(resource_arn, None)

    def _set_engine_version_status(self, version: str, status: str) -> None:
        self.version_status[version] = status

    def _set_major_version_lifecycle(self, major: str, dates: dict[str, str]) -> None:
        self.lifecycle.setdefault(str(major), {}).update(dates)

    def _set_certificate(self, identifier: str, fields: dict[str, Any]) -> None:
        clean = {k: (as_datetime(v) if k in ("ValidFrom", "ValidTill") else v) for k, v in fields.items()}
        self.certificates.setdefault(identifier, {}).update(clean)

    def _mark_aws_managed_key(self, key_arn: str) -> None:
        self.aws_managed_keys.add(key_arn)

    def _clear_overrides(self) -> None:
        for store in (
            self.instances,
            self.clusters,
            self.member_status,
            self.sync_status,
            self.blue_green,
            self.pending,
            self.version_status,
            self.lifecycle,
            self.certificates,
        ):
            store.clear()
        self.calls.clear()
        self.aws_managed_keys.clear()

    # ---------------------------------------------------------------- faults

    def _fail_operation(
        self,
        operation: str,
        code: str = "AccessDenied",
        status: int = 403,
        message: str | None = None,
        region: str | None = None,
        count: int | None = None,
    ) -> None:
        msg = message or (
            "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: {service}:"
            + operation
            if code.startswith("AccessDenied")
            else f"simulated {code}"
        )
        self.faults.append(Fault(operation, code, int(status), msg, region, count))

    def _set_latency(self, ms: int, operation: str = "*") -> None:
        self.latency_ms[operation] = int(ms)

    def _set_throttling(self, rate: float, operations: list[str] | None = None) -> None:
        self.throttle_rate = float(rate)
        self.throttle_ops = tuple(operations) if operations else None
        self._throttle_acc = 0.0

    def _clear_faults(self) -> None:
        self.faults.clear()
        self.latency_ms.clear()
        self.throttle_rate = 0.0
        self.throttle_ops = None
        self._throttle_acc = 0.0

    def check_faults(self, operation: str | None, region: str | None) -> Fault | None:
        """Count the call, sleep any injected latency, and return the fault to answer with (or None).

        Throttling is deterministic (an accumulator, not a random draw): rate 0.25 throttles exactly one
        call in four, so tests can count retries.
        """
        op = operation or "?"
        with self.lock:
            self.calls[op] = self.calls.get(op, 0) + 1
            delay = self.latency_ms.get(op, self.latency_ms.get("*", 0))
            hit: Fault | None = None
            for f in self.faults:
                if f.operation not in ("*", op) or (f.region and f.region != region):
                    continue
                if f.remaining is not None:
                    if f.remaining <= 0:
                        continue
                    f.remaining -= 1
                hit = f
                break
            if (
                hit is None
                and self.throttle_rate > 0
                and (self.throttle_ops is None or op in self.throttle_ops)
            ):
                self._throttle_acc += self.throttle_rate
                if self._throttle_acc >= 1.0:
                    self._throttle_acc -= 1.0
                    hit = Fault(op, "Throttling", 400, "Rate exceeded")
        if delay:
            time.sleep(delay / 1000.0)
        return hit

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-able data (GET /_sim/state)."""
        with self.lock:
            return {
                "instances": {f"{r}/{i}": v for (r, i), v in self.instances.items()},
                "clusters": {f"{r}/{c}": v for (r, c), v in self.clusters.items()},
                "member_status": {f"{r}/{c}": v for (r, c), v in self.member_status.items()},
                "sync_status": self.sync_status,
                "blue_green": self.blue_green,
                "pending": self.pending,
                "faults": [f.__dict__ for f in self.faults],
                "latency_ms": self.latency_ms,
                "throttle_rate": self.throttle_rate,
                "calls": dict(self.calls),
            }
