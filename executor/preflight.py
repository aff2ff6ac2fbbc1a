"""Checks before acting: the plan is fresh enough; before each migration, the live state still matches it.

A move whose guest is no longer on its planned source, is not running, or whose destination has no room
right now is skipped with the reason (the runner skips its dependents too). Capacities come from the
plan's snapshot; usage is read live, with the memory of migrations in flight reserved on their destination.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from collectors import constants as c
from collectors.seam import Connection
from executor.locate import find_domain, where_is
from planner.errors import PlanFileError, StalePlanError
from planner.model import Cluster
from planner.plan import Migration, Plan


def plan_age_s(plan: Plan, now: datetime) -> float:
    try:
        created = datetime.fromisoformat(plan.created_at.replace("Z", "+00:00"))
    except ValueError:
        raise PlanFileError("plan", "created_at", f"not an ISO time: {plan.created_at!r}") from None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return (now - created).total_seconds()


def check_age(plan: Plan, max_age_s: float, now: datetime, force: bool = False) -> None:
    """Refuse a plan older than `max_age_s` (StalePlanError) unless forced."""
    age = plan_age_s(plan, now)
    if age > max_age_s and not force:
        raise StalePlanError(age, max_age_s)


@dataclass(frozen=True, slots=True)
class InFlight:
    """Migrations running now: their guests, and what they hold on each destination."""

    uuids: frozenset[str] = frozenset()
    memory_mib: Mapping[str, int] | None = None
    vcpus: Mapping[str, int] | None = None


def check_move(
    migration: Migration,
    snapshot: Cluster,
    conns: Mapping[str, Connection],
    in_flight: InFlight = InFlight(),
) -> str | None:
    """Why `migration` cannot start now, or None when it can."""
    m = migration
    source = conns[m.source]
    dom = find_domain(source, m.vm_uuid)
    if dom is None:
        seen = where_is(m.vm_uuid, conns)
        if m.destination in seen:
            return f"{m.vm_name} is already on {m.destination} (moved after planning)"
        where = ", ".join(s.describe() for s in seen.values()) or "no known host"
        return f"{m.vm_name} is no longer on {m.source} (moved after planning; now on {where})"
    state = dom.state()[0]
    if state != c.VIR_DOMAIN_RUNNING:
        return f"{m.vm_name} is not running on {m.source} (libvirt state {state})"
    if dom.jobInfo()[0] != c.VIR_DOMAIN_JOB_NONE:
        return f"{m.vm_name} already has a job running on {m.source}"
    info = dom.info()
    need_mib, need_vcpus = info[1] // 1024, info[3]
    return _room(m, need_mib, need_vcpus, snapshot, conns[m.destination], in_flight)


def _room(
    m: Migration, need_mib: int, need_vcpus: int, snapshot: Cluster, dest: Connection, in_flight: InFlight
) -> str | None:
    host = snapshot.host_by_name.get(m.destination)
    if host is None:
        return f"{m.destination} is not in the plan's snapshot"
    used_mib = (in_flight.memory_mib or {}).get(m.destination, 0)
    used_vcpus = (in_flight.vcpus or {}).get(m.destination, 0)
    for d in dest.listAllDomains(c.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        if d.UUIDString() in in_flight.uuids:
            continue
        info = d.info()
        used_mib += info[1] // 1024
        used_vcpus += info[3]
    if used_mib + need_mib > host.memory_capacity_mib:
        return (
            f"{m.destination} has no room for {m.vm_name} now: memory {used_mib} + {need_mib} > "
            f"{host.memory_capacity_mib} MiB"
        )
    if used_vcpus + need_vcpus > host.vcpu_capacity:
        return (
            f"{m.destination} has no room for {m.vm_name} now: vCPUs {used_vcpus} + {need_vcpus} > "
            f"{host.vcpu_capacity}"
        )
    return None
