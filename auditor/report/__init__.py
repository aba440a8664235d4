"""Reporters: each turns an `AuditResult` into the text of one output file. Only cli.py writes files.

from auditor.report import Format, FILENAMES, render
for fmt in formats:
    (out_dir / FILENAMES[fmt]).write_text(render(fmt, result), encoding="utf-8")
"""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from auditor.models.findings import AuditResult


class Format(StrEnum):
    HTML = "html"
    JUNIT = "junit"
    JSON = "json"
    MD = "md"


FILENAMES: dict[Format, str] = {
    Format.HTML: "report.html",
    Format.JUNIT: "junit.xml",
    Format.JSON: "report.json",
    Format.MD: "summary.md",
}

DEFAULT_FORMATS: tuple[Format, ...] = (Format.HTML, Format.JUNIT, Format.JSON)


def parse_formats(value: str) -> list[Format]:
    """`--format html,junit,json,md` -> formats in the order given, without duplicates.

    Raises ValueError naming the bad entry and the accepted ones.
    """
    out: list[Format] = []
    for part in (p.strip().lower() for p in value.split(",")):
        if not part:
            continue
        try:
            fmt = Format(part)
        except ValueError:
            accepted = ",".join(f.value for f in Format)
            raise ValueError(f"unknown report format {part!r}; choose from {accepted}") from None
        if fmt not in out:
            out.append(fmt)
    return out


def render(fmt: Format, result: AuditResult) -> str:
    """The text of one report file. Pure: no I/O, no clock."""
    # Imports are local so `aurora-audit rules list` does not pay for Jinja2.
    match fmt:
        case Format.JSON:
            from auditor.report.json import render_json

            return render_json(result)
        case Format.JUNIT:
            from auditor.report.junit import render_junit

            return render_junit(result)
        case Format.HTML:
            from auditor.report.html import render_html

            return render_html(result)
        case Format.MD:
            from auditor.report.markdown import render_markdown

            return render_markdown(result)
        case _:
            assert_never(fmt)


__all__ = ["DEFAULT_FORMATS", "FILENAMES", "Format", "parse_formats", "render"]
