"""Candidate hosts per guest: the domain the unary rules allow, then a few good ones for scale.

`domains` asks every unary rule where each guest may go and whether it may stay; guests with the same
answers share the computed set, so 30,000 guests cost a few dozen set intersections. A host already over
capacity in the snapshot receives nothing. `restrict` keeps, for guests worth moving, the current host,
the hint's host and `k` destinations spread over the coolest compatible hosts, so that movers do not
all crowd the same few hosts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planner.model import Cluster, Vm
from planner.rules import capacity_rule
from planner.rules.capacity import hosts_over
from planner.rules.rule import Rule, UnaryRule, unary

Domains = dict[str, tuple[str, ...]]


def classes(cluster: Cluster, rules: Sequence[Rule]) -> tuple[dict[str, bool], dict[str, tuple[str, ...]]]:
    """Per guest: whether it may stay, and the hosts it may move to (in host order, possibly including
    its own host). Guests with the same answers share one tuple object, so callers can group by id()."""
    checks = unary(rules)
    full = frozenset(cluster.host_by_name)
    full_barred = hosts_over(cluster, ("memory", "vcpus", "cpu"))
    order = {h.name: i for i, h in enumerate(cluster.hosts)}
    cache: dict[tuple[int, ...], tuple[str, ...]] = {}
    stay: dict[str, bool] = {}
    dests: dict[str, tuple[str, ...]] = {}
    general = [r for r in checks if r.about_everyone]
    specific: dict[str, list[UnaryRule]] = {}
    for rule in checks:
        if not rule.about_everyone:
            for vm in rule.subjects(cluster):
                specific.setdefault(vm.uuid, []).append(rule)
    for vm in cluster.vms:
        mine = general + specific[vm.uuid] if vm.uuid in specific else general
        sets = [s for s in (r.allowed(cluster, vm) for r in mine) if s is not None]
        barred = [r.barred(cluster, vm) for r in mine]
        key = (*(id(s) for s in sets), -1, *(id(b) for b in barred if b))
        found = cache.get(key)
        if found is None:
            allowed = frozenset.intersection(full, *sets).difference(full_barred, *barred)
            found = tuple(sorted(allowed, key=order.__getitem__))
            cache[key] = found
        dests[vm.uuid] = found
        stay[vm.uuid] = all(r.may_stay(cluster, vm) for r in mine)
    return stay, dests


def domains(cluster: Cluster, rules: Sequence[Rule]) -> Domains:
    """Every guest's allowed hosts, its current host first when it may stay, then in host order."""
    stay, dests = classes(cluster, rules)
    out: Domains = {}
    for vm in cluster.vms:
        others = tuple(h for h in dests[vm.uuid] if h != vm.host)
        out[vm.uuid] = ((vm.host,) if stay[vm.uuid] else ()) + others
    return out


def blocking_rule(cluster: Cluster, rules: Sequence[Rule], vm: Vm) -> tuple[str, bool]:
    """The kind of rule that leaves `vm` no host, and whether another move could resolve it: the unary
    rule ruling out the most other hosts (CPU compatibility, closed hosts, a pin), else capacity."""
    counts = [
        (sum(1 for h in cluster.hosts if h.name != vm.host and not r.permits(cluster, vm, h.name)), r)
        for r in unary(rules)
        if r.applies_to(vm)
    ]
    out, rule = max(counts, key=lambda c: c[0], default=(0, None))
    if rule is not None and out:
        return rule.kind, False
    memory_full = hosts_over(cluster, ("memory",)) - {vm.host}
    return capacity_rule("memory" if memory_full else "cpu"), True


def why_stuck(cluster: Cluster, rules: Sequence[Rule], vm: Vm) -> str:
    """Why `vm` has no host at all, naming each rule and how many hosts it rules out."""
    parts = []
    for rule in unary(rules):
        if rule.applies_to(vm) and not rule.may_stay(cluster, vm):
            parts.append(f"{rule.name}: {rule.why_not(cluster, vm, vm.host)}")
    for rule in unary(rules):
        if not rule.applies_to(vm):
            continue
        out = sum(1 for h in cluster.hosts if h.name != vm.host and not rule.permits(cluster, vm, h.name))
        if out:
            parts.append(f"{rule.name} rules out {out} of {len(cluster.hosts) - 1} other hosts")
    full = hosts_over(cluster, ("memory", "vcpus", "cpu")) - {vm.host}
    if full:
        parts.append(f"{len(full)} hosts are already over capacity")
    return f"{vm.name} has nowhere to run: " + "; ".join(parts)


def restrict(
    cluster: Cluster,
    full: Mapping[str, tuple[str, ...]],
    movers: set[str],
    hint: Mapping[str, str],
    coolness: Mapping[str, float],
    k: int,
    wide: frozenset[str] = frozenset(),
) -> Domains:
    """Narrow each domain: non-movers keep only their current host (when allowed), movers keep their
    current host, their hint host and up to `k` of the coolest allowed hosts, spread by the guest's
    position so that movers fan out over the cool hosts. Guests in `wide` (rule groups) keep it all."""
    out: Domains = {}
    ranked_cache: dict[tuple[str, ...], list[str]] = {}
    for i, vm in enumerate(cluster.vms):
        dom = full[vm.uuid]
        mine = hint.get(vm.uuid, vm.host)
        if vm.uuid not in movers or len(dom) <= k + 1 or vm.uuid in wide:
            keep = dom if vm.uuid in movers else tuple(h for h in dom if h in (vm.host, mine))
            out[vm.uuid] = keep or dom[:1]
            continue
        ranked = ranked_cache.get(dom)
        if ranked is None:
            ranked = sorted(dom, key=lambda h: -coolness[h])
            ranked = ranked[: max(k, len(ranked) // 3)]
            ranked_cache[dom] = ranked
        stride = max(1, len(ranked) // k)
        picks = {ranked[(i + j * stride) % len(ranked)] for j in range(k)}
        picks |= {h for h in (vm.host, mine) if h in dom}
        out[vm.uuid] = tuple(h for h in dom if h in picks)
    return out
