"""After a migration: the guest runs on its destination, is persistent there, and is gone from its source."""

from __future__ import annotations

from collections.abc import Mapping

import libvirt

from collectors.seam import Connection, Domain
from executor.locate import find_domain
from planner.plan import Migration

MIB = 1024 * 1024


def verify_moved(
    migration: Migration, conns: Mapping[str, Connection], expect_running: bool = True
) -> list[str]:
    """What is wrong with the guest's state after `migration` finished; empty when all is well."""
    m = migration
    problems = []
    dom = find_domain(conns[m.destination], m.vm_uuid)
    if dom is None:
        problems.append(f"{m.vm_name} is not on {m.destination}")
    else:
        state = dom.state()[0]
        if expect_running and state != libvirt.VIR_DOMAIN_RUNNING:
            problems.append(f"{m.vm_name} is not running on {m.destination} (libvirt state {state})")
        if not dom.isPersistent():
            problems.append(f"{m.vm_name} is not persistent on {m.destination}")
    if find_domain(conns[m.source], m.vm_uuid) is not None:
        problems.append(f"{m.vm_name} is still defined on {m.source}")
    return problems


def completed_mib(dom: Domain | None) -> float | None:
    """Bytes the finished migration sent (MiB), from the completed job's statistics, when libvirt has them."""
    if dom is None:
        return None
    try:
        stats = dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    except Exception:  # a seam call failed
        return None
    sent = stats.get("memory_processed") or stats.get("data_processed")
    return sent / MIB if sent else None
