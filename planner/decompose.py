"""Decomposition for large clusters: solve host groups one after another, each as its own small problem.

Hosts are dealt into groups like cards, hottest first in a snake order, so every group gets a similar mix
of hot and cool hosts (and of CPU generations) and its own water level is close to the cluster's. Hosts
tied by a rule (the guests of an affinity or anti-affinity group, a pin's hosts) are dealt together.
Each group gets an equal share of the time left; a group whose solve finds nothing keeps its greedy
placement. Budgets are shared out in order: each group may spend what the earlier ones left.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import replace

from planner.model import Cluster
from planner.rules import Affinity, AntiAffinity, Pin, rules_for
from planner.rules.evacuate import Evacuate
from planner.solve import Problem, baseline, solve

GUESTS_PER_GROUP = 1500


def host_groups(p: Problem, scores: Mapping[str, float], count: int) -> list[list[str]]:
    parent = {h.name: h.name for h in p.cluster.hosts}

    def find(h: str) -> str:
        while parent[h] != h:
            parent[h] = parent[parent[h]]
            h = parent[h]
        return h

    for rule in p.rules:
        if isinstance(rule, (Affinity, AntiAffinity, Pin)):
            tied = [p.cluster.vm_by_name[n].host for n in rule.vms if n in p.cluster.vm_by_name]
            tied += [name for name in getattr(rule, "hosts", ()) if name in parent]
            for name in tied[1:]:
                parent[find(name)] = find(tied[0])
    units: dict[str, list[str]] = {}
    for host in p.cluster.hosts:
        units.setdefault(find(host.name), []).append(host.name)
    ranked = sorted(units.values(), key=lambda u: (-max(scores.get(h, 0.0) for h in u), u[0]))
    groups: list[list[str]] = [[] for _ in range(count)]
    for i, unit in enumerate(ranked):
        lap, pos = divmod(i, count)
        groups[pos if lap % 2 == 0 else count - 1 - pos].extend(unit)
    return [g for g in groups if g]


def sub_problem(p: Problem, hosts: list[str], spent: tuple[int, int]) -> Problem:
    names = set(hosts)
    cluster = p.cluster
    sub = Cluster(
        hosts=tuple(cluster.host_by_name[h] for h in hosts),
        vms=tuple(vm for vm in cluster.vms if vm.host in names),
        compatibility=cluster.compatibility,
        rules=cluster.rules,
    )
    pol = p.policy
    policy = replace(
        pol,
        max_migrations=None if pol.max_migrations is None else max(0, pol.max_migrations - spent[0]),
        max_moved_mib=None if pol.max_moved_mib is None else max(0, pol.max_moved_mib - spent[1]),
    )
    stays = next((r.stays for r in p.rules if isinstance(r, Evacuate)), frozenset())
    rules = rules_for(sub, policy, stays)
    uuids = {vm.uuid for vm in sub.vms}
    return Problem(
        cluster=sub,
        policy=policy,
        rules=rules,
        may_stay={u: ok for u, ok in p.may_stay.items() if u in uuids},
        dests={vm.uuid: tuple(h for h in p.dests[vm.uuid] if h in names) for vm in sub.vms},
        receivers=tuple(h for h in p.receivers if h in names),
        levels_pct=p.levels_pct,
    )


def solve_decomposed(
    p: Problem, hint: Mapping[str, str], scores: Mapping[str, float], left_s: float, notes: list[str]
) -> tuple[str, dict[str, str]]:
    """Solve `p` group by group; returns the status and the merged placement."""
    deadline = time.monotonic() + left_s
    count = max(1, math.ceil(len(p.cluster.vms) / GUESTS_PER_GROUP))
    groups = host_groups(p, scores, count)
    placement = dict(p.cluster.placement)
    spent = [0, 0]
    fallbacks = 0
    for i, hosts in enumerate(groups):
        sub = sub_problem(p, hosts, (spent[0], spent[1]))
        sub_hint = baseline(sub)
        share = (deadline - time.monotonic()) / (len(groups) - i)
        sol = solve(sub, sub_hint, scores, max(0.1, share * 0.8)) if share > 0.2 else None
        got = sol.placement if sol is not None and sol.status in ("optimal", "feasible") else sub_hint
        fallbacks += got is sub_hint
        for vm in sub.cluster.vms:
            placement[vm.uuid] = got[vm.uuid]
            if got[vm.uuid] != vm.host:
                spent[0] += 1
                spent[1] += vm.memory_mib
    notes.append(f"decomposed into {len(groups)} host groups; {fallbacks} kept the greedy placement")
    return "feasible", placement
