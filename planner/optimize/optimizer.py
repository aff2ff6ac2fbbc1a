"""The optimizer: where every guest should run (the target placement), and why.

    optimize(cluster, policy) -> Target     rebalance, or evacuate when policy.evacuate names hosts
    check_placement(cluster, placement, policy) -> list[Violation]

Steps: guests that cannot move (or cannot leave an evacuated host) become Stays with a reason; every
rule's check and encoding come from the one registry; the greedy pass gives a hint; CP-SAT improves
it over restricted candidates (large clusters: neighbourhood by neighbourhood, repair.py); every hard rule's check
runs on the answer (a violation is a PlannerBugError); a plan that does not improve balance by
`policy.min_improvement_pct` is dropped (anti-churn) unless a rule demands moves.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from planner.errors import InfeasibleError, PlannerBugError
from planner.load import balance, host_loads, score
from planner.model import Cluster, Placement
from planner.optimize.candidates import classes, why_stuck
from planner.optimize.churn import trim
from planner.optimize.repair import repair
from planner.optimize.solve import (
    Problem,
    baseline,
    build_problem,
    kept_by_heuristics,
    objective_points,
    receivers_of,
    solve,
)
from planner.optimize.stays import crowded_out, upfront_stays
from planner.optimize.waterfill import SWEEPS, waterfill
from planner.plan import Balance, HostLoad, Stay
from planner.policy import THRESHOLDS, Policy
from planner.reasons import move_reasons
from planner.rules import Rule, check_all, rules_for
from planner.violation import Violation

#: Above this many allowed guest x host pairs one CP-SAT model over the whole cluster cannot load and
#: improve within the time targets on two cores (measured: ~0.8 s just to load 12k assignment variables);
#: the greedy placement is then repaired neighbourhood by neighbourhood instead.
LARGE_PAIRS = 40_000
#: The share of the time limit the whole-cluster solve plans with (the rest covers the heuristics).
SOLVE_SHARE = 0.7


@dataclass(frozen=True)
class Target:
    placement: Mapping[str, str]
    reasons: Mapping[str, str]
    stays: tuple[Stay, ...]
    before: tuple[HostLoad, ...]
    after: tuple[HostLoad, ...]
    balance_before: Balance
    balance_after: Balance
    peak_lower_bound_pct: float
    status: str
    solve_s: float
    notes: tuple[str, ...]

    @property
    def moves(self) -> dict[str, str]:
        return {u: h for u, h in self.placement.items() if u in self.reasons}


def check_placement(
    cluster: Cluster, placement: Placement, policy: Policy, stays: frozenset[str] | None = None
) -> list[Violation]:
    """Every hard rule's check on `placement`, the rules built from `policy`. Evacuated guests that
    cannot leave at all are allowed to stay (computed here unless the caller passes the `stays`)."""
    rules = rules_for(cluster, policy)
    if stays is None:
        stays = frozenset(
            s.vm_uuid for s in upfront_stays(cluster, policy.evacuate, rules, classes(cluster, rules)[1])
        )
    return check_all(rules, cluster, placement, stays)


def optimize(
    cluster: Cluster,
    policy: Policy,
    rules: tuple[Rule, ...] | None = None,
    left_behind: tuple[Stay, ...] = (),
) -> Target:
    """The target placement for `cluster` under `policy` and its `rules` (the plan's, built once; by
    default from `policy`); raises InfeasibleError with the conflicts. The guests `left_behind` stay where
    they are, for the reason each says (a schedule found no safe order for their moves)."""
    start = time.monotonic()
    rules = rules_for(cluster, policy) if rules is None else rules
    may_stay, dests = classes(cluster, rules)
    kept = _ids(left_behind)
    stays = (
        *(s for s in upfront_stays(cluster, policy.evacuate, rules, dests) if s.vm_uuid not in kept),
        *left_behind,
    )
    dests = {**dests, **dict.fromkeys(kept, ())}
    p = build_problem(
        cluster, policy, rules, ({**may_stay, **{s.vm_uuid: True for s in stays}}, dests), _ids(stays)
    )
    for vm in cluster.vms:
        if not p.may_stay[vm.uuid] and not any(h != vm.host for h in p.dests[vm.uuid]):
            raise InfeasibleError([why_stuck(cluster, rules, vm)])

    before = host_loads(cluster, cluster.placement)
    scores = {hl.host: score(hl, policy.cpu_weight, policy.memory_weight) for hl in before}
    notes: list[str] = [_threshold_note(policy)]

    def unchanged(status: str) -> Target:
        placement = dict(cluster.placement)
        return _finish(
            cluster, policy, rules, stays, placement, before, p.levels_pct["peak"], status, start, notes
        )

    current_ok = not policy.evacuate and not check_all(rules, cluster, cluster.placement, _ids(stays))
    above = _above_level(p, before)
    if current_ok and above <= policy.band():
        notes.append(
            f"every host is within {policy.band():g} points of its level (at most {above:.1f} above): "
            f"no plan; {_next_threshold(policy, above)}"
        )
        return unchanged("within-band")
    # The greedy pass relieves the peaks first (and shows an evacuation which guests find no room);
    # water-filling then drains every host's excess, from it and from the current placement.
    held = _evacuees_only(p) if policy.evacuate else None
    hint = baseline(held or p)
    if (
        held is not None
        and not any(s.resolvable for s in stays)
        and not crowded_out(cluster, policy.evacuate, hint, stays)
        and not check_all(rules, cluster, hint, _ids(stays))
    ):
        # Evacuation moves only what it must: every other host's guests stay put while the evacuated
        # guests find room without them; else others may move to make it, at a cost the rule sets.
        p = held
        notes.append("evacuation: only the evacuated hosts' guests move; every other guest stays put")
    elif held is not None:
        hint = baseline(p)
    if policy.evacuate and policy.max_migrations is None and policy.max_moved_mib is None:
        # Guests the greedy pass could not fit stay (room ran out once the others moved); the solver
        # may still find them room, and what a stay costs rewards it. (Under a budget, a guest left behind may
        # be the budget's doing: the solver then says which rules conflict.)
        extra = crowded_out(cluster, policy.evacuate, hint, stays)
        if extra:
            stays += extra
            known = ({**p.may_stay, **{s.vm_uuid: True for s in extra}}, dict(p.dests))
            p = build_problem(cluster, policy, rules, known, _ids(stays))
    filling = time.monotonic()
    first = waterfill(p, dict(cluster.placement))
    took = time.monotonic() - filling
    # A second start from the greedy placement for the whole-cluster solve (it often holds the peak
    # lower). Not for the neighbourhood search: there it met the targets on no more seeds and cost
    # time the search uses better (measured on two cores: 0.35 s a start at 2,000 guests, 3.6 s at
    # 20,000; 100/2,000 plans took up to 2.75 s with it). By size, not by the clock, so the same
    # cluster gets the same search on a busy machine.
    starts = (first,) if _large(p) else (first, waterfill(p, hint))
    # The last polish (large clusters) water-fills again, from a nearly level placement, in a few
    # sweeps: measured at about half what a start takes (most hosts have nothing to give by then),
    # kept from the search's time so the whole stays within the limit.
    polish_s = took / 2
    hint = min(starts, key=lambda candidate: objective_points(p, candidate))
    left = policy.time_limit_s - (time.monotonic() - start)
    sol_status, placement = _solve(p, hint, scores, left, notes, polish_s)
    found = _finish(
        cluster, policy, rules, stays, placement, before, p.levels_pct["peak"], sol_status, start, notes
    )
    if current_ok and not _improves(found, p):
        gain = found.balance_before.peak_pct - found.balance_after.peak_pct
        notes.append(
            f"best plan found improves the peak by {gain:.1f} points, less than the margin of "
            f"{policy.min_improvement_pct:g}: no plan; {_next_threshold(policy, above)}"
        )
        return unchanged("no-improvement")
    return found


def _solve(
    p: Problem,
    hint: dict[str, str],
    scores: dict[str, float],
    left: float,
    notes: list[str],
    polish_s: float = 0.0,
) -> tuple[str, dict[str, str]]:
    if _large(p) and not check_all(p.rules, p.cluster, hint, p.stays):
        repaired = repair(p, dict(hint), time.monotonic() + left - polish_s, notes)
        trimmed, undone = trim(p, repaired, kept_by_heuristics(p))
        # Guests sent home free room that water-filling can use again (cheap: most hosts are level by
        # now), and what it moves is trimmed the same way.
        polished, again = trim(p, waterfill(p, trimmed, sweeps=SWEEPS), kept_by_heuristics(p))
        notes.append(f"anti-churn: {undone + again} moves not worth their cost undone")
        # Each stage is a heuristic: keep whichever the objective scores best.
        return "feasible", min((polished, trimmed, repaired, hint), key=lambda c: objective_points(p, c))
    # CP-SAT's deterministic time comes from the policy's limit, not from what the clock left: the same
    # cluster and policy give the same plan (on a slow machine it takes longer).
    solve_s = SOLVE_SHARE * p.policy.time_limit_s
    sol = solve(p, hint, scores, solve_s)
    if sol.status == "infeasible":
        if sol.conflicts:
            raise InfeasibleError([r.describe() for r in sol.conflicts])
        raise InfeasibleError([])
    if sol.status == "unknown":
        broken = check_all(p.rules, p.cluster, hint, p.stays)
        if broken:
            raise InfeasibleError(
                [
                    f"no placement keeping every hard rule was found in {solve_s:.1f} s; the greedy pass broke: "
                    + "; ".join(v.describe() for v in broken[:3])
                ]
            )
        notes.append("the solver found no placement in time; using the greedy placement")
        return "greedy", hint
    return sol.status, sol.placement


def _large(p: Problem) -> bool:
    """Whether `p` is searched neighbourhood by neighbourhood (too many guest x host pairs for one
    whole-cluster model)."""
    return sum(len(d) for d in p.dests.values()) > LARGE_PAIRS


def _evacuees_only(p: Problem) -> Problem:
    """`p` with every guest of a host not being evacuated held where it is (unless a rule moves it)."""
    evacuated = set(p.policy.evacuate)
    dests = {
        vm.uuid: p.dests[vm.uuid] if vm.host in evacuated or not p.may_stay[vm.uuid] else ()
        for vm in p.cluster.vms
    }
    return build_problem(p.cluster, p.policy, p.rules, (dict(p.may_stay), dests), p.stays)


def _ids(stays: tuple[Stay, ...]) -> frozenset[str]:
    return frozenset(s.vm_uuid for s in stays)


def _threshold_note(policy: Policy) -> str:
    """Which threshold plans, and what it means (the band and the move cost it sets, or overrides)."""
    own = THRESHOLDS[policy.threshold]
    band = f"band {policy.band():g} points" + (
        "" if policy.band_pct is None else f" (set; threshold's {own[0]:g})"
    )
    cost = f"move cost {policy.move_cost():g} GiB of excess per GiB moved" + (
        "" if policy.move_cost_per_gib is None else f" (set; threshold's {own[1]:g})"
    )
    return f"threshold {policy.threshold} of 1-5 planned this: {band} above the level, {cost}"


def _resource_peaks(p: Problem, loads: tuple[HostLoad, ...]) -> dict[str, float]:
    """Per weighed resource, the highest share (%) a receiving host has of it."""
    receivers = set(p.receivers)
    shares = [hl for hl in loads if hl.host in receivers]
    return {
        r: max((hl.cpu_pct if r == "cpu" else hl.memory_pct for hl in shares), default=0.0)
        for r in p.objective.peak_weight
    }


def _above_level(p: Problem, loads: tuple[HostLoad, ...]) -> float:
    """How far (points) the most loaded receiving host sits above its resource's level."""
    peaks = _resource_peaks(p, loads)
    return max([0.0, *(peak - p.levels_pct.get(r, 0.0) for r, peak in peaks.items())])


def _next_threshold(policy: Policy, above: float) -> str:
    """How far the cluster is from the next, more aggressive threshold acting."""
    if policy.threshold >= max(THRESHOLDS):
        return f"threshold {policy.threshold} is the most aggressive"
    nxt = policy.threshold + 1
    band = THRESHOLDS[nxt][0]
    if above > band:
        return f"threshold {nxt} (band {band:g} points) would look for a plan: a host is {above:.1f} points above its level"
    return f"threshold {nxt} acts when a host is more than {band:g} points above its level ({band - above:.1f} to go)"


def _improves(found: Target, p: Problem) -> bool:
    """Whether `found` is worth a plan: the hosts' score (peak or spread) improves by the policy's
    margin, or a weighed resource's peak that was above its level plus the band drops by the margin
    (a host 20 points above its memory level is worth evening even while a busy guest's CPU holds
    the score's peak: a lab's rolling round otherwise ended with one host empty and one at 19 %)."""
    margin = p.policy.min_improvement_pct
    old, new = found.balance_before, found.balance_after
    if old.peak_pct - new.peak_pct >= margin or old.spread_pct - new.spread_pct >= margin:
        return True
    before, after = _resource_peaks(p, found.before), _resource_peaks(p, found.after)
    return any(
        peak > p.levels_pct[r] + p.policy.band() and peak - after[r] >= margin for r, peak in before.items()
    )


def _finish(
    cluster: Cluster,
    policy: Policy,
    rules: tuple[Rule, ...],
    stays: tuple[Stay, ...],
    placement: Mapping[str, str],
    before: tuple[HostLoad, ...],
    bound: float,
    status: str,
    start: float,
    notes: list[str],
) -> Target:
    stay_ids = frozenset(s.vm_uuid for s in stays)
    stays = tuple(s for s in stays if placement.get(s.vm_uuid) == s.host)  # the solver found room for some
    broken = check_all(rules, cluster, placement, stay_ids)
    if broken:
        raise PlannerBugError("target placement", broken)
    after = host_loads(cluster, placement)
    receivers = set(receivers_of(cluster, (*policy.exclude, *policy.evacuate)))
    w = (policy.cpu_weight, policy.memory_weight)
    balance_after = balance([hl for hl in after if hl.host in receivers], *w)
    gap = f"peak {balance_after.peak_pct:.1f}% against a lower bound of {bound:.1f}%: a gap of " + (
        f"{balance_after.peak_pct - bound:.1f} points"
    )
    return Target(
        placement=dict(placement),
        reasons=move_reasons(cluster, placement, policy.evacuate),
        stays=stays,
        before=before,
        after=after,
        balance_before=balance([hl for hl in before if hl.host in receivers], *w),
        balance_after=balance_after,
        peak_lower_bound_pct=round(bound, 2),
        status=status,
        solve_s=round(time.monotonic() - start, 3),
        notes=(*notes, gap),
    )
