"""Packaged data the simulated AWS answers from: engine-default parameters, engine versions, lifecycle, CAs.

Everything returned here is already AWS-shaped (field names as in the RDS API model), ready to serialize.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

ENGINE = "aurora-postgresql"
STANDARD = "open-source-rds-standard-support"
EXTENDED = "open-source-rds-extended-support"


def _load(name: str) -> dict[str, Any]:
    text = resources.files("auditor.sim").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def parameter_data() -> dict[str, Any]:
    return _load("aurora_postgresql_parameters.json")


@lru_cache(maxsize=1)
def lifecycle_data() -> dict[str, Any]:
    return _load("aurora_postgresql_lifecycle.json")


def _dt(text: str) -> datetime:
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------- parameters


def families() -> list[str]:
    return list(parameter_data()["families"])


def engine_defaults(family: str, kind: str) -> list[dict[str, Any]] | None:
    """Engine-default parameters of `family` for a "cluster" or "db" parameter group, sorted by name.

    None when the family is unknown (the caller answers DBParameterGroupNotFound / InvalidParameterValue).
    """
    data = parameter_data()
    if family not in data["families"]:
        return None
    overrides = data.get("family_overrides", {}).get(family, {})
    scopes = ("cluster", "both") if kind == "cluster" else ("instance", "both")
    out = []
    for p in data["parameters"]:
        if p["scope"] not in scopes:
            continue
        q = dict(p) | overrides.get(p["name"], {})
        param: dict[str, Any] = {
            "ParameterName": q["name"],
            "Description": q["description"],
            "Source": q["source"],
            "ApplyType": q["apply_type"],
            "DataType": q["data_type"],
            "IsModifiable": q["is_modifiable"],
            "ApplyMethod": "pending-reboot" if q["apply_type"] == "static" else "immediate",
        }
        if "value" in q:
            param["ParameterValue"] = q["value"]
        if "allowed_values" in q:
            param["AllowedValues"] = q["allowed_values"]
        if kind == "cluster":
            param["SupportedEngineModes"] = ["provisioned"]
        out.append(param)
    out.sort(key=lambda p: p["ParameterName"])
    return out


def merge_user_parameters(defaults: list[dict[str, Any]], user: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Engine defaults with the user-set parameters (as moto stores them) laid over them, Source=user."""
    by_name = {p["ParameterName"]: dict(p) for p in defaults}
    for u in user:
        name = u.get("ParameterName")
        if not name:
            continue
        base = by_name.get(name) or {
            "ParameterName": name,
            "Description": name,
            "ApplyType": "dynamic",
            "DataType": "string",
            "IsModifiable": True,
        }
        base["Source"] = "user"
        if "ParameterValue" in u:
            base["ParameterValue"] = u["ParameterValue"]
        if u.get("ApplyMethod"):
            base["ApplyMethod"] = u["ApplyMethod"]
        by_name[name] = base
    return [by_name[n] for n in sorted(by_name)]


# ---------------------------------------------------------------- versions and lifecycle


def _major_of(version: str) -> str:
    return version.split(".", 1)[0]


def engine_versions(include_all: bool, status_overrides: dict[str, str]) -> list[dict[str, Any]]:
    data = lifecycle_data()
    flat: list[tuple[str, str]] = []
    for vs in data["versions"].values():
        flat += [(v, "available") for v in vs["available"]]
        flat += [(v, "deprecated") for v in vs["deprecated"]]
    flat = [(v, status_overrides.get(v, s)) for v, s in flat]
    flat.sort(key=lambda vs: tuple(int(x) for x in vs[0].split(".")))
    available = [v for v, s in flat if s == "available"]
    out = []
    for version, status in flat:
        if status != "available" and not include_all:
            continue
        major = _major_of(version)
        key = tuple(int(x) for x in version.split("."))
        targets = []
        for t in available:
            tkey = tuple(int(x) for x in t.split("."))
            if tkey <= key:
                continue
            is_major = _major_of(t) != major
            if is_major and int(_major_of(t)) > int(major) + 1:
                continue
            targets.append(
                {
                    "Engine": ENGINE,
                    "EngineVersion": t,
                    "Description": f"Aurora PostgreSQL (Compatible with PostgreSQL {t})",
                    "AutoUpgrade": False,
                    "IsMajorVersionUpgrade": is_major,
                    "SupportedEngineModes": ["provisioned"],
                    "SupportsGlobalDatabases": True,
                    "SupportsBabelfish": True,
                }
            )
        out.append(
            {
                "Engine": ENGINE,
                "MajorEngineVersion": major,
                "EngineVersion": version,
                "DBParameterGroupFamily": f"aurora-postgresql{major}",
                "DBEngineDescription": "Aurora (PostgreSQL)",
                "DBEngineVersionDescription": f"Aurora PostgreSQL (Compatible with PostgreSQL {version})",
                "ValidUpgradeTarget": targets,
                "ExportableLogTypes": ["postgresql", "iam-db-auth-error"],
                "SupportsLogExportsToCloudwatchLogs": True,
                "SupportsReadReplica": False,
                "SupportedEngineModes": ["provisioned"],
                "SupportedFeatureNames": ["Bedrock", "Lambda", "s3Export", "s3Import"],
                "Status": status,
                "SupportsParallelQuery": False,
                "SupportsGlobalDatabases": True,
                "SupportsBabelfish": True,
                "SupportsLimitlessDatabase": False,
                "SupportsCertificateRotationWithoutRestart": True,
                "SupportedCACertificateIdentifiers": [c["id"] for c in data["certificates"]],
                "SupportsLocalWriteForwarding": True,
                "SupportsIntegrations": False,
                "TagList": [],
            }
        )
    return out


def default_version(major: str) -> str | None:
    return lifecycle_data()["default_versions"].get(major)  # type: ignore[no-any-return]


def major_versions(overrides: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """DBMajorEngineVersions entries (DescribeDBMajorEngineVersions), with per-major date overrides."""
    out = []
    majors = lifecycle_data()["major_versions"]
    for major in sorted(majors, key=int):
        d = dict(majors[major]) | overrides.get(major, {})
        std_end = _dt(d["standard_end"])
        # Aurora enrols a cluster in RDS Extended Support on the end-of-standard-support date
        # (Aurora User Guide, "Using Amazon RDS Extended Support").
        ext_start = std_end
        out.append(
            {
                "Engine": ENGINE,
                "MajorEngineVersion": major,
                "SupportedEngineLifecycles": [
                    {
                        "LifecycleSupportName": STANDARD,
                        "LifecycleSupportStartDate": _dt(d["standard_start"]),
                        "LifecycleSupportEndDate": std_end,
                    },
                    {
                        "LifecycleSupportName": EXTENDED,
                        "LifecycleSupportStartDate": _dt(d.get("extended_start", ""))
                        if d.get("extended_start")
                        else ext_start,
                        "LifecycleSupportEndDate": _dt(d["extended_end"]),
                    },
                ],
            }
        )
    return out


# ---------------------------------------------------------------- certificates


def certificates(overrides: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    data = lifecycle_data()
    out: dict[str, dict[str, Any]] = {}
    for c in data["certificates"]:
        out[c["id"]] = {
            "CertificateIdentifier": c["id"],
            "CertificateType": c["type"],
            "Thumbprint": c["thumbprint"],
            "ValidFrom": _dt(c["valid_from"]),
            "ValidTill": _dt(c["valid_till"]),
            "CertificateArn": f"arn:aws:rds:{{region}}::cert:{c['id']}",
            "CustomerOverride": False,
        }
    for cid, fields in overrides.items():
        out[cid] = out.get(cid, {"CertificateIdentifier": cid, "CertificateType": "CA"}) | fields
    return [out[k] for k in sorted(out)]


def default_certificate() -> str:
    return str(lifecycle_data()["default_certificate"])
