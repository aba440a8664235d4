"""YAML with line numbers: compose nodes, build plain data, remember where every key was written.

Used by the baseline, waiver and rule loaders so any error reads `file:line: what is wrong (how to fix)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from auditor.errors import InputFileError

Loc = tuple[str | int, ...]


@dataclass
class YamlDoc:
    path: str
    data: Any
    lines: dict[Loc, int]  # location -> 1-based line of its key (or item)

    def line(self, loc: Loc) -> int:
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.lines:
                return self.lines[loc[:n]]
        return 1

    def fail(self, loc: Loc, what: str, fix: str) -> InputFileError:
        return InputFileError(f"{self.path}:{self.line(loc)}: {what} ({fix})")


def read_yaml(path: Path | str) -> YamlDoc:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{p}:1: file not found (check the path)") from None
    except OSError as exc:
        raise InputFileError(f"{p}:1: cannot read the file: {exc.strerror} (check permissions)") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise InputFileError(f"{p}:{line}: not UTF-8 text (save the file as UTF-8)") from None
    return parse_yaml(text, str(p))


def _char(c: object) -> str:
    code = c if isinstance(c, int) else ord(str(c)[:1] or "\0")
    return f"U+{code:04X}"


def _one_line(text: object, limit: int = 200) -> str:
    return " ".join(str(text).split())[:limit]


def parse_yaml(text: str, name: str) -> YamlDoc:
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # the reader rejects NUL and other non-printable characters here
        node = loader.get_single_node()
        lines: dict[Loc, int] = {}
        data = _build(loader, node, (), lines, name) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = _one_line(exc.problem or exc)
        raise InputFileError(f"{name}:{line}: invalid YAML: {what} (fix the syntax)") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise InputFileError(
            f"{name}:{line}: invalid YAML: character {_char(exc.character)} is not allowed (remove it)"
        ) from None
    except yaml.YAMLError as exc:
        raise InputFileError(f"{name}:1: invalid YAML: {_one_line(exc)} (fix the syntax)") from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDoc(path=name, data=data, lines=lines)


def _build(loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, lines: dict[Loc, int], name: str) -> Any:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node, name)
            if not isinstance(key, str | int | float | bool):
                raise InputFileError(
                    f"{name}:{key_node.start_mark.line + 1}: a key must be a plain value (quote it)"
                )
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                raise InputFileError(
                    f"{name}:{key_node.start_mark.line + 1}: duplicate key {key!r} (keep one of them)"
                )
            lines[loc + (key,)] = key_node.start_mark.line + 1
            out[key] = _build(loader, value_node, loc + (key,), lines, name)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, loc + (n,), lines, name) for n, item in enumerate(node.value)]
    return _construct(loader, node, name)


def _construct(loader: yaml.SafeLoader, node: yaml.Node, name: str) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a timestamp like 2027-02-30
        raise InputFileError(
            f"{name}:{node.start_mark.line + 1}: cannot read {_one_line(node.value, 80)!r}: {_one_line(exc)} "
            "(quote it to make it a string, or correct it)"
        ) from None


def validate(
    doc: YamlDoc, model: type[BaseModel], data: Any = None, *, base_loc: Loc = (), hint: str = ""
) -> Any:
    """Validate `data` (default: the whole document) against a pydantic model; errors as file:line."""
    try:
        return model.model_validate(doc.data if data is None else data)
    except ValidationError as exc:
        raise validation_error(doc, exc, base_loc=base_loc, hint=hint) from None


def validation_error(
    doc: YamlDoc, exc: ValidationError, *, base_loc: Loc = (), hint: str = ""
) -> InputFileError:
    errors = exc.errors()
    # An unknown key usually explains a "missing" one (a typo), so report it first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = base_loc + tuple(p for p in err["loc"] if not _is_internal(p))
    where = ".".join(str(p) for p in loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = ".".join(str(p) for p in loc[:-1]) or "the top level"
        what = f"unknown key {loc[-1]!r} under {parent}"
        fix = hint or "check the spelling against the documented format; unknown keys are not ignored"
    elif kind == "missing":
        what = f"{where} is required"
        fix = hint or f"add {loc[-1]!r}"
    elif kind == "literal_error":
        what = f"{where}: {err['msg']} (got {err.get('input')!r})"
        fix = "use one of the allowed values"
    else:
        what = f"{where}: {err['msg']} (got {err.get('input')!r})"
        fix = hint or "correct the value"
    n = len(errors)
    if n > 1:
        what += f"; {n - 1} more problem(s) after this one"
    return InputFileError(f"{doc.path}:{doc.line(loc)}: {what} ({fix})")


def _is_internal(part: Any) -> bool:
    # pydantic inserts union-member / validator names into loc
    # (e.g. 'tuple[str, ...]', 'function-before[...]')
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool"})
