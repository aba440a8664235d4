"""The `aurora-audit` command line: parse -> api -> files + exit code. Errors -> one line on stderr."""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from auditor import __version__
from auditor.errors import AuditorError, UsageError
from auditor.exit_codes import ExitCode, decide
from auditor.models.findings import AuditResult, Severity

_DEBUG = False
# The gate asks "is the Global Database healthy now?": lag maxima over the last 10 minutes, not the hour.
GATE_LOOK_BACK_MINUTES = 10


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


# ------------------------------------------------------------------ commands


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="aurora-audit")
@debug_option
def cli() -> None:
    """Configuration-drift and production-readiness auditor for Amazon Aurora PostgreSQL.

    Exit codes: 0 audit complete and clean, 1 failures at or above --fail-on, 2 could not audit (fail closed).
    """


@cli.command()
@click.argument("cluster_id", required=False)
@aws_options
@audit_options
@guarded
def check(cluster_id: str | None, formats: str, out_dir: str, quiet: bool, **kw: Any) -> None:
    """Audit one cluster and everything around it: instances, parameter groups, Global Database,
    blue/green, proxy, scaling, alarms and the state inside PostgreSQL."""
    from auditor.api import run_check

    opts = run_options(**kw)
    outcome = run_check(cluster_id, opts, progress=_progress)
    _progress_done()
    code = decide(outcome.result, opts.fail_on)
    result = mark_incomplete(
        outcome.result, code, f"findings in error at or above --fail-on {opts.fail_on.value}"
    )
    paths = write_reports(result, out_dir, formats)
    _print_calls(outcome.snapshot)
    print_result(result, quiet, paths)
    sys.exit(code)


@cli.command()
@click.option(
    "--blue-green", "bgd_id", default=None, metavar="BGD_ID", help="Blue/green deployment identifier or name."
)
@click.option(
    "--cluster",
    "cluster_id",
    default=None,
    metavar="CLUSTER_ID",
    help="Find this (blue) cluster's active blue/green deployment.",
)
@click.option("--allow-skip-db", is_flag=True, help="Let the gate pass with in-database checks skipped.")
@click.option(
    "--target-engine-version",
    default=None,
    metavar="V",
    help="Engine version green must run (the deployment API does not return it).",
)
@aws_options
@audit_options
@guarded
def gate(
    bgd_id: str | None,
    cluster_id: str | None,
    target_engine_version: str | None,
    formats: str,
    out_dir: str,
    quiet: bool,
    **kw: Any,
) -> None:
    """Pre-switchover gate for a blue/green deployment. Fails closed.

    Lag is read over the last 10 minutes unless --look-back-minutes says otherwise."""
    from auditor.api import run_gate

    if not bgd_id and not cluster_id and not kw.get("from_snapshot"):
        raise UsageError("gate needs --blue-green BGD_ID or --cluster CLUSTER_ID")
    ctx = click.get_current_context()
    if ctx.get_parameter_source("look_back_minutes") is click.core.ParameterSource.DEFAULT:
        kw["look_back_minutes"] = GATE_LOOK_BACK_MINUTES
    opts = run_options(**kw)
    outcome = run_gate(
        bgd_id, cluster_id, opts, target_engine_version=target_engine_version, progress=_progress
    )
    _progress_done()
    code = decide(
        outcome.result, opts.fail_on, gate=True, db_skipped_unapproved=outcome.db_skipped_unapproved
    )
    why = (
        "in-database checks were skipped (--no-db) without --allow-skip-db"
        if outcome.db_skipped_unapproved
        else "a blue/green check could not be verified (fail closed)"
    )
    result = mark_incomplete(outcome.result, code, why)
    paths = write_reports(result, out_dir, formats)
    _print_calls(outcome.snapshot)
    from auditor.report.terminal import gate_verdict, should_color

    print_result(
        result,
        quiet,
        paths,
        verdict=gate_verdict(result, code, outcome.db_skipped_unapproved, color=should_color(sys.stdout)),
    )
    if code is ExitCode.ERROR and result.notes:
        _err(one_line_note(result.notes[0]))
    sys.exit(code)


def one_line_note(text: str) -> str:
    return " ".join(text.split())


@cli.command()
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Only clusters with this tag.")
@click.option(
    "--engine", "engines", multiple=True, metavar="E", help="Only this engine (default aurora-postgresql)."
)
@click.option("--snapshot-out", default=None, metavar="FILE", help="Also keep the fleet snapshot.")
@click.option(
    "--previous",
    default=None,
    metavar="REPORT_JSON",
    help="Last run's report.json: mark findings new / open / resolved.",
)
@click.option("--shard", default=None, metavar="K/N", help="Take part K of N (split by account-region).")
@click.option("--rate-limit", type=click.FloatRange(0.1, 100), default=None, metavar="N",
              help="AWS calls per second per account-region (default 10; RDS allows about 12 Describe/s).")
@click.option("--burst", type=click.IntRange(1, 300), default=None, metavar="N",
              help="Calls allowed at once before the rate applies (default 40; AWS's bucket holds ~300).")
@aws_options
@audit_options
@guarded
def fleet(
    rate_limit: float | None,
    burst: int | None,
    tags: tuple[str, ...],
    engines: tuple[str, ...],
    snapshot_out: str | None,
    previous: str | None,
    shard: str | None,
    formats: str,
    out_dir: str,
    quiet: bool,
    **kw: Any,
) -> None:
    """Nightly audit of every Aurora cluster in the given regions and accounts."""
    from dataclasses import replace

    from auditor.api import run_fleet

    opts = replace(run_options(**kw), rate_limit=rate_limit, burst=burst)
    outcome = run_fleet(opts, tags=tags, engines=engines, previous=previous, shard=shard, progress=_progress)
    _progress_done()
    if snapshot_out and outcome.snapshot is not None:
        write_atomic(Path(snapshot_out), outcome.snapshot.to_json())
    code = decide(outcome.result, opts.fail_on)
    result = mark_incomplete(
        outcome.result, code, f"findings in error at or above --fail-on {opts.fail_on.value}"
    )
    paths = write_reports(result, out_dir, formats)
    _print_calls(outcome.snapshot)
    print_result(result, quiet, paths)
    sys.exit(code)


@cli.command()
@click.argument("cluster_id")
@click.option("-o", "--output", required=True, metavar="FILE", help="Where to write the snapshot JSON.")
@aws_options
@click.option("--pg-dsn", "pg_dsns", multiple=True, metavar="[CLUSTER_ID=]URI")
@click.option("--pg-sslrootcert", default=None, metavar="PATH")
@click.option("--no-db", is_flag=True, help="Do not read PostgreSQL.")
@click.option("--look-back-minutes", type=click.IntRange(1, 1440), default=60, show_default=True)
@debug_option
@guarded
def snapshot(cluster_id: str, output: str, **kw: Any) -> None:
    """Collect CLUSTER_ID's whole topology and write it as JSON (for later offline evaluation)."""
    from auditor.api import collect_check_snapshot

    opts = run_options(**kw)
    snap = collect_check_snapshot(cluster_id, opts, progress=_progress)
    _progress_done()
    write_atomic(Path(output), snap.to_json())
    _print_calls(snap)
    n_err = len(snap.errors)
    click.echo(
        f"snapshot of {cluster_id}: {len(snap.clusters)} clusters, {len(snap.instances)} instances, "
        f"{len(snap.parameter_groups)} parameter groups, "
        f"{sum(c.calls for c in snap.calls)} AWS calls -> {output}"
    )
    if n_err:
        click.echo(f"{n_err} collection error(s) recorded in the snapshot:", err=True)
        for e in snap.errors[:20]:
            click.echo(f"  {e.operation} {e.resource}: {e.code or ''} {e.message}", err=True)
        sys.exit(ExitCode.ERROR)


@cli.command()
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@debug_option
@guarded
def diff(old: str, new: str, as_json: bool) -> None:
    """Drift between two snapshots: what changed, where (exit 1 when anything changed)."""
    from auditor.api import load_snapshot_file
    from auditor.diffing import diff_snapshots, diff_to_json, render_diff_text

    changes = diff_snapshots(load_snapshot_file(old), load_snapshot_file(new))
    click.echo(diff_to_json(changes, old=old, new=new) if as_json else render_diff_text(changes))
    sys.exit(ExitCode.FINDINGS if changes else ExitCode.OK)


@cli.group()
def baseline() -> None:
    """Approved baselines."""


@baseline.command("capture")
@click.argument("cluster_id", required=False)
@click.option("-o", "--output", required=True, metavar="FILE")
@click.option("--from-snapshot", default=None, metavar="FILE")
@aws_options
@debug_option
@guarded
def baseline_capture(cluster_id: str | None, output: str, from_snapshot: str | None, **kw: Any) -> None:
    """Write an approved baseline YAML from a known-good cluster."""
    from auditor.api import collect_check_snapshot, load_snapshot_file
    from auditor.engine.capture import capture_baseline

    opts = run_options(no_db=True, **kw)
    if from_snapshot:
        snap = load_snapshot_file(from_snapshot)
        cluster_id = cluster_id or next((t.id for t in snap.targets if t.kind == "cluster"), None)
        if not cluster_id:
            raise UsageError("baseline capture: name CLUSTER_ID (the snapshot has no cluster target)")
    else:
        if not cluster_id:
            raise UsageError("baseline capture needs CLUSTER_ID (or --from-snapshot FILE)")
        snap = collect_check_snapshot(cluster_id, opts, progress=_progress)
        _progress_done()
    write_atomic(Path(output), capture_baseline(snap, cluster_id))
    click.echo(f"baseline captured from {cluster_id} -> {output}")


@cli.group()
def rules() -> None:
    """The rule catalogue."""


@rules.command("list")
@click.option("--family", default=None, help="Only this family (CL, HA, PG, RS, GD, BG).")
@click.option("--markdown", is_flag=True, help="A Markdown table (the README's rule table is made this way).")
@debug_option
@guarded
def rules_list(family: str | None, markdown: bool) -> None:
    """List every rule: id, severity, title."""
    from auditor.engine.loader import load_rules
    from auditor.models.rulespec import FAMILIES

    order = list(FAMILIES)
    chosen = sorted(
        (r for r in load_rules() if not family or r.family.upper() == family.upper()),
        key=lambda r: (order.index(r.family) if r.family in order else len(order), r.id),
    )
    if markdown:
        click.echo(rules_markdown(chosen), nl=False)
        return
    for r in chosen:
        click.echo(f"{r.id}  {r.severity.value:<8}  {r.title}")


def rules_markdown(rules: list[Any]) -> str:
    lines = ["| id | severity | checks |", "| --- | --- | --- |"]
    for r in rules:
        title = r.title.replace("|", "\\|")
        lines.append(f"| {r.id} | {r.severity.value} | {title} |")
    return "\n".join(lines) + "\n"


@rules.command("show")
@click.argument("rule_id")
@debug_option
@guarded
def rules_show(rule_id: str) -> None:
    """Show one rule: rationale, parameters, remediation."""
    from auditor.engine.loader import load_rules

    by_id = {r.id: r for r in load_rules()}
    rule = by_id.get(rule_id.upper())
    if rule is None:
        import difflib

        close = difflib.get_close_matches(rule_id.upper(), list(by_id), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `aurora-audit rules list`"
        raise UsageError(f"unknown rule {rule_id!r}{hint}")
    click.echo(rule.describe())


@cli.command()
@click.option("--out", "out_dir", default=os.path.join("reports", "demo"), show_default=True, metavar="DIR")
@click.option("--format", "formats", default="html,junit,json,md", show_default=True)
@click.option("--quiet", "-q", is_flag=True)
@debug_option
@guarded
def demo(out_dir: str, formats: str, quiet: bool) -> None:
    """The whole job with no AWS account: a simulated production fleet, audited, reports written."""
    from auditor.demo import run_demo

    run_demo(
        out_dir=out_dir,
        formats=formats,
        quiet=quiet,
        echo=click.echo,
        write_reports=write_reports,
        progress=_progress,
        progress_done=_progress_done,
    )


@cli.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "formats", default="html,junit,json", show_default=True)
@click.option("--out", "out_dir", default="reports", show_default=True, metavar="DIR")
@click.option("--fail-on", type=click.Choice([s.value for s in Severity]), default="high", show_default=True)
@click.option("--quiet", "-q", is_flag=True)
@debug_option
@guarded
def merge(reports: tuple[str, ...], formats: str, out_dir: str, fail_on: str, quiet: bool) -> None:
    """Join report.json files from sharded fleet runs into one report."""
    from auditor.api import merge_reports

    result = merge_reports(list(reports), fail_on=Severity(fail_on))
    code = decide(result, Severity(fail_on))
    result = mark_incomplete(result, code, f"findings in error at or above --fail-on {fail_on}")
    paths = write_reports(result, out_dir, formats)
    print_result(result, quiet, paths)
    sys.exit(code)


def main() -> None:
    """Console entry point: click usage errors become one line on stderr and exit 2."""
    try:
        rv = cli.main(standalone_mode=False, prog_name="aurora-audit")
    except click.exceptions.NoArgsIsHelpError as e:
        click.echo(e.ctx.get_help() if e.ctx else str(e))
        sys.exit(ExitCode.ERROR)
    except click.UsageError as e:
        cmd = e.ctx.command_path if e.ctx else "aurora-audit"
        _err(f"{e.format_message()} (see `{cmd} --help`)")
        sys.exit(ExitCode.ERROR)
    except click.ClickException as e:
        _err(e.format_message())
        sys.exit(ExitCode.ERROR)
    except click.exceptions.Abort:
        _err("aborted")
        sys.exit(ExitCode.ERROR)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
