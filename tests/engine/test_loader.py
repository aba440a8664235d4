"""Baseline, rule and waiver loading: merge order, matchers, and file:line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor.engine import registry
from auditor.engine.loader import load_baseline, load_rule_file, load_rules, load_waivers
from auditor.errors import InputFileError, NotFoundError
from auditor.models.findings import Severity

HEAD = "schema: aurora-audit/baseline/v1\n"


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def test_prod_extends_default_and_wins(tmp_path: Path) -> None:
    b = load_baseline(["prod"])
    assert b.cluster.backup_retention_days_min == 14  # prod overrides default's 7
    assert b.cluster.maintenance_forced_apply_warn_days == 30  # inherited from default
    assert b.replication_slots.allowed == ()
    assert b.sources == ("default", "prod")


def test_contract_example_values_in_prod() -> None:
    b = load_baseline(["prod"])
    assert b.instances.min_readers == 2 and b.instances.max_replica_lag_ms == 100
    assert b.proxy.iam_auth == "REQUIRED" and b.autoscaling.min_capacity == 2
    assert b.cluster_parameters is not None
    assert b.cluster_parameters["max_connections"].min == 500
    assert b.cluster_parameters["log_statement"].in_ == ("ddl", "mod")
    assert b.global_database.min_secondaries == 1 and b.blue_green.max_transaction_age_s == 300


def test_several_refs_merge_in_order(tmp_path: Path) -> None:
    a = write(
        tmp_path,
        "a.yaml",
        HEAD + "cluster: {backup_retention_days_min: 21}\ncluster_parameters: {x: {min: 5}}\n",
    )
    b = write(tmp_path, "b.yaml", HEAD + "cluster_parameters: {x: {max: 9}}\n")
    merged = load_baseline(["prod", str(a), str(b)])
    assert merged.cluster.backup_retention_days_min == 21
    assert merged.cluster.deletion_protection is True
    # a parameter's matcher is replaced whole by a later file, never merged key by key
    assert merged.cluster_parameters is not None
    x = merged.cluster_parameters["x"]
    assert (x.min, x.max) == (None, 9)
    assert "rds.force_ssl" in merged.cluster_parameters


def test_extends_by_relative_path(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", HEAD + "instances: {min_readers: 3}\n")
    top = write(tmp_path, "top.yaml", HEAD + "extends: ./base.yaml\ninstances: {min_azs: 3}\n")
    b = load_baseline([str(top)])
    assert (b.instances.min_readers, b.instances.min_azs) == (3, 3)


def test_unknown_key_names_file_and_line(tmp_path: Path) -> None:
    p = write(
        tmp_path, "typo.yaml", HEAD + "cluster:\n  deletion_protection: true\n  backup_retention_dayz: 7\n"
    )
    with pytest.raises(InputFileError) as e:
        load_baseline([str(p)])
    msg = str(e.value)
    assert msg.startswith(f"{p}:4: unknown key 'backup_retention_dayz' under cluster (")
    assert msg.endswith(")")


def test_type_error_names_line(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.yaml", HEAD + "instances:\n  min_readers: two\n")
    with pytest.raises(InputFileError, match=rf"^{re.escape(str(p))}:3: instances.min_readers"):
        load_baseline([str(p)])


@pytest.mark.parametrize(
    ("matcher", "needle"),
    [
        ("{}", "empty matcher"),
        ("[a, b]", "use {in: [...]}"),
        ("{between: [1, 2]}", "unknown key 'between'"),
        ("{min: lots}", "min"),
    ],
)
def test_bad_matcher(tmp_path: Path, matcher: str, needle: str) -> None:
    p = write(tmp_path, "m.yaml", HEAD + f"cluster_parameters:\n  max_connections: {matcher}\n")
    with pytest.raises(InputFileError) as e:
        load_baseline([str(p)])
    assert str(e.value).startswith(f"{p}:3:") and needle in str(e.value)


def test_extends_cycle(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", HEAD + "extends: ./b.yaml\n")
    write(tmp_path, "b.yaml", HEAD + "description: b\nextends: ./a.yaml\n")
    with pytest.raises(
        InputFileError, match=r"b\.yaml:3: `extends` makes a cycle: a\.yaml -> b\.yaml -> a\.yaml"
    ):
        load_baseline([str(tmp_path / "a.yaml")])


def test_unknown_baseline_name_and_missing_schema(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="unknown baseline 'nope'.*default"):
        load_baseline(["nope"])
    p = write(tmp_path, "noschema.yaml", "cluster: {}\n")
    with pytest.raises(InputFileError, match=r":1: schema is required"):
        load_baseline([str(p)])


def test_duplicate_key_and_bad_yaml(tmp_path: Path) -> None:
    p = write(tmp_path, "dup.yaml", HEAD + "cluster: {}\ncluster: {}\n")
    with pytest.raises(InputFileError, match=r"dup\.yaml:3: duplicate key 'cluster'"):
        load_baseline([str(p)])
    q = write(tmp_path, "broken.yaml", HEAD + "cluster: [\n")
    with pytest.raises(InputFileError, match=r"broken\.yaml:\d+: invalid YAML"):
        load_baseline([str(q)])


def test_shipped_rules_are_valid_and_documented() -> None:
    rules = load_rules()
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)) >= 35
    for r in rules:
        assert r.check in registry.names()
        if r.severity.at_least(Severity.MEDIUM):
            assert r.remediation is not None and r.remediation.text
        assert r.parsed_params is not None


def _rule(tmp: Path, name: str, body: str) -> Path:
    return write(tmp, name, body)


GOOD = """id: ZZ01
title: A test rule title
severity: low
family: ZZ
check: force-ssl
rationale: because it matters a lot
"""


def test_rule_validation_errors(tmp_path: Path) -> None:
    good = GOOD.replace("ZZ", "CL")
    with pytest.raises(InputFileError, match=r"CL02\.yaml:1: rule id CL01 does not match the file name"):
        load_rule_file(_rule(tmp_path, "CL02.yaml", good.replace("CL01", "CL01")))
    with pytest.raises(InputFileError, match=r"remediation is required for a high rule"):
        load_rule_file(_rule(tmp_path, "CL01.yaml", good.replace("severity: low", "severity: high")))
    with pytest.raises(InputFileError, match=r"CL01\.yaml:3: severity"):
        load_rule_file(_rule(tmp_path, "CL01.yaml", good.replace("severity: low", "severity: urgent")))
    with pytest.raises(InputFileError, match=r"CL01\.yaml:5: unknown check 'nope'"):
        load_rule_file(_rule(tmp_path, "CL01.yaml", good.replace("check: force-ssl", "check: nope")))
    with pytest.raises(InputFileError, match=r"CL01\.yaml:8: unknown key 'paramter' under params"):
        load_rule_file(_rule(tmp_path, "CL01.yaml", good + "params:\n  paramter: x\n"))
    with pytest.raises(InputFileError, match=r"two capital letters"):
        load_rule_file(_rule(tmp_path, "cl1.yaml", good.replace("CL01", "cl1")))


def test_registry_rejects_duplicates_and_loose_params() -> None:
    from pydantic import BaseModel

    with pytest.raises(ValueError, match="registered twice"):
        registry.register("force-ssl")(lambda *a: [])

    class Loose(BaseModel):
        x: int = 1

    with pytest.raises(ValueError, match="extra='forbid'"):
        registry.register("loose-check", Loose)(lambda *a: [])


def test_waiver_file_errors(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "w.yaml",
        "schema: aurora-audit/waivers/v1\nwaivers:\n  - rule: HA04\n    resource: x\n"
        "    reason: approved\n    expiry: 2027-01-31\n",
    )
    with pytest.raises(InputFileError, match=r"w\.yaml:6: unknown key 'expiry'"):
        load_waivers(p)
    q = write(
        tmp_path,
        "w2.yaml",
        "schema: aurora-audit/waivers/v1\nwaivers:\n  - rule: HA4\n    resource: x\n"
        "    reason: approved\n    expires: 2027-01-31\n",
    )
    with pytest.raises(InputFileError, match=r"w2\.yaml:3: waivers\.0\.rule"):
        load_waivers(q)
    r = write(
        tmp_path,
        "w3.yaml",
        "schema: aurora-audit/waivers/v1\nwaivers:\n  - rule: ZZ99\n    resource: x\n"
        "    reason: approved\n    expires: 2027-01-31\n",
    )
    with pytest.raises(InputFileError, match=r"w3\.yaml:3: no rule ZZ99 in the catalogue"):
        load_waivers(r)


def test_rule_baseline_keys_exist_in_the_baseline_model() -> None:
    from pydantic import BaseModel

    from auditor.models.baseline import Baseline

    for r in load_rules():
        for key in r.baseline_keys:
            model: type[BaseModel] = Baseline
            for part in key.split("."):
                assert part in model.model_fields, f"{r.id}: {key}"
                ann = model.model_fields[part].annotation
                if isinstance(ann, type) and issubclass(ann, BaseModel):
                    model = ann


def test_rules_show_text_is_generated_from_the_file() -> None:
    from auditor.engine.loader import get_rule

    text = get_rule("pg05").describe()
    assert (
        text.startswith("PG05  rds.force_ssl is 1")
        and "aws: aws rds modify-db-cluster-parameter-group" in text
    )
    with pytest.raises(NotFoundError):
        get_rule("ZZ99")


def test_extends_unknown_name_points_at_the_line(tmp_path: Path) -> None:
    p = write(tmp_path, "x.yaml", HEAD + "description: x\nextends: [default, prdo]\n")
    with pytest.raises(InputFileError, match=r"x\.yaml:3: unknown baseline 'prdo'"):
        load_baseline([str(p)])
