"""Orchestration: collect (or load) a snapshot, evaluate it, return the AuditResult.

The CLI and the tests call these; nothing here prints or writes files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from auditor.errors import InputFileError, NotFoundError, UsageError
from auditor.models.findings import AuditResult, Severity
from auditor.models.snapshot import Snapshot

ProgressFn = Callable[[str], None]


@dataclass(frozen=True)
class RunOptions:
    """Options shared by check / gate / fleet (CONTRACT.md names)."""

    regions: tuple[str, ...] = ()
    profile: str | None = None
    role_arns: tuple[str, ...] = ()
    endpoint_url: str | None = None
    baselines: tuple[str, ...] = ("default",)
    waivers: str | None = None
    pg_dsns: tuple[str, ...] = ()
    pg_sslrootcert: str | None = None
    pg_user: str | None = None  # --pg-user: database user for the IAM auth token login
    no_db: bool = False
    allow_skip_db: bool = False
    from_snapshot: str | None = None
    fail_on: Severity = Severity.HIGH
    look_back_minutes: int = 60
    tags: tuple[tuple[str, str], ...] = ()
    engines: tuple[str, ...] = ()
    target_engine_version: str | None = None
    rate_limit: float | None = None  # fleet: AWS calls per second per account-region (client-side budget)
    burst: int | None = None
    # Applied to every collected snapshot before evaluation (the demo supplies simulated in-database state).
    snapshot_hook: Callable[[Snapshot], Snapshot] | None = None

    @property
    def region(self) -> str | None:
        return self.regions[0] if self.regions else None


@dataclass
class RunOutcome:
    result: AuditResult
    snapshot: Snapshot | None
    # gate only: in-database checks were skipped (--no-db) without --allow-skip-db
    db_skipped_unapproved: bool = False


def load_snapshot_file(path: str) -> Snapshot:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InputFileError(f"{path}: cannot read snapshot ({e.strerror}); check the path") from None
    try:
        return Snapshot.from_json(text)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(x) for x in first.get("loc", ()))
        raise InputFileError(
            f"{path}: not an aurora-audit snapshot ({loc or 'document'}: {first.get('msg')}); "
            "write one with `aurora-audit snapshot CLUSTER_ID -o FILE`"
        ) from None


def aws_context(opts: RunOptions, role_arn: str | None = None, region: str | None = None):  # noqa: ANN201
    from auditor.collect.aws import AwsContext, AwsOptions

    return AwsContext(
        AwsOptions(
            profile=opts.profile,
            region=region or opts.region,
            role_arn=role_arn,
            endpoint_url=opts.endpoint_url,
        )
    )


def db_options(opts: RunOptions, default_cluster: str | None):  # noqa: ANN201
    """DbOptions from the CLI options; `default_cluster` takes a bare `--pg-dsn postgresql://...`
    (None for fleet: every --pg-dsn names its cluster)."""
    from auditor.collect.postgres import DbOptions, parse_pg_dsn_options

    return DbOptions(
        dsns=parse_pg_dsn_options(list(opts.pg_dsns), default_cluster),
        no_db=opts.no_db,
        sslrootcert=opts.pg_sslrootcert,
        user=opts.pg_user,
    )


def _resolve_region(opts: RunOptions, ctx: object) -> str:
    if opts.region and opts.region != "all":
        return opts.region
    region = getattr(getattr(ctx, "session", None), "region_name", None)
    if not region:
        raise UsageError("no AWS region: pass --region R or set AWS_REGION / AWS_DEFAULT_REGION")
    return str(region)


def evaluate_snapshot(
    snapshot: Snapshot, opts: RunOptions, command: str, targets: list[str] | None = None
) -> AuditResult:
    from auditor.engine.loader import load_baseline, load_waivers
    from auditor.engine.runner import evaluate

    baseline = load_baseline(list(opts.baselines) or ["default"])
    waivers = load_waivers(opts.waivers) if opts.waivers else None
    return evaluate(
        snapshot, baseline, waivers=waivers, command=command, fail_on=opts.fail_on, targets=targets
    )


def collect_check_snapshot(cluster_id: str, opts: RunOptions, progress: ProgressFn | None = None) -> Snapshot:
    from auditor.collect.topology import collect_snapshot

    ctx = aws_context(opts, opts.role_arns[0] if opts.role_arns else None)
    region = _resolve_region(opts, ctx)
    if progress:
        progress(f"collecting {cluster_id} in {region}")
    return collect_snapshot(
        ctx,
        region,
        [cluster_id],
        look_back_minutes=opts.look_back_minutes,
        db=db_options(opts, cluster_id),
    )


def run_check(cluster_id: str | None, opts: RunOptions, progress: ProgressFn | None = None) -> RunOutcome:
    targets: list[str] | None = None
    if opts.from_snapshot:
        snapshot = load_snapshot_file(opts.from_snapshot)
        if cluster_id:  # audit that cluster of the snapshot, and only it (a fleet snapshot holds many)
            audited = sorted({c.id for c in snapshot.clusters if c.role == "target"})
            if cluster_id not in audited:
                import difflib

                close = difflib.get_close_matches(cluster_id, audited, n=3)
                hint = (
                    f"did you mean {', '.join(close)}?"
                    if close
                    else f"it holds {', '.join(audited) or 'none'}"
                )
                raise NotFoundError(
                    f"cluster {cluster_id} is not an audited cluster of {opts.from_snapshot} ({hint})"
                )
            targets = [cluster_id]
    else:
        if not cluster_id:
            raise UsageError("check needs CLUSTER_ID (or --from-snapshot FILE)")
        snapshot = collect_check_snapshot(cluster_id, opts, progress)
        if opts.snapshot_hook:
            snapshot = opts.snapshot_hook(snapshot)
    if progress:
        progress("evaluating")
    return RunOutcome(evaluate_snapshot(snapshot, opts, "check", targets), snapshot)


# Re-exports, imported last: auditor.gate (issue 6) and auditor.fleet (issue 7: `fleet` and `merge`) import
# this module's names lazily, so the CLI and tests keep calling auditor.api.
from auditor.fleet import merge_reports as merge_reports  # noqa: E402
from auditor.fleet import run_fleet as run_fleet  # noqa: E402
from auditor.gate import run_gate as run_gate  # noqa: E402  (issue 6; gate.py imports api's names lazily)
