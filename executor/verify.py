"""After a migration: the guest runs on its destination, is persistent there, and is gone from its source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from collectors import constants as c
from collectors.seam import Connection, Domain, VirtError
from executor.locate import find_domain
from planner.plan import Migration

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Verdict:
    """`problems`: the guest did not end up as a finished migration leaves it. `notes`: it did, but a
    person should look (libvirt left a shut-off definition on the source: starting it would run the guest
    twice; we never undefine anything ourselves)."""

    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def moved(self) -> bool:
        return not self.problems


def verify_moved(
    migration: Migration, conns: Mapping[str, Connection], expect_running: bool = True
) -> Verdict:
    """Whether the guest runs on the destination, persistent there, and no longer on the source."""
    m = migration
    problems, notes = [], []
    dom = find_domain(conns[m.destination], m.vm_uuid)
    if dom is None:
        problems.append(f"{m.vm_name} is not on {m.destination}")
    else:
        state = dom.state()[0]
        if expect_running and state != c.VIR_DOMAIN_RUNNING:
            problems.append(f"{m.vm_name} is not running on {m.destination} (libvirt state {state})")
        if not dom.isPersistent():
            problems.append(f"{m.vm_name} is not persistent on {m.destination}")
    left = find_domain(conns[m.source], m.vm_uuid)
    if left is not None and left.isActive():
        problems.append(f"{m.vm_name} is still active on {m.source}")
    elif left is not None:
        notes.append(
            f"libvirt left a shut-off definition of {m.vm_name} on {m.source}; undefine it there "
            "(never start it: the guest runs on " + m.destination + ")"
        )
    return Verdict(tuple(problems), tuple(notes))


def completed_mib(dom: Domain | None) -> float | None:
    """Bytes the finished migration sent (MiB), from the completed job's statistics, when libvirt has them."""
    if dom is None:
        return None
    try:
        stats = dom.jobStats(c.VIR_DOMAIN_JOB_STATS_COMPLETED)
    except VirtError:
        return None
    sent = stats.get("memory_processed") or stats.get("data_processed")
    return sent / MIB if sent else None
