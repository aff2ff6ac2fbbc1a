"""Migrations in flight that this run did not start (a person with virsh, another tool, a second config),
as libvirt reports them on a host, so the budgets hold against any migrator.

What libvirt shows (libvirt 9.0, measured on the lab): on the source, the guest runs with a job whose
jobStats "operation" is migration-out; on the destination, the incoming guest is paused for migration and
jobInfo/jobStats refuse with "operation unsupported: migration statistics are available only on the source
host". One read of a host is listAllDomains plus a jobInfo per running guest (and a jobStats for those with
a job), every call under the host's deadline (executor.deadline). `Elsewhere` keeps each host's read for
`max_age_s` (the runner: a second, or its poll interval when longer), so the moves started in one pass
share a read and a move that waits for room reads its two hosts at most that often.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from collectors import constants as c
from collectors.seam import Connection, Domain, VirtError


@dataclass(frozen=True, slots=True)
class Others:
    """One host's migrations in flight that are not this run's: the guests going out and coming in."""

    outgoing: tuple[str, ...] = ()
    incoming: tuple[str, ...] = ()


def read_others(conn: Connection, ours: frozenset[str]) -> Others:
    """The migrations in flight on the host behind `conn`, except the guests (UUIDs) in `ours`."""
    outgoing: list[str] = []
    incoming: list[str] = []
    for dom in conn.listAllDomains(c.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        if dom.UUIDString() in ours:
            continue
        direction = _direction(dom)
        if direction == "out":
            outgoing.append(dom.name())
        elif direction == "in":
            incoming.append(dom.name())
    return Others(tuple(sorted(outgoing)), tuple(sorted(incoming)))


def _direction(dom: Domain) -> str | None:
    try:
        if dom.jobInfo()[0] == c.VIR_DOMAIN_JOB_NONE:
            return None
        operation = dom.jobStats().get("operation")
    except VirtError as exc:
        if exc.code == c.VIR_ERR_OPERATION_UNSUPPORTED:  # the destination's side of a migration
            return "in"
        if exc.code == c.VIR_ERR_NO_DOMAIN:  # gone meanwhile (a migration out that just ended)
            return None
        raise
    if operation == c.VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN:
        return "in"
    # A job that names no operation (libvirt before 3.3) may be a migration: counted, to be safe.
    if operation in (c.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT, None):
        return "out"
    return None  # a backup, a dump, a snapshot: not a migration


class Elsewhere:
    """Each host's migrations that are not ours, read at most once per `max_age_s`; None for a host that
    cannot be read now (the move's own checks then say why it cannot start)."""

    def __init__(
        self,
        conns: Mapping[str, Connection],
        max_age_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conns, self.max_age_s, self.clock = conns, max_age_s, clock
        self._read: dict[str, tuple[float, Others | None]] = {}

    def on(self, host: str, ours: frozenset[str]) -> Others | None:
        now = self.clock()
        cached = self._read.get(host)
        if cached is not None and now - cached[0] < self.max_age_s:
            return cached[1]
        try:
            others: Others | None = read_others(self.conns[host], ours)
        except (VirtError, KeyError):  # a seam call failed, or the host could not be opened
            others = None
        self._read[host] = (now, others)
        return others
