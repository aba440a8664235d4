"""The `aurora-audit` command line: parse -> api -> files + exit code. Errors -> one line on stderr.

The shared plumbing (options, one-line errors, atomic report writes, terminal output) is in cli_support.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from auditor import __version__
from auditor.cli_support import (
    _err,
    _print_calls,
    _progress,
    _progress_done,
    audit_options,
    aws_options,
    debug_option,
    guarded,
    mark_incomplete,
    parse_formats,
    print_result,
    run_options,
    write_atomic,
    write_reports,
)
from auditor.errors import UsageError
from auditor.exit_codes import ExitCode, decide
from auditor.models.findings import Severity

__all__ = ["cli", "main", "parse_formats", "rules_markdown", "write_atomic"]

# The gate asks "is the Global Database healthy now?": lag maxima over the last 10 minutes, not the hour.
GATE_LOOK_BACK_MINUTES = 10


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
@click.option("--pg-user", default=None, metavar="NAME", help="Database user for the IAM auth token login.")
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


@cli.command()
@debug_option
@guarded
def policy() -> None:
    """Print the least-privilege IAM policy aurora-audit needs (only reads; generated from its allow-list)."""
    from auditor.collect.iam import policy_json

    click.echo(policy_json(), nl=False)


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
