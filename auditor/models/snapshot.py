"""The Snapshot: everything collected about an Aurora topology, as typed, frozen data.

Collectors (auditor/collect) build it; the engine (auditor/engine) reads it and nothing else.
AWS types are converted once, in the collectors: parameter values are typed by their `DataType`,
timestamps are timezone-aware datetimes, absent AWS fields stay `None` (never guessed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SNAPSHOT_SCHEMA: Literal["aurora-audit/snapshot/v1"] = "aurora-audit/snapshot/v1"

ParamValue = bool | int | float | str | None


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# ---------------------------------------------------------------- clusters and instances


class ClusterMember(Frozen):
    instance_id: str
    is_writer: bool
    promotion_tier: int | None = None
    # DBClusterMembers[].DBClusterParameterGroupStatus: in-sync | pending-reboot | applying
    parameter_group_status: str | None = None


class ServerlessV2Scaling(Frozen):
    min_capacity: float | None = None
    max_capacity: float | None = None


class MasterUserSecret(Frozen):
    secret_arn: str | None = None
    status: str | None = None
    kms_key_id: str | None = None


class CertificateInfo(Frozen):
    ca_identifier: str | None = None
    valid_till: datetime | None = None


class Cluster(Frozen):
    id: str
    arn: str | None = None
    region: str
    account: str | None = None
    engine: str
    engine_version: str
    engine_mode: str | None = None
    status: str | None = None
    deletion_protection: bool | None = None
    backup_retention_days: int | None = None
    storage_encrypted: bool | None = None
    kms_key_id: str | None = None
    # "CUSTOMER" or "AWS" (KMS DescribeKey KeyManager); None when not encrypted or not readable.
    kms_key_manager: str | None = None
    iam_auth: bool | None = None
    master_user_secret: MasterUserSecret | None = None
    log_exports: tuple[str, ...] = ()
    copy_tags_to_snapshot: bool | None = None
    serverless_v2: ServerlessV2Scaling | None = None
    endpoint: str | None = None
    reader_endpoint: str | None = None
    port: int | None = None
    master_username: str | None = None
    database_name: str | None = None
    availability_zones: tuple[str, ...] = ()
    parameter_group: str | None = None  # DBClusterParameterGroup (name)
    members: tuple[ClusterMember, ...] = ()
    global_cluster_id: str | None = None
    replication_source: str | None = None
    auto_minor_version_upgrade: bool | None = None
    certificate: CertificateInfo | None = None
    performance_insights_enabled: bool | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    # Why this cluster is in the snapshot: the audited target, a blue/green green cluster,
    # or a Global Database member collected in its own region.
    role: Literal["target", "green", "global-member"] = "target"


class ParameterGroupRef(Frozen):
    name: str
    apply_status: str | None = None  # DBParameterGroups[].ParameterApplyStatus


class Instance(Frozen):
    id: str
    arn: str | None = None
    region: str
    account: str | None = None
    cluster_id: str | None = None
    instance_class: str
    engine: str | None = None
    engine_version: str | None = None
    status: str | None = None
    availability_zone: str | None = None
    promotion_tier: int | None = None
    is_writer: bool | None = None
    performance_insights_enabled: bool | None = None
    performance_insights_kms_key_id: str | None = None
    performance_insights_retention_days: int | None = None
    monitoring_interval: int | None = None
    parameter_groups: tuple[ParameterGroupRef, ...] = ()
    auto_minor_version_upgrade: bool | None = None
    publicly_accessible: bool | None = None
    certificate: CertificateInfo | None = None
    tags: dict[str, str] = Field(default_factory=dict)


# ---------------------------------------------------------------- parameter groups


class Parameter(Frozen):
    name: str
    raw_value: str | None = None  # ParameterValue exactly as AWS returned it
    value: ParamValue = None  # typed by DataType (boolean/integer/float/string/list)
    source: str | None = None  # engine-default | system | user
    apply_type: str | None = None  # static | dynamic
    data_type: str | None = None
    allowed_values: str | None = None
    is_modifiable: bool | None = None
    apply_method: str | None = None


class ParameterGroup(Frozen):
    kind: Literal["cluster", "db"]
    name: str
    region: str
    account: str | None = None
    arn: str | None = None
    family: str | None = None
    description: str | None = None
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    # False when some page could not be read: rules must not treat missing parameters as defaults.
    complete: bool = True


# ---------------------------------------------------------------- global database


class GlobalMember(Frozen):
    cluster_arn: str
    cluster_id: str | None = None
    region: str | None = None
    is_writer: bool = False
    readers: tuple[str, ...] = ()
    synchronization_status: str | None = None  # connected | pending-resync
    write_forwarding_status: str | None = None


class GlobalCluster(Frozen):
    id: str
    arn: str | None = None
    region: str | None = None  # region it was described from
    engine: str | None = None
    engine_version: str | None = None
    status: str | None = None
    deletion_protection: bool | None = None
    storage_encrypted: bool | None = None
    members: tuple[GlobalMember, ...] = ()


# ---------------------------------------------------------------- blue/green


class SwitchoverDetail(Frozen):
    source_member: str | None = None
    target_member: str | None = None
    status: str | None = None


class BlueGreenTask(Frozen):
    name: str
    status: str | None = None


class BlueGreenDeployment(Frozen):
    id: str
    name: str | None = None
    region: str
    account: str | None = None
    source_arn: str | None = None
    target_arn: str | None = None
    source_cluster_id: str | None = None
    target_cluster_id: str | None = None
    status: str | None = None
    status_details: str | None = None
    switchover_details: tuple[SwitchoverDetail, ...] = ()
    tasks: tuple[BlueGreenTask, ...] = ()
    create_time: datetime | None = None
    # The engine version green was created for, where known (tag `aurora-audit:target-engine-version`
    # or `--target-engine-version`); the DescribeBlueGreenDeployments API does not return it.
    target_engine_version: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


# ---------------------------------------------------------------- RDS Proxy


class ProxyAuth(Frozen):
    auth_scheme: str | None = None
    iam_auth: str | None = None  # DISABLED | REQUIRED | ENABLED
    secret_arn: str | None = None
    client_password_auth_type: str | None = None


class ProxyPool(Frozen):
    max_connections_percent: int | None = None
    max_idle_connections_percent: int | None = None
    connection_borrow_timeout: int | None = None
    session_pinning_filters: tuple[str, ...] = ()


class ProxyTargetGroup(Frozen):
    name: str
    is_default: bool | None = None
    status: str | None = None
    pool: ProxyPool | None = None


class ProxyTarget(Frozen):
    type: str | None = None  # TRACKED_CLUSTER | RDS_INSTANCE | RDS_SERVERLESS_ENDPOINT
    rds_resource_id: str | None = None
    endpoint: str | None = None
    role: str | None = None
    health_state: str | None = None


class Proxy(Frozen):
    name: str
    arn: str | None = None
    region: str
    account: str | None = None
    engine_family: str | None = None
    status: str | None = None
    require_tls: bool | None = None
    idle_client_timeout: int | None = None
    debug_logging: bool | None = None
    auth: tuple[ProxyAuth, ...] = ()
    target_groups: tuple[ProxyTargetGroup, ...] = ()
    targets: tuple[ProxyTarget, ...] = ()
    cluster_ids: tuple[str, ...] = ()  # clusters this proxy fronts (TRACKED_CLUSTER targets)


# ---------------------------------------------------------------- application auto scaling


class ScalingPolicy(Frozen):
    name: str
    policy_type: str | None = None
    target_value: float | None = None
    predefined_metric: str | None = None


class ScalableTarget(Frozen):
    resource_id: str  # cluster:<id>
    cluster_id: str
    region: str
    scalable_dimension: str  # rds:cluster:ReadReplicaCount
    min_capacity: int | None = None
    max_capacity: int | None = None
    suspended: bool = False
    policies: tuple[ScalingPolicy, ...] = ()


# ---------------------------------------------------------------- CloudWatch


class Alarm(Frozen):
    name: str
    arn: str | None = None
    region: str
    namespace: str | None = None
    metric_name: str | None = None
    # metric names inside a metric-math alarm (Metrics[].MetricStat.Metric.MetricName)
    metric_names: tuple[str, ...] = ()
    dimensions: dict[str, str] = Field(default_factory=dict)
    state: str | None = None
    actions_enabled: bool | None = None
    alarm_actions: tuple[str, ...] = ()
    threshold: float | None = None
    comparison: str | None = None
    statistic: str | None = None
    period: int | None = None
    evaluation_periods: int | None = None
    cluster_id: str | None = None  # the cluster whose dimension (or instance's) it watches


class MetricMax(Frozen):
    namespace: str
    metric_name: str
    dimensions: dict[str, str]
    region: str
    statistic: str = "Maximum"
    period_s: int
    start: datetime
    end: datetime
    value: float | None = None  # None: no datapoints in the window
    datapoints: int = 0
    unit: str | None = None
    cluster_id: str | None = None


# ---------------------------------------------------------------- maintenance and lifecycle


class PendingMaintenance(Frozen):
    resource_arn: str
    resource_id: str | None = None
    region: str
    action: str
    description: str | None = None
    auto_applied_after: datetime | None = None
    forced_apply_date: datetime | None = None
    current_apply_date: datetime | None = None
    opt_in_status: str | None = None


class EngineVersion(Frozen):
    engine: str
    version: str
    region: str
    status: str | None = None  # available | deprecated
    major_version: str | None = None
    standard_support_end: datetime | None = None
    extended_support_end: datetime | None = None
    # Where the lifecycle dates came from: "api" (DescribeDBMajorEngineVersions) or the packaged table's
    # source.
    lifecycle_source: str | None = None


# ---------------------------------------------------------------- in-database state (PostgreSQL)


class ReplicationSlot(Frozen):
    name: str
    slot_type: str  # physical | logical
    plugin: str | None = None
    database: str | None = None
    active: bool
    active_pid: int | None = None
    temporary: bool | None = None
    wal_status: str | None = None  # reserved | extended | unreserved | lost (PG 13+)
    safe_wal_size: int | None = None
    restart_lsn: str | None = None
    confirmed_flush_lsn: str | None = None
    retained_wal_bytes: int | None = None  # pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)


class ReplicationConnection(Frozen):
    pid: int | None = None
    application_name: str | None = None
    client_addr: str | None = None
    state: str | None = None
    sync_state: str | None = None
    slot_name: str | None = None
    replay_lag_s: float | None = None


class TableRef(Frozen):
    schema_name: str
    name: str
    estimated_rows: int | None = None


class LongTransaction(Frozen):
    pid: int | None = None
    age_s: float
    state: str | None = None
    application_name: str | None = None
    usename: str | None = None
    backend_type: str | None = None


class Publication(Frozen):
    name: str
    all_tables: bool | None = None


class Subscription(Frozen):
    name: str
    enabled: bool | None = None
    slot_name: str | None = None


class DatabaseState(Frozen):
    cluster_id: str
    region: str | None = None
    # collected: read from the writer; skipped: --no-db; error: could not connect/read (see Snapshot.errors)
    status: Literal["collected", "skipped", "error"]
    reason: str | None = None
    instance_id: str | None = None
    connection: str | None = None  # how it connected, redacted (never a password or token)
    collected_at: datetime | None = None
    server_version: str | None = None
    server_version_num: int | None = None
    database: str | None = None
    settings: dict[str, str] = Field(default_factory=dict)
    slots: tuple[ReplicationSlot, ...] = ()
    replication: tuple[ReplicationConnection, ...] = ()
    oldest_transaction: LongTransaction | None = None
    tables_without_pk: tuple[TableRef, ...] = ()
    unlogged_tables: tuple[TableRef, ...] = ()
    publications: tuple[Publication, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    queries: int = 0  # how many SQL statements the collection ran


# ---------------------------------------------------------------- the snapshot


class CollectionError(Frozen):
    """A collection failure, recorded as data (never swallowed)."""

    resource: str  # what could not be read: a cluster id, parameter group name, region, ...
    resource_kind: str | None = None
    operation: str  # DescribeDBClusters, Connect, SELECT pg_replication_slots, ...
    region: str | None = None
    account: str | None = None
    cluster: str | None = None  # the audited cluster this failure concerns, where known
    code: str | None = None  # AccessDenied, Throttling, UnknownOperation, ConnectionRefused, ...
    message: str


class Target(Frozen):
    kind: Literal["cluster", "blue-green", "fleet"]
    id: str
    region: str | None = None
    account: str | None = None


class CallStat(Frozen):
    operation: str  # service.Operation
    calls: int
    seconds: float


class Snapshot(Frozen):
    schema_: Literal["aurora-audit/snapshot/v1"] = Field(default=SNAPSHOT_SCHEMA, alias="schema")
    tool_version: str
    taken_at: datetime
    targets: tuple[Target, ...] = ()
    regions: tuple[str, ...] = ()
    look_back_minutes: int = 60
    clusters: tuple[Cluster, ...] = ()
    instances: tuple[Instance, ...] = ()
    parameter_groups: tuple[ParameterGroup, ...] = ()
    global_clusters: tuple[GlobalCluster, ...] = ()
    blue_green_deployments: tuple[BlueGreenDeployment, ...] = ()
    proxies: tuple[Proxy, ...] = ()
    scalable_targets: tuple[ScalableTarget, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    metrics: tuple[MetricMax, ...] = ()
    pending_maintenance: tuple[PendingMaintenance, ...] = ()
    engine_versions: tuple[EngineVersion, ...] = ()
    databases: tuple[DatabaseState, ...] = ()
    errors: tuple[CollectionError, ...] = ()
    calls: tuple[CallStat, ...] = ()

    # ---- lookups the engine and reporters use (pure, no I/O)

    def cluster(self, cluster_id: str, region: str | None = None) -> Cluster | None:
        for c in self.clusters:
            if c.id == cluster_id and (region is None or c.region == region):
                return c
        return None

    def instances_of(self, cluster: Cluster) -> list[Instance]:
        return [
            i
            for i in self.instances
            if i.cluster_id == cluster.id and i.region == cluster.region and i.account == cluster.account
        ]

    def parameter_group(
        self, kind: str, name: str, region: str, account: str | None = None
    ) -> ParameterGroup | None:
        for g in self.parameter_groups:
            if g.kind == kind and g.name == name and g.region == region and g.account == account:
                return g
        return None

    def database(self, cluster_id: str) -> DatabaseState | None:
        for d in self.databases:
            if d.cluster_id == cluster_id:
                return d
        return None

    def errors_for(
        self,
        *,
        operation: str | None = None,
        region: str | None = None,
        resource: str | None = None,
        cluster: str | None = None,
    ) -> list[CollectionError]:
        out = []
        for e in self.errors:
            if operation is not None and e.operation != operation:
                continue
            if region is not None and e.region not in (None, region):
                continue
            if resource is not None and e.resource != resource:
                continue
            if cluster is not None and e.cluster not in (None, cluster):
                continue
            out.append(e)
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(by_alias=True, indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> Snapshot:
        return cls.model_validate_json(text)

    def with_changes(self, **changes: Any) -> Snapshot:
        """A copy with fields replaced, validated again (used by tests and the demo)."""
        data = self.model_dump(by_alias=True)
        data.update(changes)
        return Snapshot.model_validate(data)
