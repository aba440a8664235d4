"""The README's rule table is generated from rules/*.yaml; the Quick start has exactly two commands."""

from __future__ import annotations

import re
from pathlib import Path

from auditor.cli import rules_markdown
from auditor.engine.loader import load_rules
from auditor.models.rulespec import FAMILIES

README = Path(__file__).resolve().parents[1] / "README.md"


def test_rule_table_matches_the_catalogue() -> None:
    text = README.read_text(encoding="utf-8")
    table = re.search(r"<!-- rules:start -->\n(.*?)<!-- rules:end -->", text, re.S)
    assert table, "README.md lost its rules:start/rules:end markers"
    order = list(FAMILIES)
    rules = sorted(load_rules(), key=lambda r: (order.index(r.family), r.id))
    assert table.group(1) == rules_markdown(rules), "regenerate with `aurora-audit rules list --markdown`"


def test_quick_start_has_exactly_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Quick start\s+```bash\n(.*?)```", text, re.S)
    assert block
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    assert "aurora-audit demo" in commands[0]
    assert commands[1].startswith("bash scripts/test")


def test_demo_runtime_dependencies_are_declared() -> None:
    """`pip install . && aurora-audit demo` must work without the dev extra: the demo starts a moto *server*
    (Flask), so the runtime dependency is moto[server], not moto alone."""
    import tomllib

    project = tomllib.loads((README.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [d.replace(" ", "") for d in project["dependencies"]]
    assert any(d.startswith("moto[") and "server" in d.split("]")[0] for d in runtime), runtime
