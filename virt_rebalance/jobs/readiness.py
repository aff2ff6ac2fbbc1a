"""Maintenance readiness: could each host be emptied right now, how long would it take, what would stay;
and could the others take any single host's guests (N+1 headroom, per resource).

    readiness = assess(cluster, plan_one, closed=config.excluded)   # plan_one(host) -> its evacuation Plan

One evacuation plan per host, all on the same snapshot, from the very planner `evacuate` uses (so the
moves, the estimate and the reasons a guest stays are those `evacuate --dry-run` would show). Each plan
gets a short solver time limit so that N plans stay fast on big clusters: readiness asks "can it be
emptied", not "what is the best way".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

from planner.errors import PlanningError
from planner.load import host_loads
from planner.model import Cluster, HostState
from planner.plan import HostLoad, Plan, Stay
from virt_rebalance.config import Config
from virt_rebalance.jobs import steps

#: The solver's time limit for each host's evacuation plan (the config's limit when that is shorter).
PER_HOST_TIME_LIMIT_S = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class HostReadiness:
    """Whether one host can be emptied now, and at what cost; `problem` when it could not be planned."""

    host: str
    state: str
    guests: int
    evacuable: bool
    migrations: int = 0
    moved_mib: int = 0
    estimate_s: float = 0.0
    lower_bound_s: float = 0.0
    stays: tuple[Stay, ...] = ()
    problem: str = ""
    plan_s: float = 0.0

    @property
    def why_not(self) -> str:
        """Why the host cannot be emptied, in full (empty when it can)."""
        if self.problem:
            return self.problem
        return "; ".join(f"{s.vm_name} stays: {s.reason} ({s.rule})" for s in self.stays)

    @property
    def blocker(self) -> str:
        """Why not, in a few words: which guests stay and the rule (the stays carry the whole reason)."""
        if self.problem:
            return self.problem
        return ", ".join(f"{s.vm_name} stays ({s.rule})" for s in self.stays)


@dataclass(frozen=True, slots=True, kw_only=True)
class Headroom:
    """N+1 for one resource: the host whose guests the others could least take, and by how much.

    `spare` is what the other open hosts have free minus that host's load, in the resource's unit
    (millicores, MiB, vCPUs); negative means they could not take it. An aggregate: the evacuation plans
    answer for packing, rules and CPU compatibility.
    """

    resource: str
    unit: str
    worst_host: str
    load: int
    others_free: int

    @property
    def spare(self) -> int:
        return self.others_free - self.load

    @property
    def ok(self) -> bool:
        return self.spare >= 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Readiness:
    hosts: tuple[HostReadiness, ...]
    headroom: tuple[Headroom, ...]
    collected_at: str
    took_s: float

    @property
    def evacuable(self) -> tuple[str, ...]:
        return tuple(h.host for h in self.hosts if h.evacuable)

    @property
    def blocked(self) -> tuple[HostReadiness, ...]:
        return tuple(h for h in self.hosts if not h.evacuable)

    def summary_line(self) -> str:
        """e.g. 'readiness: 3 of 4 hosts can be emptied now (not h1: kvm1 stays (CpuCompatible)); N+1 holds
        for cpu, memory, vcpus'."""
        line = f"readiness: {len(self.evacuable)} of {len(self.hosts)} hosts can be emptied now"
        if self.blocked:
            line += " (not " + "; ".join(f"{h.host}: {h.blocker}" for h in self.blocked) + ")"
        short = [h.resource for h in self.headroom if not h.ok]
        if not self.headroom:
            return line + "; N+1: no host carries guests"
        if short:
            return line + f"; N+1 fails for {', '.join(short)}"
        return line + f"; N+1 holds for {', '.join(h.resource for h in self.headroom)}"


PlanOne = Callable[[str], Plan]


def assess(cluster: Cluster, plan_one: PlanOne, *, closed: Collection[str] = ()) -> Readiness:
    """Readiness of every host of `cluster`; `closed` hosts (excluded in the config) take no guests."""
    began = time.monotonic()
    loads = host_loads(cluster, cluster.placement)
    guests = {load.host: load.guests for load in loads}
    return Readiness(
        hosts=tuple(_one(h.name, h.state, guests[h.name], plan_one) for h in cluster.hosts),
        headroom=headroom(cluster, loads, closed),
        collected_at=cluster.collected_at,
        took_s=round(time.monotonic() - began, 3),
    )


def _one(host: str, state: HostState, guests: int, plan_one: PlanOne) -> HostReadiness:
    if state is HostState.UNREACHABLE:
        return HostReadiness(
            host=host, state=state, guests=guests, evacuable=False, problem="unreachable: not planned"
        )
    if not guests:  # nothing to move: no plan needed
        return HostReadiness(host=host, state=state, guests=0, evacuable=True)
    began = time.monotonic()
    try:
        plan = plan_one(host)
    except PlanningError as exc:
        return HostReadiness(host=host, state=state, guests=guests, evacuable=False, problem=str(exc))
    stays = tuple(s for s in plan.stays if s.host == host)
    return HostReadiness(
        host=host,
        state=state,
        guests=guests,
        evacuable=not stays,
        migrations=len(plan.migrations),
        moved_mib=plan.moved_mib,
        estimate_s=plan.makespan_s,
        lower_bound_s=plan.makespan_lower_bound_s,
        stays=stays,
        plan_s=round(time.monotonic() - began, 3),
    )


#: (resource, unit, the load, the capacity) of a HostLoad.
RESOURCES: tuple[tuple[str, str, Callable[[HostLoad], int], Callable[[HostLoad], int]], ...] = (
    ("cpu", "millicores", lambda h: h.cpu_millicores, lambda h: h.cpu_capacity_millicores),
    ("memory", "MiB", lambda h: h.memory_mib, lambda h: h.memory_capacity_mib),
    ("vcpus", "vCPUs", lambda h: h.vcpus, lambda h: h.vcpu_capacity),
)


def headroom(
    cluster: Cluster, loads: tuple[HostLoad, ...], closed: Collection[str] = ()
) -> tuple[Headroom, ...]:
    """Per resource, the host whose load the other open hosts' free capacity covers least."""
    states = {h.name: h for h in cluster.hosts}
    open_hosts = [x for x in loads if states[x.host].accepts_guests and x.host not in closed]
    carriers = [x for x in loads if x.guests and states[x.host].state is not HostState.UNREACHABLE]
    if not carriers:
        return ()
    out = []
    for resource, unit, used, capacity in RESOURCES:
        free = {x.host: max(0, capacity(x) - used(x)) for x in open_hosts}
        total = sum(free.values())
        worst = min(carriers, key=lambda x: (total - free.get(x.host, 0) - used(x), x.host))
        out.append(
            Headroom(
                resource=resource,
                unit=unit,
                worst_host=worst.host,
                load=used(worst),
                others_free=total - free.get(worst.host, 0),
            )
        )
    return tuple(out)


def moved(cluster: Cluster, moves: Mapping[str, str]) -> Cluster:
    """`cluster` after the guests named in `moves` (guest name -> host) moved there."""
    if not moves:
        return cluster
    vms = tuple(replace(v, host=moves[v.name]) if v.name in moves else v for v in cluster.vms)
    return replace(cluster, vms=vms)


def check(config: Config, cluster: Cluster | None = None) -> Readiness:
    """Readiness of the configured cluster: collect (unless given a snapshot), then one plan per host."""
    if cluster is None:
        cluster = steps.current(config, steps.collect(config))

    def plan_one(host: str) -> Plan:
        return steps.plan(cluster, config, "evacuate", (host,), time_limit_s=PER_HOST_TIME_LIMIT_S)

    return assess(cluster, plan_one, closed=config.policy_value().exclude)
