"""Where the shipped rules/ and baselines/ live: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    packaged = _PKG / "_data" / name  # wheel install (pyproject force-include)
    if packaged.is_dir():
        return packaged
    return _PKG.parent / name  # source checkout / editable install


def rules_dir() -> Path:
    return _data_dir("rules")


def baselines_dir() -> Path:
    return _data_dir("baselines")
