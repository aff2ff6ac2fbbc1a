"""Chains: the peak's host gives a guest to a host that makes room for it by giving one on."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from planner.model import Cluster, PlacementRule
from planner.optimize.chain import best_chain, chain_once
from planner.optimize.exchange import best_swap
from planner.optimize.filler import Filler
from planner.optimize.load_state import LoadState, Mover
from planner.optimize.optimizer import check_placement
from planner.optimize.solve import Problem, build_problem, kept_by_heuristics, objective_points
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.optimize.test_exchange import crowded

GIB = 1024


def split_cluster() -> Cluster:
    """A holds the memory peak (75 %) with `a`, 16 GiB busy on 2 cores, beside a guest pinned there.
    B has the memory for `a` but not the CPU (it would rise to 75 % CPU, above the CPU peak); C has
    the CPU but not the memory for it beside its own 24 GiB guest. `b` (1 GiB, 6 cores) may leave B for C but never go to A, and nothing
    may come to A: no single move or swap lowers A, the chain b: B -> C, a: A -> B does."""
    hosts = [make_host(n, cpus=16, memory_mib=64 * GIB) for n in ("A", "B", "C")]
    vms = [
        make_vm("a", host="A", memory_mib=16 * GIB, cpu_millicores=2000),
        make_vm("p1", host="A", memory_mib=32 * GIB, cpu_millicores=1000),
        make_vm("b", host="B", memory_mib=1 * GIB, cpu_millicores=6000),
        make_vm("q", host="B", memory_mib=8 * GIB, cpu_millicores=4000),
        make_vm("r", host="C", memory_mib=24 * GIB, cpu_millicores=1000),
    ]
    rules = (
        PlacementRule("pin", "stay-a", vms=("p1",), hosts=("A",)),
        PlacementRule("pin", "stay-b", vms=("q",), hosts=("B",)),
        PlacementRule("pin", "stay-c", vms=("r",), hosts=("C",)),
        PlacementRule("avoid", "not-a", vms=("b",), hosts=("A",)),
    )
    return make_cluster(hosts, vms, rules)


def filler(cluster: Cluster) -> tuple[Filler, Problem]:
    policy = Policy()
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    state = LoadState(cluster, dict(cluster.placement), policy.cpu_weight, policy.memory_weight)
    return Filler(p, Mover(state, None, None), {}), p


def test_a_chain_lowers_the_peak_no_move_or_swap_can() -> None:
    cluster = split_cluster()
    fill, p = filler(cluster)
    frozen = {v.uuid for v in cluster.vms if v.name in ("p1", "q", "r")}
    assert fill.best_move("A", frozen) is None
    assert best_swap(fill, "A", frozen) is None
    found = best_chain(fill, "A", frozen)
    assert found is not None
    gain, a, dest, makers = found
    ((b, to),) = makers
    assert (a.name, dest, b.name, to) == ("a", "B", "b", "C") and gain > 0
    before = objective_points(p, fill.state.placement)
    touched = chain_once(fill, "A", frozen)
    assert sorted(touched) == ["A", "B", "C"]
    got = fill.state.placement
    assert got[a.uuid] == "B" and got[b.uuid] == "C"
    assert objective_points(p, got) < before
    assert fill.mover.moved == {a.uuid, b.uuid}


def test_trying_a_chain_leaves_the_state_as_it_was() -> None:
    cluster = split_cluster()
    fill, _ = filler(cluster)
    use = {h: list(u) for h, u in fill.state.use.items()}
    best_chain(fill, "A", frozenset())
    assert dict(fill.state.placement) == dict(cluster.placement)
    assert {h: list(u) for h, u in fill.state.use.items()} == use
    assert fill.mover.moved == set() and fill.mover.mib == 0


def test_only_the_host_holding_a_peak_looks_for_a_chain() -> None:
    fill, _ = filler(split_cluster())
    assert best_chain(fill, "C", frozenset()) is None


def test_no_chain_when_the_next_host_has_no_room_either() -> None:
    # C also holds s (15 GiB, 9 cores): b fits there under no target, so nothing makes room on B.
    cluster = split_cluster()
    vms = [*cluster.vms, make_vm("s", host="C", memory_mib=15 * GIB, cpu_millicores=9000)]
    fill, _ = filler(make_cluster(cluster.hosts, vms, cluster.rules))
    assert best_chain(fill, "A", frozenset()) is None


def test_several_guests_make_room_together_when_none_does_alone() -> None:
    # b's 6 cores are two guests of 3 cores (and q is nearly idle): neither alone makes room for a's 2
    # on B under the CPU target, both do, one to C and one to D (a host like C: both on one would
    # crowd it above the CPU target).
    cluster = split_cluster()
    hosts = (*cluster.hosts, make_host("D", cpus=16, memory_mib=64 * GIB))
    vms = [v for v in cluster.vms if v.name not in ("b", "q")]
    vms += [make_vm("q", host="B", memory_mib=8 * GIB, cpu_millicores=500)]
    vms += [make_vm(f"b{i}", host="B", memory_mib=512, cpu_millicores=3000) for i in (1, 2)]
    vms += [make_vm("r2", host="D", memory_mib=24 * GIB, cpu_millicores=1000)]
    rules = (
        *cluster.rules[:3],
        PlacementRule("pin", "stay-d", vms=("r2",), hosts=("D",)),
        PlacementRule("avoid", "not-a", vms=("b1", "b2"), hosts=("A",)),
    )
    fill, p = filler(make_cluster(hosts, vms, rules))
    found = best_chain(fill, "A", frozenset())
    assert found is not None
    _, a, dest, makers = found
    assert (a.name, dest) == ("a", "B")
    assert sorted(b.name for b, _ in makers) == ["b1", "b2"]
    assert sorted(to for _, to in makers) == ["C", "D"]
    before = objective_points(p, fill.state.placement)
    chain_once(fill, "A", frozenset())
    assert objective_points(p, fill.state.placement) < before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crowded(), st.sampled_from([None, 1, 2, 5]))
def test_chains_never_break_a_rule_or_the_budget(cluster: Cluster, budget: int | None) -> None:
    """The peaks' hosts make chains, one after another, on small clusters near full with CPU
    generations and hard anti-affinity: every hard rule and the migration budget hold after each, and
    the state's loads stay those of its placement."""
    policy = Policy(max_migrations=budget, threshold=5)
    if check_placement(cluster, cluster.placement, policy):
        return  # the snapshot already breaks a rule: the solver's business, not the heuristics'
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    state = LoadState(cluster, dict(cluster.placement), policy.cpu_weight, policy.memory_weight)
    fill = Filler(p, Mover(state, budget, None), {})
    frozen = kept_by_heuristics(p) - fill.apart.keys()
    for _ in range(4):
        holders = {fill.tops()[r][1] for r in fill.o.peak_weight}
        if not [h for h in sorted(holders) if chain_once(fill, h, frozen)]:
            break
        event("a chain was made")
        got = dict(state.placement)
        assert check_placement(cluster, got, policy) == []
        assert budget is None or sum(h != cluster.vm_by_uuid[u].host for u, h in got.items()) <= budget
    for host in state.use:
        on = [vm for vm in cluster.vms if state.placement[vm.uuid] == host]
        assert state.use[host][:2] == [
            sum(vm.cpu_demand_millicores for vm in on),
            sum(vm.memory_mib for vm in on),
        ]
