"""RDS operations the front answers itself or enriches after moto (see TESTING.md for moto's gaps).

Each handler takes the request's Query parameters and returns (status, headers, body), or None to pass the
request through to moto untouched. Shapes follow botocore's RDS model (auditor/sim/wire.py serializes).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from auditor.sim import catalog
from auditor.sim.state import SimState
from auditor.sim.wire import error_response, parse_rds, query_filters, serialize_rds

Response = tuple[int, dict[str, str], bytes]
MotoCall = Callable[[str, dict[str, str]], Response]  # (region, Query params) -> moto's answer
Forward = Callable[[dict[str, str] | None], Response]  # forward the request (optionally with new params)

XML = {"Content-Type": "text/xml"}


class BadRequest(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def ok(operation: str, result: dict[str, Any]) -> Response:
    return 200, dict(XML), serialize_rds(operation, result)


def page(items: list[Any], params: dict[str, str]) -> tuple[list[Any], str | None]:
    """AWS-style paging: MaxRecords 20..100 (default 100) and an opaque Marker (RDS API Reference)."""
    raw = params.get("MaxRecords")
    size = 100
    if raw is not None:
        try:
            size = int(raw)
        except ValueError:
            size = -1
        if not 20 <= size <= 100:
            raise BadRequest(
                "InvalidParameterValue", f"Invalid value {raw} for MaxRecords. Must be between 20 and 100"
            )
    start = 0
    if params.get("Marker"):
        try:
            start = int(base64.urlsafe_b64decode(params["Marker"].encode()).decode().split(":", 1)[1])
        except (ValueError, IndexError):
            raise BadRequest("InvalidParameterValue", "The marker is not valid") from None
    end = start + size
    marker = base64.urlsafe_b64encode(f"sim:{end}".encode()).decode() if end < len(items) else None
    return items[start:end], marker


def _strip_paging(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if k not in ("MaxRecords", "Marker")}


class RdsFront:
    def __init__(self, state: SimState, moto: MotoCall) -> None:
        self.state = state
        self.moto = moto

    def handle(self, action: str, region: str, params: dict[str, str], forward: Forward) -> Response | None:
        fn = getattr(self, "op_" + action, None)
        if fn is None:
            return None
        try:
            return fn(region, params, forward)  # type: ignore[no-any-return]
        except BadRequest as e:
            return error_response("query", e.code, e.message, e.status)

    # ---------------------------------------------------------------- catalogue operations

    def op_DescribeDBEngineVersions(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        filters = query_filters(p)
        with self.state.lock:
            overrides = dict(self.state.version_status)
        include_all = p.get("IncludeAll", "false").lower() == "true"
        items = catalog.engine_versions(include_all, overrides)
        engines = set(filters.get("engine", [])) | ({p["Engine"]} if p.get("Engine") else set())
        if engines:
            items = [v for v in items if v["Engine"] in engines]
        versions = set(filters.get("engine-version", [])) | (
            {p["EngineVersion"]} if p.get("EngineVersion") else set()
        )
        if versions:
            items = [v for v in items if v["EngineVersion"] in versions]
        fams = set(filters.get("db-parameter-group-family", [])) | (
            {p["DBParameterGroupFamily"]} if p.get("DBParameterGroupFamily") else set()
        )
        if fams:
            items = [v for v in items if v["DBParameterGroupFamily"] in fams]
        if filters.get("status"):
            items = [v for v in items if v["Status"] in filters["status"]]
        if p.get("DefaultOnly", "false").lower() == "true":
            defaults = {catalog.default_version(m) for m in {v["MajorEngineVersion"] for v in items}}
            items = [v for v in items if v["EngineVersion"] in defaults]
        chunk, marker = page(items, p)
        return ok("DescribeDBEngineVersions", {"DBEngineVersions": chunk} | _m(marker))

    def op_DescribeDBMajorEngineVersions(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        with self.state.lock:
            overrides = {k: dict(v) for k, v in self.state.lifecycle.items()}
        items = catalog.major_versions(overrides)
        if p.get("Engine") and p["Engine"] != catalog.ENGINE:
            items = []
        if p.get("MajorEngineVersion"):
            items = [v for v in items if v["MajorEngineVersion"] == p["MajorEngineVersion"]]
        chunk, marker = page(items, p)
        return ok("DescribeDBMajorEngineVersions", {"DBMajorEngineVersions": chunk} | _m(marker))

    def op_DescribeCertificates(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        with self.state.lock:
            overrides = {k: dict(v) for k, v in self.state.certificates.items()}
        items = []
        for c in catalog.certificates(overrides):
            c = dict(c)
            if "CertificateArn" in c:
                c["CertificateArn"] = c["CertificateArn"].replace("{region}", region)
            items.append(c)
        if p.get("CertificateIdentifier"):
            items = [c for c in items if c["CertificateIdentifier"] == p["CertificateIdentifier"]]
            if not items:
                raise BadRequest(
                    "CertificateNotFound", f"Certificate {p['CertificateIdentifier']} not found", 404
                )
        chunk, marker = page(items, p)
        result = {"Certificates": chunk, "DefaultCertificateForNewLaunches": catalog.default_certificate()}
        return ok("DescribeCertificates", result | _m(marker))

    def op_DescribePendingMaintenanceActions(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        filters = query_filters(p)
        with self.state.lock:
            pending = {arn: [dict(a) for a in acts] for arn, acts in self.state.pending.items()}
        items = []
        for arn in sorted(pending):
            parts = arn.split(":")
            if len(parts) < 7 or parts[3] != region or not pending[arn]:
                continue
            kind, rid = parts[5], parts[6]
            if p.get("ResourceIdentifier") and p["ResourceIdentifier"] != arn:
                continue
            if "db-cluster-id" in filters and not (
                kind == "cluster" and (rid in filters["db-cluster-id"] or arn in filters["db-cluster-id"])
            ):
                continue
            if "db-instance-id" in filters and not (
                kind == "db" and (rid in filters["db-instance-id"] or arn in filters["db-instance-id"])
            ):
                continue
            items.append({"ResourceIdentifier": arn, "PendingMaintenanceActionDetails": pending[arn]})
        chunk, marker = page(items, p)
        return ok("DescribePendingMaintenanceActions", {"PendingMaintenanceActions": chunk} | _m(marker))

    # ---------------------------------------------------------------- parameter groups

    def _group_family(self, region: str, kind: str, name: str) -> str:
        if name.startswith("default."):
            family = name[len("default.") :]
            if catalog.engine_defaults(family, kind) is not None:
                return family
        action = "DescribeDBClusterParameterGroups" if kind == "cluster" else "DescribeDBParameterGroups"
        key = "DBClusterParameterGroupName" if kind == "cluster" else "DBParameterGroupName"
        status, headers, body = self.moto(region, {"Action": action, key: name})
        if status != 200:
            raise _Passthrough((status, headers, body))
        parsed = parse_rds(action, body)
        groups = parsed.get("DBClusterParameterGroups" if kind == "cluster" else "DBParameterGroups", [])
        return str(groups[0].get("DBParameterGroupFamily", "")) if groups else ""

    def _parameters(self, kind: str, region: str, p: dict[str, str]) -> Response:
        action = "DescribeDBClusterParameters" if kind == "cluster" else "DescribeDBParameters"
        key = "DBClusterParameterGroupName" if kind == "cluster" else "DBParameterGroupName"
        name = p.get(key, "")
        try:
            family = self._group_family(region, kind, name)
        except _Passthrough as e:
            return e.response
        defaults = catalog.engine_defaults(family, kind) or []
        user: list[dict[str, Any]] = []
        if not name.startswith("default."):
            status, headers, body = self.moto(region, {"Action": action, key: name})
            if status != 200:
                return status, headers, body
            user = parse_rds(action, body).get("Parameters", [])
        params = catalog.merge_user_parameters(defaults, user)
        if p.get("Source"):
            params = [x for x in params if x.get("Source") == p["Source"]]
        names = query_filters(p).get("parameter-name")
        if names:
            params = [x for x in params if x["ParameterName"] in names]
        chunk, marker = page(params, p)
        return ok(action, {"Parameters": chunk} | _m(marker))

    def op_DescribeDBClusterParameters(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        return self._parameters("cluster", region, p)

    def op_DescribeDBParameters(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        return self._parameters("db", region, p)

    def _engine_default(self, kind: str, p: dict[str, str]) -> Response:
        family = p.get("DBParameterGroupFamily", "")
        params = catalog.engine_defaults(family, kind)
        if params is None:
            raise BadRequest("InvalidParameterValue", f"Invalid DB parameter group family: {family}")
        chunk, marker = page(params, p)
        action = (
            "DescribeEngineDefaultClusterParameters"
            if kind == "cluster"
            else "DescribeEngineDefaultParameters"
        )
        return ok(
            action, {"EngineDefaults": {"DBParameterGroupFamily": family, "Parameters": chunk} | _m(marker)}
        )

    def op_DescribeEngineDefaultClusterParameters(
        self, region: str, p: dict[str, str], fwd: Forward
    ) -> Response:
        return self._engine_default("cluster", p)

    def op_DescribeEngineDefaultParameters(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        return self._engine_default("db", p)

    def _groups(self, kind: str, region: str, p: dict[str, str], fwd: Forward) -> Response:
        """Default groups (default.aurora-postgresqlNN) exist in AWS uncreated; moto lacks them."""
        action = "DescribeDBClusterParameterGroups" if kind == "cluster" else "DescribeDBParameterGroups"
        key = "DBClusterParameterGroupName" if kind == "cluster" else "DBParameterGroupName"
        list_key = "DBClusterParameterGroups" if kind == "cluster" else "DBParameterGroups"
        name = p.get(key)
        arn_kind = "cluster-pg" if kind == "cluster" else "pg"

        def synth(family: str) -> dict[str, Any]:
            g = {
                key: f"default.{family}",
                "DBParameterGroupFamily": family,
                "Description": f"Default {'cluster ' if kind == 'cluster' else ''}parameter group "
                f"for {family}",
            }
            g[key.replace("Name", "Arn")] = f"arn:aws:rds:{region}:123456789012:{arn_kind}:default.{family}"
            return g

        if name and name.startswith("default."):
            family = name[len("default.") :]
            if catalog.engine_defaults(family, kind) is None:
                raise BadRequest("DBParameterGroupNotFound", f"Parameter group {name} not found", 404)
            return ok(action, {list_key: [synth(family)]})
        if name:
            return fwd(None)
        status, headers, body = fwd(_strip_paging(p))
        if status != 200:
            return status, headers, body
        groups = [g for g in parse_rds(action, body).get(list_key, []) if not g[key].startswith("default.")]
        groups += [synth(f) for f in catalog.families()]
        chunk, marker = page(groups, p)
        return ok(action, {list_key: chunk} | _m(marker))

    def op_DescribeDBClusterParameterGroups(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        return self._groups("cluster", region, p, fwd)

    def op_DescribeDBParameterGroups(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        return self._groups("db", region, p, fwd)


class _Passthrough(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("passthrough")
        self.response = response


def _m(marker: str | None) -> dict[str, str]:
    return {"Marker": marker} if marker else {}
