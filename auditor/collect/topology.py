"""One snapshot of an Aurora topology: the audited clusters and everything around them.

Order: target clusters -> blue/green greens and Global Database members (in their own regions) ->
instances -> (concurrently) parameter groups, engine lifecycle, maintenance, certificates, KMS,
proxies, auto scaling, alarms, metrics -> in-database state (optional) -> a frozen Snapshot.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.collect import alarms, global_db, lifecycle, params, proxy, rds, scaling
from auditor.collect import blue_green as bg
from auditor.collect.aws import COLLECTION_EXCEPTIONS, AwsContext, ReadOnlyViolation, collection_error
from auditor.collect.state import Collection
from auditor.errors import AuditorError, CollectionFailed
from auditor.models.snapshot import Snapshot, Target

if TYPE_CHECKING:
    from auditor.collect.postgres import DbOptions

log = logging.getLogger(__name__)

# Error codes meaning the credentials themselves were refused (AWS common errors): nothing can be read.
BAD_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "InvalidSignatureException",
    }
)
MAX_WORKERS = 4  # small: RDS allows ~12 Describe calls/s per account and region
DB_WORKERS = 8  # concurrent PostgreSQL sessions (one short read-only session per writer)


def collect_snapshot(
    ctx: AwsContext,
    region: str,
    cluster_ids: list[str] | None,
    *,
    look_back_minutes: int = 60,
    db: DbOptions | None = None,
    blue_green: str | None = None,
    max_workers: int = MAX_WORKERS,
    strict: bool = True,
    covered_elsewhere: frozenset[str] = frozenset(),
) -> Snapshot:
    """Collect the named clusters (None: every Aurora PostgreSQL cluster in `region`).

    Raises NotFoundError for a named cluster that does not exist, CollectionFailed when nothing can be
    read at all (no credentials, endpoint unreachable). Every other failure lands in Snapshot.errors.
    `blue_green` (a deployment id) adds a blue-green target, as `collect_blue_green` does.
    """
    mark = ctx.call_log.mark()
    now = datetime.now(UTC)
    account: str | None = None
    early_errors = []
    try:
        account = ctx.account_id
    except COLLECTION_EXCEPTIONS as exc:
        early_errors.append(
            collection_error(
                exc, resource="caller", kind="account", operation="GetCallerIdentity", region=region
            )
        )
    col = Collection(ctx, account, look_back_minutes, now)
    col.errors.extend(early_errors)

    # strict: a named cluster that does not exist is bad input (exit 2). A fleet run names clusters it has
    # just listed; one deleted in between is recorded as an error, and the rest of the region is audited.
    targets = rds.describe_clusters(col, region, cluster_ids, "target", strict=strict)
    if not targets and col.errors:
        codes = {e.code for e in col.errors}
        if codes == {"EndpointUnreachable"}:
            raise CollectionFailed(f"cannot reach the RDS endpoint for {region}: {col.errors[-1].message}")
        if codes <= BAD_CREDENTIALS:
            raise CollectionFailed(
                f"AWS rejected the credentials ({', '.join(sorted(c or '' for c in codes))}) in {region}: "
                f"{col.errors[-1].message}; refresh them (aws sso login, new session token) and retry"
            )
        denied = [e for e in col.errors if e.operation == "DescribeDBClusters"]
        if cluster_ids and denied:  # the named cluster itself could not be read: nothing to audit
            raise CollectionFailed(
                f"could not describe cluster {', '.join(cluster_ids)} in {region}: {denied[-1].code}: "
                f"{denied[-1].message}; the audit needs rds:DescribeDBClusters (see SECURITY.md)"
            )

    # Related clusters: greens of deployments whose blue is a target; Global Database members elsewhere.
    for gr, gid in bg.describe_for_clusters(col, region) if targets else []:
        rds.describe_clusters(col, gr, [gid], "green", strict=False)
    members: dict[str, list[str]] = defaultdict(list)
    for mr, mid in global_db.describe_global_clusters(col, region):
        members[mr].append(mid)
    for mr, ids in sorted(members.items()):
        if mr in covered_elsewhere:  # a fleet run collects that region in full anyway; the merge joins them
            continue
        rds.describe_clusters(col, mr, ids, "global-member", strict=False)

    regions = col.regions()
    for r in regions:  # clients up front: sessions are not thread-safe, clients are
        for service in ("rds", "kms", "cloudwatch", "application-autoscaling"):
            ctx.client(service, r)

    _run(col, [(f"instances {r}", partial(_instances, col, r)) for r in regions], max_workers)

    tasks: list[tuple[str, Callable[[], None]]] = [
        (f"{kind} parameter group {name}", partial(params.fetch_group, col, r, kind, name, cluster))
        for r, kind, name, cluster in params.groups_to_fetch(col)
    ]
    per_region: list[tuple[str, Callable[[Collection, str], None]]] = [
        ("engine versions", lifecycle.collect_engine_versions),
        ("pending maintenance", lifecycle.collect_pending_maintenance),
        ("certificates", lifecycle.collect_certificates),
        ("kms", rds.describe_kms_keys),
        ("proxies", proxy.collect_proxies),
        ("scaling", scaling.collect_scaling),
        ("alarms", alarms.collect_alarms),
        ("metrics", alarms.collect_metrics),
    ]
    tasks += [(f"{label} {r}", partial(fn, col, r)) for r in regions for label, fn in per_region]
    _run(col, tasks, max_workers)

    databases = _collect_databases(col, db)

    target_models: list[Target] = []
    if blue_green:
        target_models.append(Target(kind="blue-green", id=blue_green, region=region, account=account))
    for c in sorted(col.clusters.values(), key=lambda c: (c.role != "target", c.region, c.id)):
        if c.role == "target" or (blue_green and c.role == "green"):
            target_models.append(Target(kind="cluster", id=c.id, region=c.region, account=account))

    return Snapshot(
        tool_version=__version__,
        taken_at=now,
        targets=tuple(target_models),
        regions=tuple(sorted(set(regions) | {region})),
        look_back_minutes=look_back_minutes,
        clusters=tuple(sorted(col.clusters.values(), key=lambda c: (c.region, c.id))),
        instances=tuple(sorted(col.instances.values(), key=lambda i: (i.region, i.cluster_id or "", i.id))),
        parameter_groups=tuple(
            sorted(col.parameter_groups.values(), key=lambda g: (g.region, g.kind, g.name))
        ),
        global_clusters=tuple(sorted(col.global_clusters.values(), key=lambda g: g.id)),
        blue_green_deployments=tuple(sorted(col.blue_green.values(), key=lambda b: (b.region, b.id))),
        proxies=tuple(sorted(col.proxies.values(), key=lambda p: (p.region, p.name))),
        scalable_targets=tuple(sorted(col.scalable_targets, key=lambda t: (t.region, t.resource_id))),
        alarms=tuple(sorted(col.alarms, key=lambda a: (a.region, a.name))),
        metrics=tuple(
            sorted(col.metrics, key=lambda m: (m.region, m.metric_name, sorted(m.dimensions.items())))
        ),
        pending_maintenance=tuple(sorted(col.pending, key=lambda p: (p.region, p.resource_arn, p.action))),
        engine_versions=tuple(
            sorted(col.engine_versions.values(), key=lambda e: (e.region, e.engine, e.version))
        ),
        databases=tuple(databases),
        errors=tuple(col.errors),
        calls=tuple(ctx.call_log.stats(since=mark)),
    )


def _instances(col: Collection, region: str) -> None:
    rds.describe_instances(col, region, col.clusters_in(region))


def _run(col: Collection, tasks: list[tuple[str, Callable[[], None]]], max_workers: int) -> None:
    """Run collection tasks concurrently. A task failing in an unforeseen way is recorded, not swallowed."""
    if not tasks:
        return
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="aurora-audit") as pool:
        futures = [(label, pool.submit(fn)) for label, fn in tasks]
        for label, fut in futures:
            try:
                fut.result()
            except (AuditorError, ReadOnlyViolation):  # no credentials; a write attempted: a bug, loudly
                raise
            except Exception as exc:  # a bug or an unexpected library error: data, with its type
                log.debug("collection task %s failed", label, exc_info=True)
                col.add_error(
                    resource=label,
                    resource_kind="task",
                    operation="collect",
                    region=None,
                    code=type(exc).__name__,
                    message=str(exc)[:500],
                )


def _collect_databases(col: Collection, db: Any) -> list[Any]:
    """In-database state for target and green clusters through auditor.collect.postgres (optional)."""
    if db is None:
        return []
    from auditor.collect.postgres import collect_database

    clusters = [
        c for c in sorted(col.clusters.values(), key=lambda c: (c.region, c.id)) if c.role != "global-member"
    ]
    if not clusters:
        return []
    # Writers are independent servers: read them concurrently, so one unreachable writer (a connect
    # timeout) does not hold up the rest of a fleet. collect_database never raises; each result is data.
    with ThreadPoolExecutor(
        max_workers=min(DB_WORKERS, len(clusters)), thread_name_prefix="aurora-db"
    ) as pool:
        results = list(pool.map(lambda c: collect_database(c, db, col.ctx), clusters))
    out = []
    for state, errors in results:
        out.append(state)
        with col.lock:
            col.errors.extend(errors)
    return out
