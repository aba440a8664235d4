"""Loading baselines (with `extends`), the rule catalogue and waiver files — all validated with file:line."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor.engine import registry
from auditor.engine.waivers import Waivers, parse_waivers
from auditor.engine.yamlfile import YamlDoc, read_yaml, validate, validation_error
from auditor.errors import InputFileError, NotFoundError
from auditor.models.baseline import Baseline, BaselineFile
from auditor.models.rulespec import RuleSpec
from auditor.resources import baselines_dir, rules_dir

# Sections whose entries are leaves: a later file replaces a parameter's matcher whole
# (merging {min: 500} from one file with {max: 900} from another would surprise a reviewer).
_LEAF_SECTIONS = {"cluster_parameters", "db_parameters"}


# ---------------------------------------------------------------- baselines


def _is_file(p: Path) -> bool:
    try:
        return p.is_file()
    except OSError:  # e.g. ENAMETOOLONG: Path.is_file() only swallows "does not exist" errors
        return False


def resolve_baseline_ref(ref: str, relative_to: Path | None = None) -> Path:
    """NAME -> baselines/NAME.yaml; anything that looks like a path is a path (relative to the
    extending file's folder when given)."""
    looks_like_path = "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml"))
    if looks_like_path:
        p = Path(ref).expanduser()
        if not p.is_absolute() and relative_to is not None:
            p = relative_to / p
        if not _is_file(p):
            raise NotFoundError(
                f"baseline file {ref} not found (give an existing path or a name from {baselines_dir()})"
            )
        return p.resolve()
    p = baselines_dir() / f"{ref}.yaml"
    if not _is_file(p):
        known = ", ".join(sorted(x.stem for x in baselines_dir().glob("*.yaml"))) or "none"
        raise NotFoundError(f"unknown baseline {ref!r} (known names: {known}; or pass a path to a YAML file)")
    return p.resolve()


def source_label(path: Path) -> str:
    """How a baseline file is named in reports: NAME for a shipped baseline, else its path."""
    try:
        if path.parent == baselines_dir().resolve():
            return path.stem
    except OSError:
        pass
    return str(path)


def _merge(base: dict[str, Any], top: dict[str, Any], depth_key: str | None = None) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if depth_key not in _LEAF_SECTIONS and isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v, k)
        else:
            out[k] = v
    return out


def _load_chain(
    path: Path, stack: tuple[Path, ...], extends_at: tuple[str, int] | None
) -> list[tuple[Path, dict[str, Any]]]:
    if path in stack:
        chain = " -> ".join(p.name for p in stack + (path,))
        where = f"{extends_at[0]}:{extends_at[1]}" if extends_at else f"{path}:1"
        raise InputFileError(f"{where}: `extends` makes a cycle: {chain} (remove one of the extends)")
    doc = read_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.fail((), "a baseline must be a mapping", "start with `schema: aurora-audit/baseline/v1`")
    validate(doc, BaselineFile, hint="see the baseline format in the README / CONTRACT.md")
    data = dict(doc.data)
    ext = data.pop("extends", None)
    data.pop("schema", None)
    parents: list[tuple[Path, dict[str, Any]]] = []
    refs = [ext] if isinstance(ext, str) else list(ext or [])
    for n, ref in enumerate(refs):
        loc: tuple[str | int, ...] = ("extends", n) if not isinstance(ext, str) else ("extends",)
        try:
            parent = resolve_baseline_ref(str(ref), path.parent)
        except NotFoundError as exc:
            raise InputFileError(f"{path}:{doc.line(loc)}: {exc}") from None
        parents.extend(_load_chain(parent, stack + (path,), (str(path), doc.line(loc))))
    return parents + [(path, data)]


def load_baseline(refs: list[str] | None = None) -> Baseline:
    """Merge the referenced baselines in order (each with its `extends` chain); later wins.
    No refs means `default`."""
    merged: dict[str, Any] = {}
    sources: list[str] = []
    for ref in refs or ["default"]:
        for path, data in _load_chain(resolve_baseline_ref(ref), (), None):
            merged = _merge(merged, data)
            if source_label(path) not in sources:
                sources.append(source_label(path))
    try:
        return Baseline.model_validate({**merged, "sources": tuple(sources)})
    except ValidationError as exc:  # only reachable if merging produced something no single file had
        doc = YamlDoc(path=sources[-1] if sources else "<baseline>", data=merged, lines={})
        raise validation_error(doc, exc) from None


def baseline_from_mapping(data: dict[str, Any], name: str = "<inline>") -> Baseline:
    """An inline baseline (tests, captured text) validated like a file; `extends` resolved by name/path."""
    doc = YamlDoc(path=name, data=data, lines={})
    validate(doc, BaselineFile)
    body = dict(data)
    ext = body.pop("extends", None)
    body.pop("schema", None)
    merged: dict[str, Any] = {}
    sources: list[str] = []
    for ref in [ext] if isinstance(ext, str) else list(ext or []):
        for path, d in _load_chain(resolve_baseline_ref(str(ref)), (), None):
            merged = _merge(merged, d)
            sources.append(source_label(path))
    merged = _merge(merged, body)
    return Baseline.model_validate({**merged, "sources": tuple(sources + [name])})


# ---------------------------------------------------------------- rules


def load_rule_file(path: Path) -> RuleSpec:
    doc = read_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.fail((), "a rule file must be a mapping", "see rules/CL01.yaml for the format")
    spec = validate(doc, RuleSpec)
    assert isinstance(spec, RuleSpec)
    if spec.id != path.stem:
        raise doc.fail(
            ("id",),
            f"rule id {spec.id} does not match the file name {path.name}",
            f"rename the file to {spec.id}.yaml or fix the id",
        )
    try:
        entry = registry.get(spec.check)
    except KeyError:
        raise doc.fail(
            ("check",), f"unknown check {spec.check!r}", f"registered checks: {', '.join(registry.names())}"
        ) from None
    params = validate(
        doc,
        entry.params,
        spec.params,
        base_loc=("params",),
        hint=f"params of check {spec.check!r} are: {', '.join(entry.params.model_fields) or 'none'}",
    )
    spec._params = params
    spec._path = str(path)
    return spec


@lru_cache(maxsize=4)
def _load_rules_cached(folder: str) -> tuple[RuleSpec, ...]:
    files = sorted(Path(folder).glob("*.yaml"))
    if not files:
        raise InputFileError(f"{folder}:1: no rule files found (reinstall aurora-audit)")
    return tuple(load_rule_file(p) for p in files)


def load_rules(folder: Path | None = None) -> list[RuleSpec]:
    """Every rule in rules/*.yaml, validated (and its params parsed), sorted by id."""
    return list(_load_rules_cached(str((folder or rules_dir()).resolve())))


def get_rule(rule_id: str, folder: Path | None = None) -> RuleSpec:
    for r in load_rules(folder):
        if r.id == rule_id.upper():
            return r
    raise NotFoundError(f"unknown rule {rule_id!r} (see `aurora-audit rules list`)")


# ---------------------------------------------------------------- waivers


def load_waivers(path: Path | str) -> Waivers:
    return parse_waivers(read_yaml(path), {r.id for r in load_rules()})
