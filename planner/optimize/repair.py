"""Peak repair for large clusters: large-neighbourhood search with CP-SAT, a few hosts at a time.

A model over every guest of a large cluster cannot even load within the time targets, so each round
takes the hottest hosts of the current placement and a window of cool ones (sliding from round to round),
frees the guests on them to move among them (several candidates each), keeps everything else fixed, and
lets CP-SAT minimise the same objective over that neighbourhood, hinted with the current placement so the
answer is never worse (a round's answer is kept only when it scores better). A hard affinity group wholly
inside a neighbourhood moves as one, other members of hard affinity groups stay put, and a member of a
hard anti-affinity group may go anywhere its fellows are not. The peak of the hosts outside
is the floor of the neighbourhood's peak, and the migration budget of a round is what the moves outside
it leave.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

from planner.load import host_loads, score
from planner.model import Cluster, Vm
from planner.optimize.candidates import Domains
from planner.optimize.encoding import Resource
from planner.optimize.peak_bound import resource_peak_bounds
from planner.optimize.solve import Problem, encode, objective_points
from planner.plan import HostLoad

HOT_GUESTS = 60
HOT_HOSTS = 4
COOL_PER_HOT = 2
TARGETED_GUESTS = 3
TARGETED_HOSTS = 3
ROUND_S = 0.5
#: Rounds of at most ROUND_S a time limit holds at least (a short limit gets shorter rounds).
ROUNDS_PER_LIMIT = 6
#: Guests free to move on each of a neighbourhood's hosts that are not hot (the biggest).
FREE_PER_HOST = 3
#: Rounds the search always gets, however little time the earlier stages left (when it runs at all).
MIN_ROUNDS = 1
#: A round budget below this is no search: the policy's limit leaves no time for one worth its cost.
#: (Measured on 100 hosts / 2,000 guests, limit 1.5 s, one round: 0.4-0.8 s a plan, and no seed's
#: peaks changed, the excess of one by 0.07 points; a second changed nothing either. At 1,000 hosts,
#: limit 15 s, nine rounds: without them seeds ended up to 8.3 points above a bound, against 1.9.)
MIN_SEARCH = 2
#: The search ends once every resource's peak is within this many points of its bound.
PEAK_DONE_PCT = 0.5
#: The share of the policy's time limit the search's round budget is counted from (a round takes
#: about twice its solve time; the rest of the limit goes to the start and the last polish). The
#: deadline still ends the search early on a slow machine.
SEARCH_SHARE = 0.6


def _neighbourhood(
    p: Problem,
    placement: Mapping[str, str],
    loads: Mapping[str, HostLoad],
    scores: Mapping[str, float],
    turn: int,
) -> tuple[list[str], list[str]]:
    """The hottest hosts (up to HOT_GUESTS guests), by how far a resource's share rises above its
    peak bound on even turns and by excess (the objective's) on odd ones; for the biggest guests on
    them (a whole affinity group as one), the allowed hosts where they would end least loaded (on even
    turns: the biggest in the resource the hot host has most too much of, and the hosts with the most
    room of it below its bound, so a big guest on a small host finds a big host); and a window of the
    coolest hosts that slides each turn. Returns every host chosen and the hot ones."""
    o = p.objective
    bounds = resource_peak_bounds(p)
    if turn % 2:
        heat = {h: float(o.host_excess(p.cluster, h, _use(loads[h]))) for h in scores}
    else:
        heat = {h: _above_bound(p, loads[h], bounds) for h in scores}
    ranked = sorted(heat, key=lambda h: (-heat[h], h))
    hot: list[str] = []
    freed = 0
    for host in ranked:
        if freed >= HOT_GUESTS or len(hot) >= HOT_HOSTS:
            break
        hot.append(host)
        freed += loads[host].guests
    chosen = dict.fromkeys(hot)
    w = (p.policy.cpu_weight > 0, p.policy.memory_weight > 0)
    on_hot: dict[str, list[Vm]] = {h: [] for h in hot}
    for vm in p.cluster.vms:
        if placement[vm.uuid] in on_hot:
            on_hot[placement[vm.uuid]].append(vm)
    for host in hot:
        heavy = None if turn % 2 else _heaviest(p, loads[host], bounds)
        for whole in _movable_units(p, on_hot[host], heavy)[:TARGETED_GUESTS]:
            allowed = frozenset.intersection(*(frozenset(p.dests[m.uuid]) for m in whole[1]))
            if heavy is None:
                best = sorted(
                    (_after(loads[h], whole[0], w), h) for h in allowed if h in loads and h not in chosen
                )
            else:
                best = sorted(
                    (-_room(loads[h], heavy, bounds[heavy]), h)
                    for h in allowed
                    if h in loads and h not in chosen
                )
            chosen.update(dict.fromkeys(h for _, h in best[:TARGETED_HOSTS]))
    cool = sorted((h for h in scores if h not in chosen), key=lambda h: (scores[h], h))
    want = COOL_PER_HOT * len(hot) // 2 + 1
    start = (turn * want) % max(1, len(cool) // 2)
    chosen.update(dict.fromkeys(cool[start : start + want]))
    return list(chosen), hot


def _above_bound(p: Problem, hl: HostLoad, bounds: Mapping[str, float]) -> float:
    """How far (points) the host's share of a weighed resource rises above that resource's peak bound
    (`bounds`), the highest of them."""
    shares = {"cpu": hl.cpu_pct, "memory": hl.memory_pct}
    return max((shares[r] - bounds[r] for r in p.objective.peak_weight), default=0.0)


def _heaviest(p: Problem, hl: HostLoad, bounds: Mapping[str, float]) -> Resource:
    """The weighed resource the host's share rises most above the bound of."""
    shares: dict[Resource, float] = {"cpu": hl.cpu_pct, "memory": hl.memory_pct}
    both: tuple[Resource, ...] = ("cpu", "memory")
    weighed = [r for r in both if r in p.objective.peak_weight] or list(both)
    return max(weighed, key=lambda r: (shares[r] - bounds[r], r))


def _room(hl: HostLoad, r: Resource, bound_pct: float) -> float:
    """How much of `r` (millicores, MiB) the host has below `bound_pct` of its capacity."""
    if r == "cpu":
        return hl.cpu_capacity_millicores * bound_pct / 100 - hl.cpu_millicores
    return hl.memory_capacity_mib * bound_pct / 100 - hl.memory_mib


def _use(hl: HostLoad) -> dict[Resource, int]:
    return {"cpu": hl.cpu_millicores, "memory": hl.memory_mib}


def _settled(p: Problem, placement: Mapping[str, str], hosts: list[str], hot: list[str]) -> frozenset[str]:
    """Guests of the neighbourhood's other hosts beyond their FREE_PER_HOST biggest in memory and
    their FREE_PER_HOST busiest: they stay, so the model stays small enough to solve in a round (the
    hot hosts' guests and the biggest of the others, which make room in either resource, are free)."""
    others = set(hosts) - set(hot)
    on: dict[str, list[Vm]] = {h: [] for h in others}
    for vm in p.cluster.vms:
        if placement[vm.uuid] in on:
            on[placement[vm.uuid]].append(vm)
    out: set[str] = set()
    for guests in on.values():
        guests.sort(key=lambda v: (-v.memory_mib, -v.cpu_demand_millicores, v.uuid))
        busiest = sorted(guests, key=lambda v: (-v.cpu_demand_millicores, -v.memory_mib, v.uuid))
        free = {v.uuid for v in (*guests[:FREE_PER_HOST], *busiest[:FREE_PER_HOST])}
        out.update(v.uuid for v in guests if v.uuid not in free)
    return frozenset(out)


def _movable_units(p: Problem, guests: list[Vm], by: Resource | None = None) -> list[tuple[Vm, list[Vm]]]:
    """The guests of a host as units that move together (a hard affinity group, or one guest), each
    with a stand-in guest carrying the unit's whole demand; biggest first (in memory, then CPU; or in
    the resource `by`)."""
    here = {vm.uuid for vm in guests}
    grouped: set[str] = set()
    units: list[tuple[Vm, list[Vm]]] = []
    for group in _units(p):
        if all(m.uuid in here for m in group):
            grouped.update(m.uuid for m in group)
            units.append((_whole(list(group)), list(group)))
    units += [(vm, [vm]) for vm in guests if vm.uuid not in grouped]
    if by == "cpu":
        return sorted(units, key=lambda u: (-u[0].cpu_demand_millicores, -u[0].memory_mib, u[0].uuid))
    return sorted(units, key=lambda u: (-u[0].memory_mib, -u[0].cpu_demand_millicores, u[0].uuid))


def _whole(members: list[Vm]) -> Vm:
    return replace(
        members[0],
        cpu_millicores=sum(m.cpu_demand_millicores for m in members),
        cpu_p95_millicores=None,
        memory_mib=sum(m.memory_mib for m in members),
    )


def neighbourhood_problem(
    p: Problem, placement: Mapping[str, str], hosts: list[str], loads: Mapping[str, HostLoad]
) -> Problem:
    names = set(hosts)
    cluster = p.cluster
    sub = Cluster(
        hosts=tuple(cluster.host_by_name[h] for h in hosts),
        vms=tuple(vm for vm in cluster.vms if placement[vm.uuid] in names),
        compatibility=cluster.compatibility,
    )
    inside = frozenset(vm.uuid for vm in sub.vms)
    seen = (rule.within(cluster, placement, inside) for rule in p.rules)
    return replace(
        p,
        cluster=sub,
        rules=tuple(rule for rule in seen if rule is not None),
        receivers=tuple(h for h in hosts if h in p.receivers),
        outside_peak_pct={
            "cpu": max((hl.cpu_pct for h, hl in loads.items() if h not in names), default=0.0),
            "memory": max((hl.memory_pct for h, hl in loads.items() if h not in names), default=0.0),
        },
    )


def _after(hl: HostLoad, vm: Vm, w: tuple[bool, bool]) -> float:
    """The host's score once `vm` arrives."""
    cpu = 100.0 * (hl.cpu_millicores + vm.cpu_demand_millicores) / max(1, hl.cpu_capacity_millicores)
    mem = 100.0 * (hl.memory_mib + vm.memory_mib) / max(1, hl.memory_capacity_mib)
    return max(cpu if w[0] else 0.0, mem if w[1] else 0.0)


def neighbourhood_domains(
    p: Problem,
    sub: Problem,
    placement: Mapping[str, str],
    loads: Mapping[str, HostLoad],
    frozen: frozenset[str],
) -> Domains:
    """Per freed guest: where it is, where it came from, and the `candidates_per_vm` allowed hosts of
    the neighbourhood where it would leave the lowest share of capacity."""
    receivers = sub.receivers
    allowed_cache: dict[int, frozenset[str]] = {}
    k = p.policy.candidates_per_vm
    w = (p.policy.cpu_weight > 0, p.policy.memory_weight > 0)
    names = set(sub.cluster.host_by_name)
    out: Domains = _groups_inside(p, sub, placement, loads)
    apart = _apart(p, placement)
    for vm in sub.cluster.vms:
        now = placement[vm.uuid]
        if vm.uuid in out:
            continue
        if vm.uuid in frozen:
            out[vm.uuid] = (now,)
            continue
        dests = p.dests[vm.uuid]
        allowed = allowed_cache.get(id(dests))
        if allowed is None:
            allowed = frozenset(dests)
            allowed_cache[id(dests)] = allowed
        taken = apart.get(vm.uuid, frozenset())
        ranked = sorted(
            (_after(loads[h], vm, w), h) for h in receivers if h in allowed and h != now and h not in taken
        )
        best = [h for _, h in ranked[:k]]
        picks = {now, *best}
        if vm.host in names and p.may_stay[vm.uuid]:
            picks.add(vm.host)
        out[vm.uuid] = tuple(sorted(picks))
    return out


def _apart(p: Problem, placement: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """Per guest, the hosts the rules keep it off given where other guests are now (a hard anti-affinity
    group's fellow members): a neighbourhood may not see those guests, so it may not send it there."""
    out: dict[str, frozenset[str]] = {}
    for rule in p.rules:
        for uuid, hosts in rule.keep_off(p.cluster, placement).items():
            out[uuid] = out.get(uuid, frozenset()) | hosts
    return out


def _groups_inside(
    p: Problem, sub: Problem, placement: Mapping[str, str], loads: Mapping[str, HostLoad]
) -> Domains:
    """Hard affinity groups wholly inside the neighbourhood move as one: every member gets the same
    candidates, ranked by what the whole group would leave of each host."""
    inside = sub.cluster.vm_by_uuid
    w = (p.policy.cpu_weight > 0, p.policy.memory_weight > 0)
    out: Domains = {}
    for group in _units(p):
        if not all(m.uuid in inside for m in group):
            continue
        members = [inside[m.uuid] for m in group]
        now = placement[members[0].uuid]
        allowed = frozenset.intersection(*(frozenset(p.dests[m.uuid]) for m in members))
        whole = _whole(members)
        ranked = sorted((_after(loads[h], whole, w), h) for h in sub.receivers if h in allowed and h != now)
        picks = {now, *(h for _, h in ranked[: p.policy.candidates_per_vm])}
        homes = {m.host for m in members}
        if (
            len(homes) == 1
            and all(p.may_stay[m.uuid] for m in members)
            and members[0].host in sub.cluster.host_by_name
        ):
            picks.add(members[0].host)
        for m in members:
            out[m.uuid] = tuple(sorted(picks))
    return out


def _units(p: Problem) -> list[tuple[Vm, ...]]:
    """The groups of guests that move only as one (hard affinity groups), as the rules say."""
    return [group for group in (r.moves_as_one(p.cluster) for r in p.rules) if group]


def _together(p: Problem) -> frozenset[str]:
    """Guests that move only as a whole group (_groups_inside)."""
    return frozenset(vm.uuid for group in _units(p) for vm in group)


def repair(p: Problem, placement: dict[str, str], deadline: float, notes: list[str]) -> dict[str, str]:
    """Improve `placement` round by round until `deadline` (monotonic seconds) or nothing improves."""
    frozen = _together(p)
    receivers = set(p.receivers)
    bounds = resource_peak_bounds(p)
    rounds = gains = stale = 0
    # A round budget, not the clock, ends the search, so the answer does not depend on the machine's load.
    # A round's solve time comes from the policy's limit (short limits, short rounds), not the clock.
    round_s = min(ROUND_S, p.policy.time_limit_s / ROUNDS_PER_LIMIT)
    budget = int(p.policy.time_limit_s * SEARCH_SHARE / (2 * round_s))
    if budget < MIN_SEARCH:
        budget = 0
    while rounds < budget and (rounds < MIN_ROUNDS or time.monotonic() < deadline - 0.2) and stale < 6:
        loads = [hl for hl in host_loads(p.cluster, placement) if hl.host in receivers]
        scores = {hl.host: score(hl, p.policy.cpu_weight, p.policy.memory_weight) for hl in loads}
        by_host = {hl.host: hl for hl in loads}
        if not scores or max(_above_bound(p, hl, bounds) for hl in loads) <= PEAK_DONE_PCT:
            break
        hosts, hot = _neighbourhood(p, placement, by_host, scores, rounds)
        sub = neighbourhood_problem(p, placement, hosts, by_host)
        domains = neighbourhood_domains(
            p, sub, placement, by_host, frozen | _settled(p, placement, hosts, hot)
        )
        enc = encode(sub, domains, explain=False)
        enc.hint(placement)
        # The round ends on CP-SAT's deterministic time (what round_s gives on an idle machine), never
        # on the clock: a wall-clock limit cut rounds short at random (the same cluster gave
        # different plans) and, on a busy machine, left the search without its gains.
        sol = enc.solve(round_s, p.policy.seed + rounds, p.policy.workers)
        rounds += 1
        changed = {u: h for u, h in sol.placement.items() if placement[u] != h}
        if (
            changed
            and sol.status in ("optimal", "feasible")
            and objective_points(sub, sol.placement) < objective_points(sub, placement) - 1e-6
        ):
            placement.update(changed)
            gains += 1
            stale = 0
        else:
            stale += 1
    plural = "" if rounds == 1 else "s"
    notes.append(f"peak repair: {rounds} neighbourhood round{plural}, {gains} improved the placement")
    return placement
