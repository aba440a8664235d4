"""The CLI's plumbing: options shared by commands, one-line errors, atomic report files, terminal output.

auditor/cli.py holds the commands; everything here is shared by them and kept out of their way.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from auditor.errors import AuditorError, UsageError
from auditor.exit_codes import ExitCode
from auditor.models.findings import AuditResult, Severity

_DEBUG = False


# ------------------------------------------------------------------ helpers


def _err(message: str) -> None:
    """One line on stderr; control characters from user input are shown escaped, never sent raw."""
    safe = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in message)
    click.echo(f"aurora-audit: error: {safe}", err=True)


def _progress(message: str) -> None:
    """Progress on stderr for people at a terminal; silent in pipelines."""
    if sys.stderr.isatty():
        click.echo(f"\r\033[K{message}…", err=True, nl=False)


def _progress_done() -> None:
    if sys.stderr.isatty():
        click.echo("\r\033[K", err=True, nl=False)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomic(path: Path, text: str) -> None:
    """Write a file atomically (temp file in the same folder + rename): no half-written reports."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; reports are ordinary files
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def parse_formats(value: str) -> list[Any]:
    from auditor.report import Format

    out = []
    for part in value.split(","):
        part = part.strip().lower()
        if not part:
            continue
        try:
            out.append(Format(part))
        except ValueError:
            names = ",".join(f.value for f in Format)
            raise UsageError(f"--format: unknown format {part!r}; choose from {names}") from None
    if not out:
        raise UsageError("--format: name at least one of html,junit,json,md")
    return out


def mark_incomplete(result: AuditResult, code: ExitCode, why: str) -> AuditResult:
    """A run that exits 2 is marked incomplete in every report it writes (CONTRACT.md "Exit codes")."""
    if code is not ExitCode.ERROR or not result.complete and why in result.notes:
        return result
    return result.model_copy(update={"complete": False, "notes": [*result.notes, why]})


def write_reports(result: AuditResult, out_dir: str, formats: str) -> list[Path]:
    from auditor.report import FILENAMES, render

    # Render every format before writing any: a failing renderer leaves the previous set whole, never a mix
    # of two runs (each file is itself replaced atomically).
    rendered = [(Path(out_dir) / FILENAMES[fmt], render(fmt, result)) for fmt in parse_formats(formats)]
    for path, text in rendered:
        write_atomic(path, text)
    return [path for path, _ in rendered]


def print_result(result: AuditResult, quiet: bool, paths: list[Path], verdict: str | None = None) -> None:
    from auditor.report.terminal import render_terminal, should_color

    text = render_terminal(result, color=should_color(sys.stdout), quiet=quiet)
    if text:
        click.echo(text, nl=not text.endswith("\n"))
    if verdict:
        click.echo(verdict)
    if not quiet and paths:
        click.echo("reports: " + ", ".join(str(p) for p in paths))


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Map typed errors to exit 2 with one line on stderr; tracebacks only with --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AuditorError as e:
            _progress_done()
            if _DEBUG:
                raise
            _err(str(e))
            sys.exit(ExitCode.ERROR)
        except BrokenPipeError:
            # the reader went away (`aurora-audit rules list | head`): stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(ExitCode.OK)
        except KeyboardInterrupt:
            _err("interrupted; no report was written for the unfinished run")
            sys.exit(ExitCode.ERROR)
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except Exception as e:  # noqa: BLE001 - last line of defence: one line, exit 2
            _progress_done()
            if _DEBUG:
                raise
            _err(
                f"internal error: {type(e).__name__}: {e} "
                "(rerun with --debug for a traceback; please report it)"
            )
            sys.exit(ExitCode.ERROR)

    return wrapper


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    global _DEBUG
    if value:
        _DEBUG = True
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
        for noisy in ("botocore", "urllib3", "boto3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return value


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Tracebacks on errors and the AWS call log.",
)


def aws_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option(
            "--region",
            "regions",
            multiple=True,
            metavar="R",
            help="AWS region (repeatable for fleet; `all` = every enabled region).",
        ),
        click.option("--profile", default=None, metavar="P", help="AWS profile."),
        click.option(
            "--role-arn",
            "role_arns",
            multiple=True,
            metavar="ARN",
            help="Role to assume (repeatable for fleet: one per account).",
        ),
        click.option(
            "--endpoint-url", default=None, metavar="URL", help="AWS endpoint (as AWS_ENDPOINT_URL does)."
        ),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def audit_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option(
            "--baseline",
            "baselines",
            multiple=True,
            metavar="NAME|PATH",
            help="Approved baseline (repeatable; later overrides earlier). Default: default.",
        ),
        click.option("--waivers", default=None, metavar="PATH", help="Accepted risks (waivers YAML)."),
        click.option(
            "--pg-dsn",
            "pg_dsns",
            multiple=True,
            metavar="[CLUSTER_ID=]URI",
            help="libpq URI of a cluster's PostgreSQL writer (repeatable).",
        ),
        click.option(
            "--pg-sslrootcert",
            default=None,
            metavar="PATH",
            help="CA bundle to verify the writer's TLS certificate (or PGSSLROOTCERT).",
        ),
        click.option(
            "--pg-user",
            default=None,
            metavar="NAME",
            help="Database user (granted rds_iam) for the IAM auth token login when there is no --pg-dsn. "
            "Without it, an IAM-auth cluster with a managed master secret is read with that secret.",
        ),
        click.option("--no-db", is_flag=True, help="Skip in-database checks (findings are skipped)."),
        click.option(
            "--from-snapshot",
            default=None,
            metavar="FILE",
            help="Evaluate a saved snapshot offline instead of collecting.",
        ),
        click.option(
            "--format",
            "formats",
            default="html,junit,json",
            show_default=True,
            help="Report formats: html,junit,json,md.",
        ),
        click.option(
            "--out",
            "out_dir",
            default="reports",
            show_default=True,
            metavar="DIR",
            help="Folder for the reports.",
        ),
        click.option(
            "--fail-on",
            type=click.Choice([s.value for s in Severity]),
            default="high",
            show_default=True,
            help="Lowest severity whose failure fails the run.",
        ),
        click.option(
            "--look-back-minutes",
            type=click.IntRange(1, 1440),
            default=60,
            show_default=True,
            help="Window for metric maxima (replica and global lag).",
        ),
        click.option("--quiet", "-q", is_flag=True, help="Print only the verdict."),
        debug_option,
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def run_options(**kw: Any) -> Any:
    from auditor.api import RunOptions

    return RunOptions(
        regions=tuple(kw.get("regions") or ()),
        profile=kw.get("profile"),
        role_arns=tuple(kw.get("role_arns") or ()),
        endpoint_url=kw.get("endpoint_url"),
        baselines=tuple(kw.get("baselines") or ()) or ("default",),
        waivers=kw.get("waivers"),
        pg_dsns=tuple(kw.get("pg_dsns") or ()),
        pg_sslrootcert=kw.get("pg_sslrootcert") or os.environ.get("PGSSLROOTCERT"),
        pg_user=kw.get("pg_user") or None,
        no_db=bool(kw.get("no_db")),
        allow_skip_db=bool(kw.get("allow_skip_db")),
        from_snapshot=kw.get("from_snapshot"),
        fail_on=Severity(kw.get("fail_on") or "high"),
        look_back_minutes=int(kw.get("look_back_minutes") or 60),
    )


def _print_calls(snapshot: Any) -> None:
    if not _DEBUG or snapshot is None or not getattr(snapshot, "calls", None):
        return
    click.echo("AWS calls (operation, count, seconds):", err=True)
    for c in sorted(snapshot.calls, key=lambda c: c.operation):
        click.echo(f"  {c.operation:<55} {c.calls:>5} {c.seconds:>8.3f}", err=True)
    click.echo(f"  {'total':<55} {sum(c.calls for c in snapshot.calls):>5}", err=True)
