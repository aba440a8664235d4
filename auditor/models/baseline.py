"""The approved state (`aurora-audit/baseline/v1`): what users write, review and extend.

Every key is optional; a rule whose key is absent is `skipped` and says which key enables it.
Unknown keys are errors (extra="forbid"), reported by the loader with file:line.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

BASELINE_SCHEMA: Literal["aurora-audit/baseline/v1"] = "aurora-audit/baseline/v1"

Scalar = bool | int | float | str


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Matcher(_Section):
    """A plain value (exact, compared as the engine types it) or {min|max|in|not}."""

    eq: Scalar | None = None
    min: float | None = None
    max: float | None = None
    in_: tuple[Scalar, ...] | None = Field(default=None, alias="in")
    not_: Scalar | None = Field(default=None, alias="not")

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, data: Any) -> Any:
        if isinstance(data, bool | int | float | str):
            return {"eq": data}
        if isinstance(data, dict):
            if not data:
                raise ValueError("an empty matcher; write a value or one of {min, max, in, not}")
            if "eq" in data:
                raise ValueError('write the exact value directly (`name: "1"`), not {eq: ...}')
            return data
        if data is None:
            raise ValueError("a parameter needs a value or a matcher {min, max, in, not}")
        if isinstance(data, list):
            raise ValueError("a list is not a matcher; use {in: [...]} for a set of allowed values")
        return data

    @property
    def is_exact(self) -> bool:
        return (
            self.eq is not None
            and self.min is None
            and self.max is None
            and not self.in_
            and self.not_ is None
        )

    def to_yaml(self) -> Any:
        if self.is_exact:
            return self.eq
        return self.model_dump(by_alias=True, exclude_none=True, exclude={"eq"}) | (
            {} if self.eq is None else {"eq": self.eq}
        )


class ClusterBaseline(_Section):
    deletion_protection: bool | None = None
    backup_retention_days_min: int | None = Field(default=None, ge=1, le=35)
    storage_encrypted: bool | None = None
    kms_customer_managed: bool | None = None
    iam_auth: bool | None = None
    managed_master_password: bool | None = None
    log_exports: tuple[str, ...] | None = None
    copy_tags_to_snapshot: bool | None = None
    engine_eol_warn_days: int | None = Field(default=None, ge=0)
    maintenance_forced_apply_warn_days: int | None = Field(default=None, ge=0)
    certificate_expiry_warn_days: int | None = Field(default=None, ge=0)
    custom_parameter_groups: bool | None = None


class InstancesBaseline(_Section):
    min_readers: int | None = Field(default=None, ge=0)
    min_azs: int | None = Field(default=None, ge=1)
    allow_burstable: bool | None = None
    performance_insights: bool | None = None
    performance_insights_kms: bool | None = None
    max_replica_lag_ms: float | None = Field(default=None, ge=0)


class ProxyBaseline(_Section):
    required: bool | None = None
    require_tls: bool | None = None
    iam_auth: Literal["REQUIRED", "ENABLED", "DISABLED"] | None = None
    max_connections_percent: Matcher | None = None
    max_idle_connections_percent: Matcher | None = None
    connection_borrow_timeout: Matcher | None = None


class AutoscalingBaseline(_Section):
    min_capacity: int | None = Field(default=None, ge=0)
    max_capacity: int | None = Field(default=None, ge=0)
    serverless_v2_min_acu: float | None = Field(default=None, ge=0)
    serverless_v2_max_acu: float | None = Field(default=None, ge=0)


class ReplicationSlotsBaseline(_Section):
    allowed: tuple[str, ...] | None = None
    max_retained_wal_bytes: int | None = Field(default=None, ge=0)
    max_slot_usage_percent: float | None = Field(default=None, gt=0, le=100)


class GlobalDatabaseBaseline(_Section):
    min_secondaries: int | None = Field(default=None, ge=0)
    max_lag_ms: float | None = Field(default=None, ge=0)
    allow_headless: bool | None = None


class BlueGreenBaseline(_Section):
    max_transaction_age_s: float | None = Field(default=None, ge=0)


class BaselineBody(_Section):
    description: str | None = None
    cluster: ClusterBaseline = Field(default_factory=ClusterBaseline)
    instances: InstancesBaseline = Field(default_factory=InstancesBaseline)
    proxy: ProxyBaseline = Field(default_factory=ProxyBaseline)
    autoscaling: AutoscalingBaseline = Field(default_factory=AutoscalingBaseline)
    alarms: tuple[str, ...] | None = None
    cluster_parameters: dict[str, Matcher] | None = None
    db_parameters: dict[str, Matcher] | None = None
    replication_slots: ReplicationSlotsBaseline = Field(default_factory=ReplicationSlotsBaseline)
    global_database: GlobalDatabaseBaseline = Field(default_factory=GlobalDatabaseBaseline)
    blue_green: BlueGreenBaseline = Field(default_factory=BlueGreenBaseline)


class BaselineFile(BaselineBody):
    """One baseline file as written (validated alone, before `extends` is resolved)."""

    schema_: Literal["aurora-audit/baseline/v1"] = Field(alias="schema")
    extends: str | tuple[str, ...] | None = None


class Baseline(BaselineBody):
    """The merged, effective baseline the engine reads."""

    schema_: Literal["aurora-audit/baseline/v1"] = Field(default=BASELINE_SCHEMA, alias="schema")
    # Files merged to make it, in order (base first). Not a YAML key: set by the loader.
    sources: tuple[str, ...] = ()
