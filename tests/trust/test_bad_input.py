"""Hostile and malformed input: baselines, waivers, snapshots and options never produce a traceback.

Each property drives the real console entry point in-process (`auditor.cli.main`, the same one-line error
handling as `aurora-audit`), evaluating a saved snapshot offline. A rejected input exits 2 with exactly one
line on stderr naming the file and line (baselines, waivers), the file (snapshots) or the option; an
accepted one exits 0 or 1. A few real subprocesses check the same from the outside.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.trust import stats
from tests.trust.conftest import REPO, CliRun, assert_one_line_error, invoke_main, run_cli

SNAPSHOT = REPO / "tests" / "fixtures" / "base_snapshot.json"
DEFAULT_BASELINE = (REPO / "baselines" / "default.yaml").read_text()
PROD_BASELINE = (REPO / "baselines" / "prod.yaml").read_text()
WAIVERS = """schema: aurora-audit/waivers/v1
waivers:
  - rule: HA04
    resource: prod-app-*
    reason: analytics reader, approved by the database team
    expires: 2027-01-31
  - rule: CL07
    resource: "*"
    reason: tags are copied by our backup tooling
    expires: 2026-12-31
"""
EXAMPLES = 120
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text that has broken parsers before: YAML indicators, tabs, anchors/aliases, tags, NUL and other control
# characters, a BOM, lone surrogates cannot be written as UTF-8 (excluded), very long runs.
NASTY = st.sampled_from(
    [
        "\t",
        ": ",
        "- ",
        "? ",
        "&a ",
        "*a",
        "!!python/object:os.system",
        "!!binary",
        "{",
        "[",
        "}",
        "]",
        "'",
        '"',
        "#",
        "|",
        ">",
        "%YAML 1.1",
        "---",
        "...",
        "\x00",
        "\x1b[2J",
        "\ufeff",
        "~",
        "null",
        "1e309",
        "-0",
        "0x1F",
        "2027-02-30",
        "yes",
        "<<: *a",
        "\u202e",
        "9" * 400,
        "a" * 5000,
    ]
)
JUNK = st.lists(st.one_of(st.text(max_size=12), NASTY), max_size=4).map("".join)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="aurora-audit-fuzz-") as d:
        yield Path(d)


@st.composite
def mutated_yaml(draw: Any, source: str) -> bytes:
    """A valid document with a few line-level edits: values replaced, lines dropped or duplicated, junk
    keys inserted, indentation broken, the text truncated; or (rarely) arbitrary bytes."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=300))
    lines = source.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "drop", "dup", "insert", "indent", "truncate", "key"]))
        line = lines[i]
        if op == "value" and ":" in line:
            lines[i] = line.split(":", 1)[0] + ": " + draw(JUNK)
        elif op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, line)
        elif op == "insert":
            indent = " " * draw(st.sampled_from([0, 2, 4, 3]))
            lines.insert(i, f"{indent}{draw(st.from_regex(r'[a-z_.]{1,12}', fullmatch=True))}: {draw(JUNK)}")
        elif op == "indent":
            lines[i] = " " * draw(st.integers(1, 5)) + line
        elif op == "truncate":
            lines[i] = line[: draw(st.integers(0, max(0, len(line) - 1)))]
        elif op == "key" and ":" in line:
            key, rest = line.split(":", 1)
            lines[i] = key.rstrip() + draw(st.text(min_size=1, max_size=3)) + ":" + rest
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))
    return text.encode("utf-8", "surrogatepass") if draw(st.booleans()) else text.encode("utf-8", "replace")


def _check_file_error(r: CliRun, path: Path, prop: str, *, need_line: bool) -> None:
    stats.fuzzed(prop, r.code)
    assert "Traceback" not in r.stderr + r.stdout
    assert r.code in (0, 1, 2), r
    if r.code == 2 and not r.error_lines:
        # accepted input whose audit has findings in `error`: exit 2 with the reports, marked incomplete
        assert '"complete": false' in (path.parent / "out" / "report.json").read_text()
    elif r.code == 2:
        line = assert_one_line_error(r)
        assert "internal error" not in line, line
        pattern = re.escape(str(path)) + (r":\d+" if need_line else "")
        assert re.search(pattern, line), line


def _evaluate(workdir: Path, *extra: str) -> CliRun:
    return invoke_main(
        ["check", "--from-snapshot", str(SNAPSHOT), "--format", "json", "--out", str(workdir / "out"), *extra]
    )


@FUZZ
@given(data=mutated_yaml(DEFAULT_BASELINE))
def test_fuzzed_baseline(workdir: Path, data: bytes) -> None:
    path = workdir / "baseline.yaml"
    path.write_bytes(data)
    _check_file_error(_evaluate(workdir, "--baseline", str(path)), path, "baseline", need_line=True)


@FUZZ
@given(data=mutated_yaml(PROD_BASELINE.replace("extends: default", "extends: default")))
def test_fuzzed_baseline_layered_on_prod(workdir: Path, data: bytes) -> None:
    path = workdir / "layer.yaml"
    path.write_bytes(data)
    r = _evaluate(workdir, "--baseline", "prod", "--baseline", str(path))
    _check_file_error(r, path, "baseline (layered)", need_line=True)


@FUZZ
@given(data=mutated_yaml(WAIVERS))
def test_fuzzed_waivers(workdir: Path, data: bytes) -> None:
    path = workdir / "waivers.yaml"
    path.write_bytes(data)
    _check_file_error(_evaluate(workdir, "--waivers", str(path)), path, "waivers", need_line=True)


_SNAP = json.loads(SNAPSHOT.read_text())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out += _paths(v, (*prefix, i))
    return out


_SNAP_PATHS = _paths(_SNAP)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | JUNK,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(JUNK, kids, max_size=3),
    max_leaves=5,
)


@st.composite
def mutated_snapshot(draw: Any) -> bytes:
    doc = json.loads(json.dumps(_SNAP))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_SNAP_PATHS))
        parent: Any = doc
        try:
            for k in path[:-1]:
                parent = parent[k]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            continue
    text = json.dumps(doc, allow_nan=True)
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "replace")


@FUZZ
@given(data=mutated_snapshot())
def test_fuzzed_snapshot(workdir: Path, data: bytes) -> None:
    path = workdir / "snapshot.json"
    path.write_bytes(data)
    r = invoke_main(
        ["check", "--from-snapshot", str(path), "--format", "json", "--out", str(workdir / "out")]
    )
    _check_file_error(r, path, "snapshot", need_line=False)


OPTIONS = {
    "--fail-on": st.one_of(st.sampled_from(["critical", "HIGH", "", "medium "]), JUNK),
    "--format": st.one_of(st.sampled_from(["html,pdf", ",", "json,,md", "JSON"]), JUNK),
    "--look-back-minutes": st.one_of(st.sampled_from(["0", "-1", "1441", "1e3", "60"]), JUNK),
    "--pg-dsn": st.one_of(
        st.sampled_from(
            [
                "postgresql://u:s3cr3t-fuzz@h/db?sslmode=bogus",
                "prod-app=mysql://u:s3cr3t-fuzz@h/db",
                "=postgresql://u:s3cr3t-fuzz@h/db",
                "postgresql://u:s3cr3t-fuzz@h:notaport/db",
                "postgresql://u:s3cr3t-fuzz@[::1/db",
            ]
        ),
        JUNK,
    ),
    "--baseline": st.one_of(st.sampled_from(["prod", "nope", "../../etc/passwd", "", "baselines"]), JUNK),
    "--waivers": st.one_of(st.sampled_from(["/nonexistent/w.yaml", "/dev/null", "/"]), JUNK),
    "--region": JUNK,
}


@FUZZ
@given(
    picked=st.lists(
        st.sampled_from(sorted(OPTIONS)).flatmap(lambda o: st.tuples(st.just(o), OPTIONS[o])),
        min_size=1,
        max_size=3,
    )
)
def test_fuzzed_options(workdir: Path, picked: list[tuple[str, str]]) -> None:
    # argv cannot carry NUL (execve): no shell could pass one
    picked = [(opt, value.replace("\x00", "")) for opt, value in picked]
    args = [part for pair in picked for part in pair]
    r = _evaluate(workdir, *args)
    stats.fuzzed("options", r.code)
    assert r.code in (0, 1, 2), r
    assert "Traceback" not in r.stderr + r.stdout
    if r.code == 2:
        line = assert_one_line_error(r)
        assert "internal error" not in line, line
        assert "s3cr3t-fuzz" not in r.stderr + r.stdout
        named = [
            opt
            for opt, value in picked
            if opt in line or not value.strip() or value.strip() in line or repr(value)[1:-1].strip() in line
        ]
        assert named or "baseline" in line or "waivers" in line, (picked, line)


# ---------------------------------------------------------------- a few real processes


def test_subprocess_bad_baseline_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "team.yaml"
    bad.write_text("schema: aurora-audit/baseline/v1\ncluster:\n  deletion_protection: true\n  typo_key: 1\n")
    r = run_cli(
        "check", "--from-snapshot", str(SNAPSHOT), "--baseline", str(bad), "--out", str(tmp_path / "o")
    )
    assert_one_line_error(r, f"{bad}:4", "typo_key")


def test_subprocess_binary_waivers(tmp_path: Path) -> None:
    bad = tmp_path / "w.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage\x80")
    r = run_cli(
        "check", "--from-snapshot", str(SNAPSHOT), "--waivers", str(bad), "--out", str(tmp_path / "o")
    )
    line = assert_one_line_error(r, str(bad))
    assert "internal error" not in line


def test_subprocess_bad_option_value(tmp_path: Path) -> None:
    r = run_cli(
        "check", "--from-snapshot", str(SNAPSHOT), "--fail-on", "severe", "--out", str(tmp_path / "o")
    )
    assert_one_line_error(r, "--fail-on")
