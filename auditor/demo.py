"""`aurora-audit demo`: the whole job with no AWS account.

A simulated AWS (moto server + a front that fills moto's gaps, both on 127.0.0.1, in this process) holds a
fleet modelled on a real production topology (auditor/sim/fleet.py). The demo then runs the same code a user
runs against AWS — collect, evaluate, report — for `check prod-app`, the pre-switchover `gate`, and a
two-region `fleet` audit, and writes every report under the output folder.

PostgreSQL is simulated too: there is no database behind moto's endpoints, so each writer's in-database state
is supplied as data (marked `connection="simulated (demo)"`), shaped exactly as the real collector fills it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.exit_codes import ExitCode, decide
from auditor.models.findings import AuditResult, Severity
from auditor.models.snapshot import (
    DatabaseState,
    LongTransaction,
    ReplicationSlot,
    Snapshot,
    TableRef,
)

MiB = 1024 * 1024
_PG_SETTINGS = {
    "wal_level": "logical",
    "max_replication_slots": "20",
    "max_wal_senders": "20",
    "max_slot_wal_keep_size": "-1",
    "synchronous_commit": "on",
    "server_version": "16.8",
}


def simulated_databases(snapshot: Snapshot) -> tuple[DatabaseState, ...]:
    """The in-database state of each writer in the demo fleet (what psycopg would read on a real one)."""
    now = datetime.now(UTC)
    out = []
    for c in snapshot.clusters:
        if c.role == "global-member" and c.id != "prod-app":
            continue  # a secondary has no writer of its own to read
        writer = next((m.instance_id for m in c.members if m.is_writer), None)
        settings = dict(_PG_SETTINGS)
        slots: list[ReplicationSlot] = []
        no_pk: list[TableRef] = []
        oldest = LongTransaction(pid=4242, age_s=3.0, state="active", application_name="orders-api")
        if "-green-" in c.id:
            # The incident: an old CDC experiment's slot came along to green and nobody consumes it.
            settings["rds.logical_replication"] = "1"
            slots.append(
                ReplicationSlot(
                    name="debezium_orders",
                    slot_type="logical",
                    plugin="pgoutput",
                    database="orders",
                    active=False,
                    temporary=False,
                    wal_status="extended",
                    restart_lsn="3/1A000060",
                    confirmed_flush_lsn="3/1A000098",
                    retained_wal_bytes=46 * MiB,
                )
            )
        elif c.id == "prod-app":
            settings["rds.logical_replication"] = "0"
            no_pk.append(TableRef(schema_name="public", name="audit_events_2019", estimated_rows=120_000))
            oldest = LongTransaction(
                pid=5150, age_s=742.0, state="idle in transaction", application_name="nightly-export"
            )
        elif c.id == "reporting":
            slots.append(
                ReplicationSlot(
                    name="airbyte_reporting",
                    slot_type="logical",
                    plugin="pgoutput",
                    database="reporting",
                    active=False,
                    temporary=False,
                    wal_status="unreserved",
                    restart_lsn="1/9F000028",
                    confirmed_flush_lsn="1/9F000060",
                    retained_wal_bytes=3 * 1024 * MiB,
                    safe_wal_size=-12 * MiB,
                )
            )
        out.append(
            DatabaseState(
                cluster_id=c.id,
                region=c.region,
                status="collected",
                instance_id=writer,
                connection="simulated (demo)",
                collected_at=now,
                server_version="16.8",
                server_version_num=160008,
                database=c.database_name or "postgres",
                settings=settings,
                slots=tuple(slots),
                oldest_transaction=oldest,
                tables_without_pk=tuple(no_pk),
                queries=1,
            )
        )
    return tuple(out)


def with_simulated_databases(snapshot: Snapshot) -> Snapshot:
    """Replace the `--no-db` placeholders with the simulated in-database state."""
    return snapshot.with_changes(
        databases=[d.model_dump() for d in simulated_databases(snapshot)],
        errors=[e.model_dump() for e in snapshot.errors if e.resource_kind != "database"],
    )


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """Point boto3 at the simulation only (no user profile or credentials can leak in)."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    for k in saved:
        del os.environ[k]
    os.environ.update(env)
    try:
        yield
    finally:
        for k in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[k]
        os.environ.update(saved)


@dataclass
class Scenario:
    name: str
    command: str
    result: AuditResult
    code: ExitCode
    out_dir: Path
    verdict: str


def _verdict(result: AuditResult, code: ExitCode) -> str:
    s = result.summary
    fails = [f for f in result.findings if f.status.value == "fail"]
    worst = {sev: sum(1 for f in fails if f.severity is sev) for sev in Severity}
    parts = [f"{n} {sev.value}" for sev, n in worst.items() if n]
    return (
        f"exit {int(code)}  ·  {s.get('fail', 0)} fail ({', '.join(parts) or 'none'}), "
        f"{s.get('pass', 0)} pass, {s.get('error', 0)} error, {s.get('skipped', 0)} skipped"
    )


def run_demo(
    *,
    out_dir: str,
    formats: str,
    quiet: bool,
    echo: Callable[[str], Any],
    write_reports: Callable[[AuditResult, str, str], list[Path]],
    progress: Callable[[str], None],
    progress_done: Callable[[], None],
) -> list[Scenario]:
    from auditor import api
    from auditor.sim import SimulatedAws
    from auditor.sim.fleet import build_demo_fleet

    started = time.perf_counter()
    root = Path(out_dir)
    scenarios: list[Scenario] = []
    progress("starting the simulated AWS (moto, 127.0.0.1)")
    with SimulatedAws() as sim, _environment(sim.env()):
        progress(
            "building the demo fleet: prod-app, its Global Database, a blue/green upgrade, two more clusters"
        )
        fleet = build_demo_fleet(sim)
        base = api.RunOptions(
            regions=(fleet.primary_region,),
            endpoint_url=sim.endpoint_url,
            baselines=("prod",),
            no_db=True,
            allow_skip_db=True,
            snapshot_hook=with_simulated_databases,
        )

        progress("check prod-app")
        outcome = api.run_check("prod-app", base)
        scenarios.append(
            _finish(
                "check prod-app --baseline prod",
                "check",
                outcome.result,
                decide(outcome.result, base.fail_on),
                root / "check",
                formats,
                write_reports,
            )
        )

        # No try/except here: a scenario that cannot run is a bug, and the demo must say so (exit 2)
        # rather than print a path to a report it never wrote.
        progress(f"gate --blue-green {fleet.blue_green_id}")
        g = api.run_gate(fleet.blue_green_id, None, base)
        scenarios.append(
            _finish(
                f"gate --blue-green {fleet.blue_green_id}",
                "gate",
                g.result,
                decide(g.result, base.fail_on, gate=True),
                root / "gate",
                formats,
                write_reports,
            )
        )

        progress("fleet --region us-east-1 --region eu-west-1")
        f = api.run_fleet(replace(base, regions=(fleet.primary_region, fleet.secondary_region)))
        scenarios.append(
            _finish(
                "fleet --region us-east-1 --region eu-west-1",
                "fleet",
                f.result,
                decide(f.result, base.fail_on),
                root / "fleet",
                formats,
                write_reports,
            )
        )
    progress_done()
    elapsed = time.perf_counter() - started

    if not quiet:
        echo("aurora-audit demo — a simulated production fleet (no AWS account used)\n")
        for name, what in fleet.planted.items():
            echo(f"  planted  {name:<34} {what}")
        echo("")
        for sc in scenarios:
            echo(f"  {sc.name:<58} {sc.verdict}")
            echo(f"  {'':<58} -> {sc.out_dir / 'report.html'}")
        echo(
            f"\nfinished in {elapsed:.1f}s; "
            f"open {root / 'gate' / 'report.html'} to see the blocked switchover"
        )
    else:
        for sc in scenarios:
            echo(f"{sc.command}: exit {int(sc.code)} -> {sc.out_dir}")
    return scenarios


def _finish(
    name: str,
    command: str,
    result: AuditResult,
    code: ExitCode,
    out: Path,
    formats: str,
    write_reports: Callable[[AuditResult, str, str], list[Path]],
) -> Scenario:
    write_reports(result, str(out), formats)
    return Scenario(name, command, result, code, out, _verdict(result, code))
