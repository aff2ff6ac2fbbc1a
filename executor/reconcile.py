"""Reconcile the journal with the live hosts before (re)running a plan.

done: finished by an earlier run; never run again (the same plan applied twice migrates nobody twice).
started: an earlier run was interrupted mid-migration. The guest is looked up on both hosts; a migration
job still running there (libvirtd carries on without us) is waited for. Then: on the destination only ->
done; on the source only -> run it again; anywhere else -> failed, for a person to look at.
Everything else (planned, skipped, failed, aborted) is tried again; preflight re-checks it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from collectors.seam import Connection
from executor.journal import Entry, Journal
from executor.locate import Sighting, where_is
from executor.report import MigrationOutcome, Status
from executor.settings import ExecuteSettings
from executor.verify import verify_moved
from planner.plan import Migration


@dataclass(frozen=True, slots=True)
class Reconciled:
    earlier: dict[str, MigrationOutcome]
    todo: list[Migration]


def reconcile(
    migrations: tuple[Migration, ...],
    journal: Journal,
    conns: Mapping[str, Connection],
    execute: ExecuteSettings,
) -> Reconciled:
    entries = journal.entries()
    earlier: dict[str, MigrationOutcome] = {}
    todo = []
    for m in migrations:
        e = entries.get(m.id)
        if e is not None and e.state == "done":
            earlier[m.id] = _outcome(m, e, "done in an earlier run", earlier=True)
        elif e is not None and e.state == "started" and not (m.source in conns and m.destination in conns):
            reason = "interrupted earlier; a host cannot be reached to see where the guest is"
            earlier[m.id] = _outcome(m, e, reason, status="failed")
        elif e is not None and e.state == "started":
            outcome = _interrupted(m, e, journal, conns, execute)
            if outcome is None:
                todo.append(m)
            else:
                earlier[m.id] = outcome
        else:
            todo.append(m)
    return Reconciled(earlier, todo)


def _interrupted(
    m: Migration, e: Entry, journal: Journal, conns: Mapping[str, Connection], execute: ExecuteSettings
) -> MigrationOutcome | None:
    hosts = {h: conns[h] for h in (m.source, m.destination) if h in conns}
    seen = _after_jobs(m, hosts, execute)
    on_dest = m.destination in seen and not seen[m.destination].job
    source_idle = m.source not in seen or not seen[m.source].active
    if on_dest and source_idle:
        verdict = verify_moved(m, conns, expect_running=not execute.paused)
        if verdict.moved:
            reason = "; ".join(("finished after the earlier run was interrupted", *verdict.notes))
            journal.set(m.id, "done", reason)
            return _outcome(m, e, reason, earlier=False)
    if set(seen) == {m.source} and seen[m.source].running and not seen[m.source].job:
        journal.set(m.id, "planned", "the earlier run was interrupted; the guest stayed on its source")
        return None
    where = ", ".join(s.describe() for s in seen.values()) or "neither host"
    reason = f"interrupted earlier and now found on {where}; look at it before running again"
    journal.set(m.id, "failed", reason)
    return _outcome(m, e, reason, status="failed")


def _after_jobs(
    m: Migration, hosts: Mapping[str, Connection], execute: ExecuteSettings
) -> dict[str, Sighting]:
    """Where the guest is once no migration job runs on it any more (waiting up to the time limit)."""
    limit = max(
        m.estimated_s * execute.time_limit_factor, execute.time_limit_floor_s, execute.stall_timeout_s
    )
    give_up = time.monotonic() + limit
    while True:
        seen = where_is(m.vm_uuid, hosts)
        if not any(s.job for s in seen.values()) or time.monotonic() > give_up:
            return seen
        time.sleep(execute.poll_interval_s)


def _outcome(
    m: Migration, e: Entry, reason: str, *, earlier: bool = False, status: Status = "done"
) -> MigrationOutcome:
    return MigrationOutcome.of(
        m, status, reason, actual_s=e.actual_s, actual_mib=e.actual_mib, earlier=earlier
    )
