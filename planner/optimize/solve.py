"""One CP-SAT solve over a (sub)cluster: restrict candidates, encode every rule, minimise, read back.

The objective (per resource peak, every host's excess above the level, each move's cost) is
objective.py's; a Problem carries it, built once for the whole cluster, so a neighbourhood's answers
compare with the whole's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from planner.model import Cluster, Vm
from planner.optimize.candidates import Domains, classes, restrict
from planner.optimize.encoding import Encoding, Solution
from planner.optimize.greedy import greedy
from planner.optimize.objective import Objective
from planner.optimize.peak_bound import peak_bound
from planner.policy import Policy
from planner.rules.rule import Rule

#: Up to this many guest x host pairs every guest may go anywhere it is allowed.
SMALL_PAIRS = 20_000


@dataclass(frozen=True)
class Problem:
    cluster: Cluster
    policy: Policy
    rules: tuple[Rule, ...]
    may_stay: Mapping[str, bool]
    dests: Mapping[str, tuple[str, ...]]
    receivers: tuple[str, ...]
    levels_pct: Mapping[str, float]
    objective: Objective
    #: Per resource, the peak share (percent) of receiving hosts outside a neighbourhood.
    outside_peak_pct: Mapping[str, float] = field(default_factory=dict)
    #: Guests (UUIDs) known up front to be unable to leave where a hard rule says they must: they may
    #: stay, at a cost, and their checks excuse it.
    stays: frozenset[str] = frozenset()


def full_domains(p: Problem, home: bool = False) -> Domains:
    """Every allowed host per guest; with `home`, its own host too even where a rule forbids staying
    (so that rule's encoding, under its assumption, can be blamed in a conflict)."""
    out: Domains = {}
    for vm in p.cluster.vms:
        others = tuple(h for h in p.dests[vm.uuid] if h != vm.host)
        out[vm.uuid] = ((vm.host,) if home or p.may_stay[vm.uuid] else ()) + others
    return out


def grouped(p: Problem) -> frozenset[str]:
    """Guests a rule ties to other guests or to hosts: they keep all their candidates."""
    return frozenset().union(*(r.needs_every_candidate(p.cluster) for r in p.rules))


def kept_by_heuristics(p: Problem) -> frozenset[str]:
    """Guests the heuristics leave where they are: the rules say whose moves only the solver weighs
    (members of affinity and anti-affinity groups, guests of soft pins)."""
    return frozenset().union(*(r.kept_by_heuristics(p.cluster) for r in p.rules))


def moving_as_one(p: Problem) -> list[tuple[Vm, ...]]:
    """Groups of guests that move only together, as one unit (the rules say which)."""
    return [unit for r in p.rules if len(unit := r.moves_as_one(p.cluster)) > 1]


def apart_fellows(p: Problem) -> dict[str, frozenset[str]]:
    """Guests the heuristics may move after all, to a host none of their fellows is on (rules whose
    guests only have to stay apart); guests another rule keeps from the heuristics stay kept."""
    apart = [r.apart_from(p.cluster) for r in p.rules]
    other = frozenset().union(
        *(r.kept_by_heuristics(p.cluster) for r, a in zip(p.rules, apart, strict=True) if not a)
    )
    out: dict[str, frozenset[str]] = {}
    for fellows in apart:
        for u, them in fellows.items():
            if u not in other:
                out[u] = out.get(u, frozenset()) | them
    return out


def baseline(p: Problem, smart: bool = True) -> dict[str, str]:
    """The greedy placement; guests named by group rules and soft pins stay put in it. `smart` runs
    the optimizer's variant (water-filling and the solver then relieve the peak further)."""
    args = (
        p.cluster,
        p.may_stay,
        p.dests,
        set(p.receivers),
        kept_by_heuristics(p),
        p.policy.cpu_weight,
        p.policy.memory_weight,
        p.policy.max_migrations,
        p.policy.max_moved_mib,
    )
    if not smart:
        return greedy(*args)
    return greedy(*args, smart=True, target_pct=p.levels_pct.get("peak"))


def candidate_domains(p: Problem, hint: Mapping[str, str], scores: Mapping[str, float]) -> Domains:
    full = full_domains(p)
    wide = grouped(p)
    if sum(len(d) for d in full.values()) <= SMALL_PAIRS:
        return full
    hot = {h for h, s in scores.items() if s > p.levels_pct.get("peak", 0.0)}
    movers = {
        vm.uuid
        for vm in p.cluster.vms
        if vm.host in hot or not p.may_stay[vm.uuid] or hint[vm.uuid] != vm.host or vm.uuid in wide
    }
    coolness = {h: -s for h, s in scores.items()}
    return restrict(p.cluster, full, movers, hint, coolness, p.policy.candidates_per_vm, wide)


def encode(p: Problem, domains: Domains, explain: bool) -> Encoding:
    enc = Encoding(p.cluster, domains, explain=explain, stays=p.stays)
    for rule in p.rules:
        rule.encode(enc)
    movable = [vm for vm in p.cluster.vms if any(h != vm.host for h in domains[vm.uuid])]
    p.objective.encode(enc, p.receivers, movable, p.outside_peak_pct)
    return enc


def objective_points(p: Problem, placement: Mapping[str, str]) -> int:
    """The objective of `encode` for a placement (soft rules aside): a cheap way to compare two
    placements of the same (sub)problem."""
    return p.objective.value(p.cluster, placement, p.receivers, p.outside_peak_pct)


def solve(p: Problem, hint: Mapping[str, str], scores: Mapping[str, float], time_s: float) -> Solution:
    """Solve over restricted candidates, hinted with `hint`, for `time_s` seconds' worth of CP-SAT's
    deterministic time (Encoding.solve). Infeasible answers are re-asked over every allowed host
    with one assumption per rule, so that the conflict names rules, not our restriction."""
    domains = candidate_domains(p, hint, scores)
    enc = encode(p, domains, explain=False)
    enc.hint(hint)
    sol = enc.solve(time_s, p.policy.seed, p.policy.workers)
    if sol.status != "infeasible":
        return sol
    full = full_domains(p, home=True)
    if sum(map(len, full.values())) > 4 * SMALL_PAIRS:
        full = {u: tuple(dict.fromkeys((p.cluster.vm_by_uuid[u].host, *d))) for u, d in domains.items()}
    explainer = encode(p, full, explain=True)
    return explainer.solve(max(1.0, time_s), p.policy.seed, p.policy.workers)


def receivers_of(cluster: Cluster, closed: Sequence[str]) -> tuple[str, ...]:
    shut = set(closed)
    return tuple(h.name for h in cluster.hosts if h.accepts_guests and h.name not in shut)


def build_problem(
    cluster: Cluster,
    policy: Policy,
    rules: tuple[Rule, ...],
    known: tuple[dict[str, bool], dict[str, tuple[str, ...]]] | None = None,
    stays: frozenset[str] = frozenset(),
) -> Problem:
    """The problem `optimize` solves: each guest's allowed hosts (`known` when already computed), the
    receiving hosts and the levels and bound of the peak."""
    may_stay, dests = known or classes(cluster, rules)
    receivers = receivers_of(cluster, (*policy.exclude, *policy.evacuate))
    stuck = {vm.uuid: not any(h != vm.host for h in dests[vm.uuid]) for vm in cluster.vms}
    leaving = frozenset(u for u, ok in may_stay.items() if not ok)
    levels = peak_bound(
        cluster, receivers, stuck, policy.cpu_weight, policy.memory_weight, leaving, dests, may_stay
    )
    objective = Objective.build(cluster, policy, receivers, levels)
    return Problem(cluster, policy, rules, may_stay, dests, receivers, levels, objective, stays=stays)
