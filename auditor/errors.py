"""Typed exceptions. Only auditor/cli.py maps them to exit codes and one line on stderr."""

from __future__ import annotations


class AuditorError(Exception):
    """Could not audit what was asked. The message is one line: what, where, how to fix."""


class UsageError(AuditorError):
    """A bad option or argument."""


class InputFileError(AuditorError):
    """A malformed baseline, waiver, rule or snapshot file (message names file:line)."""


class NotFoundError(AuditorError):
    """An unknown cluster, deployment or baseline name."""


class CollectionFailed(AuditorError):
    """Nothing could be collected at all (no credentials, endpoint unreachable)."""
