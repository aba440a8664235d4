"""Cluster and DB parameter groups, every parameter (engine defaults included), typed by DataType.

Each distinct group is fetched once per account-region per snapshot, however many members share it.
`Source` is not passed: AWS then returns engine-default, system and user parameters alike
(RDS API Reference, DescribeDBClusterParameters / DescribeDBParameters), in pages of at most 100.
"""

from __future__ import annotations

from typing import Any, Literal

from auditor.collect.aws import COLLECTION_EXCEPTIONS
from auditor.collect.state import RDS_PAGE, Collection
from auditor.models.snapshot import Parameter, ParameterGroup, ParamValue

Kind = Literal["cluster", "db"]

_TRUE = {"1", "on", "true", "yes"}
_FALSE = {"0", "off", "false", "no"}


def typed_value(raw: str | None, data_type: str | None) -> ParamValue:
    """The engine's view of a ParameterValue string. Formulas (`{DBInstanceClassMemory/9531392}`),
    lists and strings stay strings; a value that does not parse as its DataType stays a string."""
    if raw is None:
        return None
    if "{" in raw:
        return raw
    dt = (data_type or "").lower()
    text = raw.strip()
    if dt == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        return raw
    if dt == "integer":
        try:
            return int(text)
        except ValueError:
            return raw
    if dt == "float":
        try:
            return float(text)
        except ValueError:
            return raw
    return raw


def convert_parameter(raw: dict[str, Any]) -> Parameter:
    value = raw.get("ParameterValue")
    return Parameter(
        name=raw["ParameterName"],
        raw_value=value,
        value=typed_value(value, raw.get("DataType")),
        source=raw.get("Source"),
        apply_type=raw.get("ApplyType"),
        data_type=raw.get("DataType"),
        allowed_values=raw.get("AllowedValues"),
        is_modifiable=raw.get("IsModifiable"),
        apply_method=raw.get("ApplyMethod"),
    )


_OPS = {
    "cluster": (
        "describe_db_cluster_parameter_groups",
        "DescribeDBClusterParameterGroups",
        "DBClusterParameterGroupName",
        "DBClusterParameterGroups",
        "DBClusterParameterGroupArn",
        "describe_db_cluster_parameters",
        "DescribeDBClusterParameters",
    ),
    "db": (
        "describe_db_parameter_groups",
        "DescribeDBParameterGroups",
        "DBParameterGroupName",
        "DBParameterGroups",
        "DBParameterGroupArn",
        "describe_db_parameters",
        "DescribeDBParameters",
    ),
}


def fetch_group(col: Collection, region: str, kind: Kind, name: str, cluster: str | None = None) -> None:
    """Describe one parameter group and all its parameters (skipped when already fetched)."""
    if not col.claim(("parameter-group", kind, region, name)):
        return
    rds = col.ctx.client("rds", region)
    g_method, g_op, name_arg, g_key, arn_key, p_method, p_op = _OPS[kind]
    res_kind = f"{kind}-parameter-group" if kind == "db" else "cluster-parameter-group"
    meta = col.attempt(
        lambda: getattr(rds, g_method)(**{name_arg: name})[g_key],
        resource=name,
        kind=res_kind,
        operation=g_op,
        region=region,
        cluster=cluster,
    )
    info = meta[0] if meta else {}
    params: dict[str, Parameter] = {}
    complete = True
    kwargs: dict[str, Any] = {name_arg: name, "MaxRecords": RDS_PAGE}
    while True:
        try:
            page = getattr(rds, p_method)(**kwargs)
        except COLLECTION_EXCEPTIONS as exc:
            # Keep the pages already read, but say the group is incomplete: rules must not read
            # a missing parameter as its default.
            col.record(exc, resource=name, kind=res_kind, operation=p_op, region=region, cluster=cluster)
            complete = False
            break
        for raw in page.get("Parameters", []):
            p = convert_parameter(raw)
            params[p.name] = p
        marker = page.get("Marker")
        if not marker:
            break
        kwargs["Marker"] = marker
    group = ParameterGroup(
        kind=kind,
        name=name,
        region=region,
        account=col.account,
        arn=info.get(arn_key),
        family=info.get("DBParameterGroupFamily"),
        description=info.get("Description"),
        parameters=params,
        complete=complete,
    )
    with col.lock:
        col.parameter_groups[(kind, region, name)] = group


def groups_to_fetch(col: Collection) -> list[tuple[str, Kind, str, str | None]]:
    """(region, kind, name, cluster) for every distinct group the collected clusters and instances use."""
    seen: dict[tuple[str, Kind, str], str | None] = {}
    with col.lock:
        for c in col.clusters.values():
            if c.parameter_group:
                seen.setdefault((c.region, "cluster", c.parameter_group), c.id)
        for i in col.instances.values():
            for ref in i.parameter_groups:
                seen.setdefault((i.region, "db", ref.name), i.cluster_id)
    return [(r, k, n, cl) for (r, k, n), cl in sorted(seen.items())]
