"""Enrichment of moto's RDS answers with what moto omits or fixes (TESTING.md, "Gaps").

- DescribeDBInstances: PerformanceInsightsEnabled/KMSKeyId/RetentionPeriod and MonitoringInterval (AWS always
  returns PerformanceInsightsEnabled and MonitoringInterval; moto never does), learnt from the
  CreateDBInstance/ModifyDBInstance requests that set them or from `set_instance`; ParameterApplyStatus;
  a real CA name instead of moto's "rds-ca-default", with CertificateDetails.
- DescribeDBClusters: paged at MaxRecords like AWS (moto returns one page); moto's MySQL default
  cluster parameter group name ("default.aurora8.0") replaced by the aurora-postgresql default;
  DBClusterMembers[].DBClusterParameterGroupStatus overrides.
- DescribeGlobalClusters: GlobalClusterMembers[].SynchronizationStatus (secondaries: connected by default).
- DescribeBlueGreenDeployments: Status / StatusDetails / SwitchoverDetails[].Status / Tasks overrides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.sim import catalog
from auditor.sim.handlers import Forward, RdsFront, Response, _m, _strip_paging, ok, page
from auditor.sim.wire import parse_rds

MOTO_DEFAULT_CA = "rds-ca-default"
MOTO_MYSQL_DEFAULT_CPG = "default.aurora8.0"
MOTO_DEFAULT_KMS = "default_kms_key_id"  # moto's placeholder KmsKeyId on unencrypted resources

# CreateDBInstance / ModifyDBInstance request parameters -> DBInstance response members
_LEARNT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "EnablePerformanceInsights": ("PerformanceInsightsEnabled", lambda v: v.lower() == "true"),
    "PerformanceInsightsKMSKeyId": ("PerformanceInsightsKMSKeyId", str),
    "PerformanceInsightsRetentionPeriod": ("PerformanceInsightsRetentionPeriod", int),
    "MonitoringInterval": ("MonitoringInterval", int),
    "MonitoringRoleArn": ("MonitoringRoleArn", str),
    "CACertificateIdentifier": ("CACertificateIdentifier", str),
}


class EnrichingRdsFront(RdsFront):
    # ---------------------------------------------------------------- learn from writes

    def _learn(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        status, headers, body = fwd(None)
        if status == 200 and p.get("DBInstanceIdentifier"):
            fields: dict[str, Any] = {}
            for param, (member, conv) in _LEARNT.items():
                if param in p:
                    fields[member] = conv(p[param])
            if (
                fields.get("PerformanceInsightsEnabled")
                and "PerformanceInsightsRetentionPeriod" not in fields
            ):
                fields["PerformanceInsightsRetentionPeriod"] = 7  # AWS default retention (days)
            if fields:
                target = p.get("NewDBInstanceIdentifier") or p["DBInstanceIdentifier"]
                self.state.apply("set_instance", {"region": region, "instance_id": target, "fields": fields})
        return status, headers, body

    def op_CreateDBInstance(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        return self._learn(region, p, fwd)

    def op_ModifyDBInstance(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        return self._learn(region, p, fwd)

    # ---------------------------------------------------------------- instances

    def _instance(self, region: str, inst: dict[str, Any], certs: dict[str, dict[str, Any]]) -> None:
        if not inst.get("StorageEncrypted") and inst.get("KmsKeyId") == MOTO_DEFAULT_KMS:
            inst.pop("KmsKeyId")
        inst.setdefault("PerformanceInsightsEnabled", False)
        inst.setdefault("MonitoringInterval", 0)
        if inst.get("CACertificateIdentifier") in (None, MOTO_DEFAULT_CA):
            inst["CACertificateIdentifier"] = catalog.default_certificate()
        with self.state.lock:
            override = dict(self.state.instances.get((region, inst.get("DBInstanceIdentifier", "")), {}))
        apply_status = override.pop("_ParameterApplyStatus", None)
        inst.update(override)
        if apply_status:
            for g in inst.get("DBParameterGroups", []):
                g["ParameterApplyStatus"] = apply_status
        cert = certs.get(inst["CACertificateIdentifier"])
        if cert is not None and "ValidTill" in cert:
            inst["CertificateDetails"] = {
                "CAIdentifier": inst["CACertificateIdentifier"],
                "ValidTill": cert["ValidTill"],
            }

    def op_DescribeDBInstances(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        status, headers, body = fwd(None)  # moto pages instances at MaxRecords itself
        if status != 200:
            return status, headers, body
        parsed = parse_rds("DescribeDBInstances", body)
        with self.state.lock:
            cert_over = {k: dict(v) for k, v in self.state.certificates.items()}
        certs = {c["CertificateIdentifier"]: c for c in catalog.certificates(cert_over)}
        for inst in parsed.get("DBInstances", []):
            self._instance(region, inst, certs)
        return ok("DescribeDBInstances", parsed)

    # ---------------------------------------------------------------- clusters

    def op_DescribeDBClusters(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        status, headers, body = fwd(_strip_paging(p))
        if status != 200:
            return status, headers, body
        clusters = parse_rds("DescribeDBClusters", body).get("DBClusters", [])
        in_global = any(c.get("GlobalClusterIdentifier") for c in clusters)
        secondaries = self._global_secondaries() if in_global else set()
        for c in clusters:
            if c.get("DBClusterArn") in secondaries:
                # A Global Database secondary has no writer (Aurora User Guide, "Using Amazon Aurora Global
                # Database"); moto marks its first instance IsClusterWriter=true.
                for m in c.get("DBClusterMembers", []):
                    m["IsClusterWriter"] = False
            cid = c.get("DBClusterIdentifier", "")
            if c.get("DBClusterParameterGroup") == MOTO_MYSQL_DEFAULT_CPG and str(
                c.get("Engine", "")
            ).startswith("aurora-postgresql"):
                major = str(c.get("EngineVersion", "16")).split(".", 1)[0]
                c["DBClusterParameterGroup"] = f"default.aurora-postgresql{major}"
            with self.state.lock:
                member_status = dict(self.state.member_status.get((region, cid), {}))
                override = dict(self.state.clusters.get((region, cid), {}))
            for m in c.get("DBClusterMembers", []):
                status_ = member_status.get(m.get("DBInstanceIdentifier", ""), member_status.get("*"))
                if status_:
                    m["DBClusterParameterGroupStatus"] = status_
            if not c.get("StorageEncrypted") and c.get("KmsKeyId") == MOTO_DEFAULT_KMS:
                c.pop("KmsKeyId")  # AWS returns no KmsKeyId for an unencrypted cluster
            c.update(override)
        chunk, marker = page(clusters, p)
        return ok("DescribeDBClusters", {"DBClusters": chunk} | _m(marker))

    # ---------------------------------------------------------------- global database

    def _global_secondaries(self) -> set[str]:
        status, _, body = self.moto("us-east-1", {"Action": "DescribeGlobalClusters"})
        if status != 200:
            return set()
        out: set[str] = set()
        for g in parse_rds("DescribeGlobalClusters", body).get("GlobalClusters", []):
            out |= {m["DBClusterArn"] for m in g.get("GlobalClusterMembers", []) if not m.get("IsWriter")}
        return out

    def op_DescribeGlobalClusters(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        status, headers, body = fwd(_strip_paging(p))
        if status != 200:
            return status, headers, body
        items = parse_rds("DescribeGlobalClusters", body).get("GlobalClusters", [])
        for g in items:
            with self.state.lock:
                sync = dict(self.state.sync_status.get(g.get("GlobalClusterIdentifier", ""), {}))
            for m in g.get("GlobalClusterMembers", []):
                arn = m.get("DBClusterArn", "")
                if arn in sync:
                    m["SynchronizationStatus"] = sync[arn]
                elif not m.get("IsWriter"):
                    m["SynchronizationStatus"] = "connected"
        chunk, marker = page(items, p)
        return ok("DescribeGlobalClusters", {"GlobalClusters": chunk} | _m(marker))

    # ---------------------------------------------------------------- blue/green

    def op_DescribeBlueGreenDeployments(self, region: str, p: dict[str, str], fwd: Forward) -> Response:
        status, headers, body = fwd(None)
        if status != 200:
            return status, headers, body
        parsed = parse_rds("DescribeBlueGreenDeployments", body)
        for d in parsed.get("BlueGreenDeployments", []):
            with self.state.lock:
                o = dict(self.state.blue_green.get(d.get("BlueGreenDeploymentIdentifier", ""), {}))
            sw = o.pop("_switchover_status", None)
            d.update(o)
            if sw:
                for detail in d.get("SwitchoverDetails", []):
                    detail["Status"] = sw
        return ok("DescribeBlueGreenDeployments", parsed)
