"""`aurora-audit fleet`: every Aurora PostgreSQL cluster of the given accounts and regions, in one report.

Work is split into account-regions ("units"). Units run in parallel (a thread each, bounded), and inside a
unit `topology.collect_snapshot` collects the region's clusters in batches (one DescribeDBInstances per 50
clusters, each distinct parameter group once per account-region). Every client shares a RateLimiter with a
token bucket per account-region (auditor/collect/ratelimit.py). The per-unit snapshots merge into one fleet
Snapshot (auditor/fleet_merge.py), evaluated once. A unit that cannot be read at all yields an `error`
finding FL01 for that account-region (exit 2) while the others complete; readable ones get an FL01 `pass`.

`--shard K/N` takes every N-th unit of the sorted unit list, starting at K; `aurora-audit merge` joins the
shards' report.json files (auditor/fleet_merge.py).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.engine.checks.coverage import is_unreadable
from auditor.errors import AuditorError, CollectionFailed, NotFoundError, UsageError
from auditor.fleet_merge import load_report, merge_reports, merge_snapshots
from auditor.models.findings import Status
from auditor.models.snapshot import CollectionError, Snapshot, Target

if TYPE_CHECKING:
    from auditor.api import RunOptions, RunOutcome
    from auditor.collect.ratelimit import LimitedAwsContext, RateBudget, RateLimiter

__all__ = ["run_fleet", "merge_reports", "parse_shard", "select_shard", "Unit"]

ProgressFn = Callable[[str], None]

UNIT_WORKERS = 8  # account-regions collected at once
INNER_WORKERS = 12  # concurrent reads inside one account-region (the token bucket keeps the rate)
DEFAULT_ENGINES = ("aurora-postgresql",)

# EC2 DescribeRegions OptInStatus values of regions the account can use (EC2 API Reference, DescribeRegions).
ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})


@dataclass(frozen=True, order=True)
class Unit:
    """One account-region. `account` is a label known before any call: the role ARN's account or 'default'."""

    account: str
    region: str
    role_arn: str = ""

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"


# ------------------------------------------------------------------ options


def parse_shard(shard: str | None) -> tuple[int, int]:
    """ "K/N" -> (K, N) with 1 <= K <= N; None -> (1, 1)."""
    if shard is None or shard == "":
        return 1, 1
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", shard)
    if not m or not (1 <= int(m.group(1)) <= int(m.group(2))):
        raise UsageError(f"--shard {shard!r}: expected K/N with 1 <= K <= N (e.g. --shard 2/4)")
    return int(m.group(1)), int(m.group(2))


def with_coverage_targets(snapshot: Snapshot, covered: list[tuple[str | None, str]]) -> Snapshot:
    """Name every requested account-region as a `fleet` target: FL01 reports each as read or not."""
    have = {(t.account, t.region) for t in snapshot.targets if t.kind == "fleet"}
    extra = [
        Target(kind="fleet", id=region, region=region, account=account)
        for account, region in dict.fromkeys(covered)
        if (account, region) not in have
    ]
    return snapshot.model_copy(update={"targets": (*snapshot.targets, *extra)}) if extra else snapshot


def unreadable_regions(snapshot: Snapshot) -> set[tuple[str | None, str]]:
    return {(e.account, e.region or e.resource) for e in snapshot.errors if is_unreadable(e)}


def select_shard(units: Iterable[Unit], k: int, n: int) -> list[Unit]:
    """Every N-th unit of the sorted list, starting at the K-th: stable for the same accounts and regions,
    balanced to within one unit, and the N parts are disjoint and cover everything."""
    return [u for i, u in enumerate(sorted(set(units))) if i % n == k - 1]


def parse_tags(tags: Iterable[str | tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in tags:
        if isinstance(t, tuple):
            key, value = t
        else:
            if "=" not in t or not t.split("=", 1)[0]:
                raise UsageError(f"--tag {t!r}: expected KEY=VALUE")
            key, value = t.split("=", 1)
        out[key] = value
    return out


# ------------------------------------------------------------------ the run


def run_fleet(
    opts: RunOptions,
    *,
    tags: tuple[str, ...] = (),
    engines: tuple[str, ...] = (),
    previous: str | None = None,
    shard: str | None = None,
    progress: ProgressFn | None = None,
    budget: RateBudget | None = None,
    limiter: RateLimiter | None = None,
    unit_workers: int | None = None,
    inner_workers: int | None = None,
) -> RunOutcome:
    """Collect (or load with --from-snapshot), evaluate, add coverage and trend. Never prints."""
    from auditor.api import RunOutcome
    from auditor.engine.loader import load_baseline, load_waivers
    from auditor.engine.runner import evaluate

    k, n = parse_shard(shard)
    tag_filter = parse_tags(tuple(tags) + tuple(opts.tags))
    wanted_engines = tuple(dict.fromkeys(tuple(engines) + tuple(opts.engines))) or DEFAULT_ENGINES
    prev = load_report(previous, what="--previous") if previous else None
    baseline = load_baseline(list(opts.baselines) or ["default"])  # fail fast, before a long collection
    waivers = load_waivers(opts.waivers) if opts.waivers else None

    notes: list[str] = []
    units: list[Unit] = []
    covered: list[tuple[str | None, str]] = []
    if opts.from_snapshot:
        from auditor.api import load_snapshot_file

        snapshot = load_snapshot_file(opts.from_snapshot)
    else:
        snapshot, units, covered = collect_fleet(
            opts,
            tag_filter=tag_filter,
            engines=wanted_engines,
            shard=(k, n),
            progress=progress,
            budget=budget,
            limiter=limiter,
            unit_workers=unit_workers,
            inner_workers=inner_workers,
        )
        if n > 1:
            notes.append(
                f"shard {k}/{n}: {len(units)} account-region(s): " + ", ".join(u.label for u in units)
                if units
                else f"shard {k}/{n}: no account-region falls in this shard"
            )
        snapshot = with_coverage_targets(snapshot, covered)
        hook = getattr(opts, "snapshot_hook", None)
        if hook is not None:
            snapshot = hook(snapshot)
    if progress:
        progress(f"evaluating {sum(1 for c in snapshot.clusters if c.role == 'target')} clusters")
    result = evaluate(snapshot, baseline, waivers=waivers, command="fleet", fail_on=opts.fail_on)
    # FL01 (engine rule fleet-coverage) yields an error per unreadable account-region: say so up front.
    notes += [
        f"not audited: {f.message}"
        for f in result.findings
        if f.rule_id == "FL01" and f.status is Status.ERROR
    ]
    if tag_filter:
        notes.append("clusters with tags " + ", ".join(f"{a}={b}" for a, b in sorted(tag_filter.items())))
    if wanted_engines != DEFAULT_ENGINES:
        notes.append(f"engines: {', '.join(wanted_engines)} (the rules are written for Aurora PostgreSQL)")
    result = result.model_copy(update={"notes": notes + list(result.notes)})
    if prev is not None:
        from auditor.trend import apply_trend

        result = apply_trend(result, prev, unreadable=unreadable_regions(snapshot))
    return RunOutcome(result.with_summary(), snapshot)


def collect_fleet(
    opts: RunOptions,
    *,
    tag_filter: dict[str, str] | None = None,
    engines: tuple[str, ...] = DEFAULT_ENGINES,
    shard: tuple[int, int] = (1, 1),
    progress: ProgressFn | None = None,
    budget: RateBudget | None = None,
    limiter: RateLimiter | None = None,
    unit_workers: int | None = None,
    inner_workers: int | None = None,
) -> tuple[Snapshot, list[Unit], list[tuple[str | None, str]]]:
    """Resolve account-regions, take this shard's part, collect each unit in parallel, merge."""
    from auditor.collect.aws import AwsOptions
    from auditor.collect.ratelimit import LimitedAwsContext, RateLimiter, account_of_role

    limiter = limiter or RateLimiter(budget or budget_from(opts))
    contexts: dict[str, LimitedAwsContext] = {}
    for role in opts.role_arns or ("",):
        if role in contexts:
            continue
        contexts[role] = LimitedAwsContext(
            AwsOptions(
                profile=opts.profile,
                region=_home_region(opts),
                role_arn=role or None,
                endpoint_url=opts.endpoint_url,
            ),
            limiter,
            account_label=account_of_role(role) or (role if role else "default"),
        )
    marks = {role: ctx.call_log.mark() for role, ctx in contexts.items()}

    units: list[Unit] = []
    early: list[CollectionError] = []
    for role, ctx in contexts.items():
        got, err = _regions_of(ctx, opts.regions)
        if err is not None:
            early.append(err)
        units += [Unit(ctx.account_label, r, role) for r in got]
    mine = select_shard(units, *shard)

    db = _db_options(opts)
    done = 0
    clusters = 0
    lock = threading.Lock()
    snaps: list[tuple[Unit, Snapshot]] = []
    errors: list[CollectionError] = list(early)
    failed_hard: list[AuditorError] = []
    if progress:
        progress(f"collecting 0/{len(mine)} account-regions")

    def one(u: Unit) -> None:
        nonlocal done, clusters
        ctx = contexts[u.role_arn]
        covered = frozenset(v.region for v in mine if v.role_arn == u.role_arn)
        snap, err, hard = collect_unit(
            ctx,
            u,
            tag_filter or {},
            engines,
            opts.look_back_minutes,
            db,
            inner_workers or INNER_WORKERS,
            covered,
        )
        with lock:
            if snap is not None:
                snaps.append((u, snap))
                clusters += sum(1 for c in snap.clusters if c.role == "target")
            if err is not None:
                errors.append(err)
            if hard is not None:
                failed_hard.append(hard)
            done += 1
            if progress:
                progress(f"collecting {done}/{len(mine)} account-regions · {clusters} clusters")

    with ThreadPoolExecutor(
        max_workers=max(1, min(len(mine) or 1, unit_workers or UNIT_WORKERS)), thread_name_prefix="fleet"
    ) as pool:
        for fut in as_completed([pool.submit(one, u) for u in mine]):
            fut.result()  # a bug surfaces here; collection failures are data already

    if (
        mine and len(failed_hard) == len(mine) and all("no AWS credentials" in str(e) for e in failed_hard)
    ):  # nothing readable and no credentials at all: one clear line beats a report of errors
        raise failed_hard[0]

    calls: dict[str, tuple[int, float]] = {}
    for role, ctx in contexts.items():
        for stat in ctx.call_log.stats(since=marks[role]):
            n0, s0 = calls.get(stat.operation, (0, 0.0))
            calls[stat.operation] = (n0 + stat.calls, s0 + stat.seconds)
    snapshot = merge_snapshots(
        [s for _, s in sorted(snaps, key=lambda us: us[0])],
        extra_errors=errors,
        calls=calls,
        regions=[u.region for u in mine],
        look_back_minutes=opts.look_back_minutes,
    )
    covered = [(_account(contexts[u.role_arn], u), u.region) for u in mine]
    return snapshot, mine, covered


def collect_unit(
    ctx: LimitedAwsContext,
    unit: Unit,
    tag_filter: dict[str, str],
    engines: tuple[str, ...],
    look_back_minutes: int,
    db: Any,
    inner_workers: int,
    covered: frozenset[str] = frozenset(),
) -> tuple[Snapshot | None, CollectionError | None, AuditorError | None]:
    """One account-region -> its snapshot, or the error that made it unreadable.

    `covered`: the other regions of the same account that this run collects in full; Global Database
    members there are not described again from here (the merge joins the pieces)."""
    from auditor.collect.aws import COLLECTION_EXCEPTIONS, collection_error
    from auditor.collect.topology import collect_snapshot

    region = unit.region

    def unreadable(operation: str, code: str, message: str) -> CollectionError:
        return CollectionError(
            resource=region,
            resource_kind="region",
            operation=operation,
            region=region,
            account=_account(ctx, unit),
            code=code,
            message=" ".join(message.split())[:500],
        )

    try:
        ids: list[str] | None = None
        if tag_filter or engines != DEFAULT_ENGINES:
            try:
                ids = discover(ctx, region, tag_filter, engines)
            except COLLECTION_EXCEPTIONS as exc:
                err = collection_error(
                    exc, resource=region, kind="region", operation="DescribeDBClusters", region=region
                )
                return None, err.model_copy(update={"account": _account(ctx, unit)}), None
            if not ids:
                return _empty(region, ctx, unit), None, None
        snap = collect_snapshot(
            ctx,
            region,
            ids,
            look_back_minutes=look_back_minutes,
            db=db,
            max_workers=inner_workers,
            strict=False,
            # only in whole-region mode: with a tag/engine filter the other region's unit may skip the member
            covered_elsewhere=covered - {region} if ids is None else frozenset(),
        )
        return snap, None, None
    except NotFoundError as exc:  # a cluster deleted between discovery and collection
        return None, unreadable("DescribeDBClusters", "DBClusterNotFoundFault", f"{exc}; rerun"), None
    except CollectionFailed as exc:  # endpoint unreachable, role not assumable, no credentials
        return None, unreadable("Collect", "CollectionFailed", str(exc)), exc


def discover(ctx: Any, region: str, tag_filter: dict[str, str], engines: tuple[str, ...]) -> list[str]:
    """Cluster ids in `region` with one of `engines` and every tag in `tag_filter` (DescribeDBClusters
    returns TagList; it has no server-side tag filter, so tags are matched here)."""
    from auditor.collect.state import RDS_PAGE, paged, tags

    rds = ctx.client("rds", region)
    out = []
    for raw in paged(
        rds,
        "describe_db_clusters",
        "DBClusters",
        MaxRecords=RDS_PAGE,
        Filters=[{"Name": "engine", "Values": list(engines)}],
    ):
        if raw.get("Engine") not in engines:
            continue
        have = tags(raw.get("TagList"))
        if all(have.get(k2) == v for k2, v in tag_filter.items()):
            out.append(raw["DBClusterIdentifier"])
    return sorted(out)


def _regions_of(ctx: Any, requested: tuple[str, ...]) -> tuple[list[str], CollectionError | None]:
    """The regions to audit for one account: named ones, plus every enabled region for `all`."""
    from auditor.collect.aws import COLLECTION_EXCEPTIONS, collection_error

    named = [r for r in dict.fromkeys(requested) if r and r != "all"]
    if "all" not in requested:
        if not named:
            region = ctx.default_region
            if not region:
                raise UsageError(
                    "no AWS region: pass --region R (or all) or set AWS_REGION / AWS_DEFAULT_REGION"
                )
            named = [region]
        return sorted(named), None
    try:
        ec2 = ctx.client("ec2", ctx.options.region or ctx.session.region_name or "us-east-1")
        # AllRegions=False: only regions enabled for the account (EC2 API Reference, DescribeRegions).
        regions = ec2.describe_regions(AllRegions=False)["Regions"]
    except CollectionFailed as exc:
        return sorted(named), CollectionError(
            resource="all",
            resource_kind="region",
            operation="AssumeRole",
            region="all",
            account=ctx.account_label,
            code="CollectionFailed",
            message=str(exc)[:500],
        )
    except COLLECTION_EXCEPTIONS as exc:
        err = collection_error(exc, resource="all", kind="region", operation="DescribeRegions", region="all")
        return sorted(named), err.model_copy(update={"account": ctx.account_label})
    enabled = {
        r["RegionName"] for r in regions if r.get("OptInStatus", "opt-in-not-required") in ENABLED_OPT_IN
    }
    return sorted(enabled | set(named)), None


def budget_from(opts: RunOptions) -> RateBudget:
    """The rate budget: optional RunOptions attributes `rate_limit` (calls/s) and `burst`, else defaults."""
    from auditor.collect.ratelimit import DEFAULT_BURST, DEFAULT_RATE, RateBudget

    rate = getattr(opts, "rate_limit", None) or DEFAULT_RATE
    burst = getattr(opts, "burst", None) or DEFAULT_BURST
    try:
        return RateBudget(rate=float(rate), burst=int(burst))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"rate limit: {exc}") from None


def _home_region(opts: RunOptions) -> str | None:
    named = [r for r in opts.regions if r and r != "all"]
    return named[0] if named else None


def _account(ctx: Any, unit: Unit) -> str | None:
    known = getattr(ctx, "_account_id", None)
    if known:
        return str(known)
    return unit.account if unit.account != "default" else None


def _empty(region: str, ctx: Any, unit: Unit) -> Snapshot:
    return Snapshot(tool_version=__version__, taken_at=datetime.now(UTC), regions=(region,))


def _db_options(opts: RunOptions) -> Any:
    from auditor.api import db_options

    # fleet has no single audited cluster: every --pg-dsn names its cluster (CLUSTER_ID=URI)
    return db_options(opts, None)
