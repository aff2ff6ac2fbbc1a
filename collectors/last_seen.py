"""Where guests were last seen, so the guests of a host that stops answering stay in the snapshot.

A dead libvirtd cannot list its guests, yet they still hold that host's memory and may still run.
Every collection that reaches a host replaces that host's reading in the history: when, and each guest
seen on it (UUID, name, size, domain type, CPU signature). When a host is unreachable, the guests of its
last reading within the retention come back as stand-ins: state unknown, unmigratable, on that host, with
the error and the time in their reason; unless the same UUID was seen alive elsewhere in this collection.
A UUID last seen on two dead hosts stands in on the one that saw it last.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from planner.model import Vm, VmState

SCHEMA = """
CREATE TABLE IF NOT EXISTS host_readings (
    host TEXT PRIMARY KEY,
    at REAL NOT NULL                -- seconds since the epoch, UTC: the host's last successful reading
);
CREATE TABLE IF NOT EXISTS guests_seen (
    host TEXT NOT NULL,
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    vcpus INTEGER NOT NULL,
    memory_mib INTEGER NOT NULL,
    domain_type TEXT NOT NULL,
    cpu_signature TEXT NOT NULL,
    PRIMARY KEY (host, uuid)
);
"""


_NO_HISTORY = "no history of where guests were last seen: set collect.history_path or collect with --record"
_NO_READING = "the history has no reading of it within the retention"


@dataclass(frozen=True, slots=True)
class Reading:
    """A host's last successful reading: when, and the guests it listed."""

    host: str
    at: datetime
    guests: tuple[Vm, ...]


def save(
    db: sqlite3.Connection, at: datetime, seen: Mapping[str, Sequence[Vm]], retention: timedelta
) -> None:
    """Replace the reading of every host in `seen` (host -> its guests now); drop readings past retention.

    A guest listed without a size (its definition could not be read) keeps what the last reading had.
    """
    ts = at.timestamp()
    with db:
        for host, vms in seen.items():
            before = {
                row[0]: row[1:]
                for row in db.execute(
                    "SELECT uuid, vcpus, memory_mib, domain_type, cpu_signature FROM guests_seen WHERE host = ?",
                    (host,),
                )
            }
            rows = [(host, v.uuid, v.name, *_size(v, before.get(v.uuid))) for v in vms]
            db.execute("DELETE FROM guests_seen WHERE host = ?", (host,))
            db.execute("INSERT OR REPLACE INTO host_readings VALUES (?, ?)", (host, ts))
            db.executemany("INSERT OR REPLACE INTO guests_seen VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        old = (at - retention).timestamp()
        db.execute(
            "DELETE FROM guests_seen WHERE host IN (SELECT host FROM host_readings WHERE at < ?)", (old,)
        )
        db.execute("DELETE FROM host_readings WHERE at < ?", (old,))


def _size(vm: Vm, before: tuple[int, int, str, str] | None) -> tuple[int, int, str, str]:
    if before is not None and vm.vcpus == 0 and vm.memory_mib == 0:
        return before
    return (vm.vcpus, vm.memory_mib, vm.domain_type, vm.cpu_signature)


def load(db: sqlite3.Connection, hosts: Sequence[str], since: datetime) -> dict[str, Reading]:
    """The last reading of each of `hosts` taken at or after `since` (hosts without one are absent)."""
    out: dict[str, Reading] = {}
    for host in hosts:
        row = db.execute(
            "SELECT at FROM host_readings WHERE host = ? AND at >= ?", (host, since.timestamp())
        ).fetchone()
        if row is None:
            continue
        cur = db.execute(
            "SELECT uuid, name, vcpus, memory_mib, domain_type, cpu_signature FROM guests_seen"
            " WHERE host = ? ORDER BY name",
            (host,),
        )
        guests = tuple(
            Vm(uuid, name, host, vcpus, memory_mib, domain_type=dt, cpu_signature=sig)
            for uuid, name, vcpus, memory_mib, dt, sig in cur
        )
        out[host] = Reading(host, datetime.fromtimestamp(row[0], UTC), guests)
    return out


def stand_ins(
    failures: Mapping[str, str], readings: Mapping[str, Reading] | None, alive: set[str]
) -> tuple[list[Vm], list[str]]:
    """Unknown guests for the unreachable hosts (host -> its error), and a note per such host.

    `readings` holds the last reading of the unreachable hosts that have one (None: there is no history);
    `alive` the UUIDs seen in this collection on hosts that answered, in any state: a guest defined there
    is where it is, and one UUID is in the snapshot once.
    """
    newest: dict[str, Reading] = {}
    for r in sorted((readings or {}).values(), key=lambda r: r.at):
        for vm in r.guests:
            newest[vm.uuid] = r
    vms: list[Vm] = []
    notes: list[str] = []
    for host, error in failures.items():
        reading = None if readings is None else readings.get(host)
        if reading is None:
            why = _NO_HISTORY if readings is None else _NO_READING
            notes.append(f"{host} unreachable: its guests could not be listed ({why})")
            continue
        when = reading.at.isoformat(timespec="seconds")
        here = [v for v in reading.guests if v.uuid not in alive and newest[v.uuid] is reading]
        vms += [
            Vm(
                v.uuid,
                v.name,
                host,
                v.vcpus,
                v.memory_mib,
                VmState.UNKNOWN,
                domain_type=v.domain_type,
                cpu_signature=v.cpu_signature,
                migratable=False,
                unmigratable_reason=f"host {host} unreachable: {error}; last seen {when}",
            )
            for v in here
        ]
        moved = len(reading.guests) - len(here)
        notes.append(
            f"{host} unreachable: {len(here)} guests last seen there at {when} are listed as unknown"
            + (f"; {moved} more seen there then are seen elsewhere since" if moved else "")
        )
    return vms, notes
