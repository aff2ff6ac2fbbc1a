"""Exchanges: where no single move pays (or fits), two guests trade hosts and CPU evens out."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.load import host_loads
from planner.model import Cluster, PlacementRule
from planner.optimize import exchange
from planner.optimize.exchange import best_swap, swap_gain
from planner.optimize.filler import OVER_PER_MIB, Filler
from planner.optimize.load_state import LoadState, Mover
from planner.optimize.objective import UNITS_PER_MIB
from planner.optimize.optimizer import check_placement
from planner.optimize.solve import build_problem, kept_by_heuristics, objective_points
from planner.optimize.waterfill import waterfill
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm


def full_hosts(rules: tuple[PlacementRule, ...] = ()) -> Cluster:
    """Two hosts full in memory (16 guests of 4 GiB on 64 GiB): h0's guests busy (94% CPU), h1's idle
    (12%). No single move fits; only swaps can even CPU out."""
    hosts = [make_host(f"h{i}", cpus=16, memory_mib=65536) for i in range(2)]
    busy = [make_vm(f"busy{i}", host="h0", memory_mib=4096, cpu_millicores=800) for i in range(16)]
    idle = [make_vm(f"idle{i}", host="h1", memory_mib=4096, cpu_millicores=100) for i in range(16)]
    return make_cluster(hosts, [*busy, *idle], rules)


def cpu_shares(cluster: Cluster, placement: dict[str, str]) -> dict[str, float]:
    return {hl.host: hl.cpu_pct for hl in host_loads(cluster, placement)}


def test_swaps_even_cpu_out_where_memory_leaves_no_room() -> None:
    cluster = full_hosts()
    policy = Policy()
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    got = waterfill(p, dict(cluster.placement))
    shares = cpu_shares(cluster, got)
    assert abs(shares["h0"] - shares["h1"]) <= 12  # one swap's worth of each other (was 82 points apart)
    assert check_placement(cluster, got, policy) == []
    assert objective_points(p, got) < objective_points(p, cluster.placement)
    moved = [u for u, h in got.items() if h != cluster.vm_by_uuid[u].host]
    assert len(moved) % 2 == 0 and len(moved) <= 16  # pairs, and no guest swapped back and forth


def filler_for(cluster: Cluster) -> Filler:
    policy = Policy()
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    state = LoadState(cluster, dict(cluster.placement), policy.cpu_weight, policy.memory_weight)
    return Filler(p, Mover(state, policy.max_migrations, policy.max_moved_mib), {})


def test_a_swap_that_does_not_fit_gains_nothing() -> None:
    # h1 has no vCPU left for a guest with more vCPUs than the one it gives back.
    hosts = [make_host("h0", cpus=16), make_host("h1", cpus=2, cpu_overcommit=1.0)]
    big = make_vm("big", host="h0", vcpus=4, memory_mib=4096, cpu_millicores=3000)
    small = make_vm("small", host="h1", vcpus=2, memory_mib=4096, cpu_millicores=0)
    fill = filler_for(make_cluster(hosts, [big, small]))
    assert swap_gain(fill, big, "h0", small, "h1", fill.tops()) == float("-inf")


def test_no_swap_when_the_hosts_are_even() -> None:
    hosts = [make_host(f"h{i}", cpus=16, memory_mib=65536) for i in range(2)]
    vms = [
        make_vm(host=f"h{i % 2}", memory_mib=4096, cpu_millicores=400 + 100 * (i // 2 % 2)) for i in range(16)
    ]
    fill = filler_for(make_cluster(hosts, vms))
    assert best_swap(fill, "h0", frozenset()) is None


def test_a_swap_keeps_hard_anti_affinity_fellows_apart() -> None:
    # busy0 may not share a host with idle0: swapping busy0 for another idle guest would break that.
    cluster = full_hosts((PlacementRule("anti-affinity", "apart", vms=("busy0", "idle0")),))
    policy = Policy()
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    got = waterfill(p, dict(cluster.placement))
    assert check_placement(cluster, got, policy) == []


def test_the_migration_budget_bounds_the_swaps() -> None:
    cluster = full_hosts()
    policy = Policy(max_migrations=4)
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    got = waterfill(p, dict(cluster.placement))
    assert sum(h != cluster.vm_by_uuid[u].host for u, h in got.items()) <= 4
    assert kept_by_heuristics(p) == frozenset()


@st.composite
def crowded(draw: st.DrawFn) -> Cluster:
    """Small clusters near full, with uneven CPU, CPU generations and a hard rule now and then."""
    n_hosts = draw(st.integers(2, 5))
    hosts = [
        make_host(f"h{i}", cpus=draw(st.sampled_from([4, 8, 16])), memory_mib=32768) for i in range(n_hosts)
    ]
    vms = [
        make_vm(
            f"v{i}",
            uuid=f"00000000-0000-0000-0001-{i:012d}",
            host=f"h{draw(st.integers(0, n_hosts - 1))}",
            vcpus=draw(st.sampled_from([1, 2, 4])),
            memory_mib=draw(st.sampled_from([1024, 2048, 4096])),
            cpu_millicores=draw(st.integers(0, 2000)),
            cpu_signature=draw(st.sampled_from(["any", "new"])),
        )
        for i in range(draw(st.integers(2, 24)))
    ]
    rules = []
    if draw(st.booleans()):
        names = tuple(vm.name for vm in vms[: draw(st.integers(2, min(4, len(vms))))])
        rules.append(PlacementRule("anti-affinity", "apart", vms=names, hard=True))
    compat = {"any": tuple(h.name for h in hosts), "new": tuple(h.name for h in hosts[::2])}
    return make_cluster(hosts, vms, rules, compatibility=compat)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crowded(), st.sampled_from([None, 2, 5]))
def test_water_filling_with_swaps_never_breaks_a_rule_or_the_budget(
    cluster: Cluster, budget: int | None
) -> None:
    policy = Policy(max_migrations=budget, threshold=5)
    rules = rules_for(cluster, policy)
    if check_placement(cluster, cluster.placement, policy):
        return  # the snapshot already breaks a rule: the solver's business, not the heuristics'
    p = build_problem(cluster, policy, rules)
    got = waterfill(p, dict(cluster.placement))
    assert check_placement(cluster, got, policy) == []
    moved = sum(h != cluster.vm_by_uuid[u].host for u, h in got.items())
    assert budget is None or moved <= budget


def test_swap_partners_include_the_host_with_the_most_room_not_only_the_lightest_share() -> None:
    """A small host light in CPU share has little room in millicores; a big host a little busier has
    more: a big busy guest's swap partner is looked for on both (the small one alone refuses it)."""
    hosts = [
        make_host("hot", cpus=16, memory_mib=65536),
        make_host("small", cpus=4, memory_mib=16384),
        *(make_host(f"big{i}", cpus=64, memory_mib=262144) for i in range(3)),
    ]
    vms = [
        make_vm("busy", host="hot", memory_mib=8192, cpu_millicores=6000),
        make_vm("small-idle", host="small", memory_mib=8192, cpu_millicores=100),
        *(make_vm(f"big-idle{i}", host=f"big{i}", memory_mib=8192, cpu_millicores=9000) for i in range(3)),
    ]
    fill = filler_for(make_cluster(hosts, vms))
    shares = {h: fill.peaks.share(h, "cpu", 0) for h in ("small", "big0")}
    assert shares["small"] < shares["big0"]  # small is the lightest in share
    partners = fill.rooms.lightest(fill.dests[fill.state.cluster.vm_by_name["busy"].uuid], "cpu", "hot", 1)
    assert partners[0] == "small" and len(partners) == 2 and partners[1].startswith("big")


def test_more_sweeps_keep_every_rule_and_score_no_worse_here() -> None:
    """Water-filling in several sweeps (the optimizer's last polish) asks every host again: on this
    lopsided cluster it scores no worse than one sweep, and keeps every rule."""
    hosts = [make_host(f"h{i}", cpus=16, memory_mib=65536) for i in range(4)]
    vms = [
        make_vm(f"v{i}", host="h0", memory_mib=2048 * (1 + i % 3), cpu_millicores=300 * (1 + i % 4))
        for i in range(20)
    ]
    cluster = make_cluster(hosts, vms)
    policy = Policy()
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    once = waterfill(p, dict(cluster.placement))
    swept = waterfill(p, dict(cluster.placement), sweeps=6)
    assert objective_points(p, swept) <= objective_points(p, once)
    assert check_placement(cluster, swept, policy) == []


def test_a_share_far_above_the_bound_counts_more_per_point_than_one_a_little_above() -> None:
    """Above the target peak each point counts once up to STEEP_PCT, then STEEP times: one host 4 points
    above weighs more than two hosts 2 points above (the heuristics spread a peak out)."""
    fill = filler_for(full_hosts())
    target = fill.target_bp["memory"]
    assert fill.over_share("memory", target - 50) == 0
    assert fill.over_share("memory", target + 100) == pytest.approx(100 * fill.over_weight)
    one_far = fill.over_share("memory", target + 400)
    two_near = 2 * fill.over_share("memory", target + 200)
    assert one_far > two_near


def test_a_host_above_its_target_weighs_the_same_per_mib_on_any_cluster_size() -> None:
    """A host's share above the target counts OVER_PER_MIB MiB of excess per MiB above it, on 4 hosts
    as on 400: the peak's own weight (per point of the whole cluster) grows with the cluster."""
    per_mib = []
    for n in (4, 40, 400):
        fill = filler_for(make_cluster([make_host(f"h{i}", memory_mib=65536) for i in range(n)], []))
        w = fill.o.peak_weight["memory"]
        one_point = 65536 / 100 * UNITS_PER_MIB  # units of 1 % of a host's memory as excess
        per_mib.append(w * fill.over_share("memory", fill.target_bp["memory"] + 100) / one_point)
    assert per_mib == pytest.approx([OVER_PER_MIB] * 3, rel=0.01)


def test_the_host_holding_a_peak_looks_wider_for_its_swap(monkeypatch) -> None:
    """The peak is the dominant term: its host tries PEAK_GUESTS guests against PEAK_PARTNERS hosts'
    each, any other host GUESTS_PER_HOST against PARTNER_HOSTS."""
    hosts = [make_host(f"h{i}", cpus=16, memory_mib=65536) for i in range(12)]
    sizes = [1024 * (k + 1) for k in range(8)]  # one guest per size: each is its own shortlist entry
    vms = [
        *(make_vm(f"hot{k}", host="h0", memory_mib=m, cpu_millicores=1500) for k, m in enumerate(sizes)),
        *(make_vm(f"warm{k}", host="h1", memory_mib=m, cpu_millicores=1200) for k, m in enumerate(sizes)),
        *(
            make_vm(f"c{i}-{k}", host=f"h{i}", memory_mib=m, cpu_millicores=100)
            for i in range(2, 12)
            for k, m in enumerate(sizes)
        ),
    ]
    fill = filler_for(make_cluster(hosts, vms))
    assert fill.tops()["cpu"][1] == "h0"
    tried: dict[str, set[tuple[str, str]]] = {}
    real = exchange.swap_gain

    def spy(fill: Filler, a, src, b, dest, tops, base=None):  # type: ignore[no-untyped-def]
        tried.setdefault(src, set()).add((a.name, dest))
        got = real(fill, a, src, b, dest, tops, base)
        assert got == real(fill, a, src, b, dest, tops)  # the hosts' excess the search passes is theirs now
        return got

    monkeypatch.setattr(exchange, "swap_gain", spy)
    for host in ("h0", "h1"):
        best_swap(fill, host, frozenset())
    guests = {h: {a for a, _ in pairs} for h, pairs in tried.items()}
    dests = {h: {d for _, d in pairs} for h, pairs in tried.items()}
    assert len(guests["h0"]) > exchange.GUESTS_PER_HOST and len(dests["h0"]) > 2 * exchange.PARTNER_HOSTS
    assert len(guests["h1"]) <= exchange.GUESTS_PER_HOST and len(dests["h1"]) <= 2 * exchange.PARTNER_HOSTS
