"""Large clusters: the neighbourhood repair and the whole large path of optimize()."""

from __future__ import annotations

import time

import pytest

from benchmarks.generator import generate
from planner.load import balance, host_loads
from planner.model import PlacementRule
from planner.optimize.optimizer import check_placement, optimize
from planner.optimize.peak_bound import resource_peak_bounds
from planner.optimize.repair import _heaviest, _room, repair
from planner.optimize.solve import baseline, build_problem
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm


@pytest.mark.parametrize("seed", [1, 2])
def test_large_path_beats_the_baseline_and_keeps_every_rule(seed: int) -> None:
    cluster = generate(60, 1500, seed)
    policy = Policy(time_limit_s=3.0)
    target = optimize(cluster, policy)  # speed is the benchmarks' business, not a timed unit test
    assert any("peak repair" in n for n in target.notes)  # the large path ran
    stays = frozenset(s.vm_uuid for s in target.stays)
    assert check_placement(cluster, target.placement, policy, stays) == []
    plain = baseline(build_problem(cluster, policy, rules_for(cluster, policy)), smart=False)
    receivers = {h.name for h in cluster.hosts if h.accepts_guests}
    plain_peak = balance([hl for hl in host_loads(cluster, plain) if hl.host in receivers]).peak_pct
    assert target.balance_after.peak_pct <= plain_peak
    # Seed 1 holds a 21-host class its own guests fill to 1.3 points below the level: the peak ended 4-6
    # points above its bound until guests allowed elsewhere left the class (clear_reserved); 1.0 since.
    assert target.balance_after.peak_pct - target.peak_lower_bound_pct < 3.0


def test_repair_moves_an_affinity_pair_as_one() -> None:
    # The pair fills the small host to 94%; only a big host takes both, and no single guest may move.
    hosts = [make_host("small", memory_mib=65536), make_host("big", memory_mib=262144), make_host("mid")]
    pair = [make_vm(f"db{i}", host="small", memory_mib=30720, cpu_millicores=0) for i in range(2)]
    filler = [make_vm(host="mid", memory_mib=8192, cpu_millicores=0) for _ in range(2)]
    rules = [PlacementRule("affinity", "db", vms=("db0", "db1"))]
    cluster = make_cluster(hosts, [*pair, *filler], rules)
    policy = Policy(time_limit_s=5.0)
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    hint = baseline(p)
    assert all(hint[v.uuid] == "small" for v in pair)  # the heuristics leave tied guests alone
    notes: list[str] = []
    got = repair(p, dict(hint), time.monotonic() + 2.0, notes)
    assert {got[v.uuid] for v in pair} == {"big"}
    assert check_placement(cluster, got, policy) == []


def test_the_large_path_is_deterministic() -> None:
    cluster = generate(40, 1200, 5)
    policy = Policy(time_limit_s=2.0)
    assert optimize(cluster, policy).placement == optimize(cluster, policy).placement


def test_repair_moves_an_anti_affinity_member_but_never_next_to_a_fellow() -> None:
    # web0 is alone on the hot host; web1 sits on the only other big host, so web0 goes to "spare".
    hosts = [make_host("hot", memory_mib=32768), make_host("big", memory_mib=131072), make_host("spare")]
    web0 = make_vm("web0", host="hot", memory_mib=24576, cpu_millicores=0)
    web1 = make_vm("web1", host="big", memory_mib=4096, cpu_millicores=0)
    rules = [PlacementRule("anti-affinity", "web", vms=("web0", "web1"))]
    cluster = make_cluster(hosts, [web0, web1], rules)
    policy = Policy(time_limit_s=5.0)
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    hint = baseline(p)
    assert hint[web0.uuid] == "hot"  # the heuristics leave group members alone
    got = repair(p, dict(hint), time.monotonic() + 2.0, [])
    assert got[web0.uuid] == "spare"
    assert check_placement(cluster, got, policy) == []


def test_peak_turns_rank_targets_by_room_in_the_hot_hosts_heavy_resource() -> None:
    """The hot host's heavy resource is the one furthest above its bound; targets rank by how much of
    it they hold below the bound in its own unit, so a big host a little busier in share beats a small
    idle one (whose few cores a big guest would overrun)."""
    hosts = [
        make_host("hot", cpus=8, memory_mib=65536),
        make_host("big", cpus=64, memory_mib=262144),
        make_host("small", cpus=4, memory_mib=65536),
    ]
    vms = [
        make_vm("busy", host="hot", memory_mib=8192, cpu_millicores=7000),
        *(make_vm(f"b{i}", host="big", memory_mib=8192, cpu_millicores=1500) for i in range(10)),
        make_vm("s", host="small", memory_mib=8192, cpu_millicores=100),
    ]
    cluster = make_cluster(hosts, vms)
    policy = Policy()
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    loads = {hl.host: hl for hl in host_loads(cluster, cluster.placement)}
    bounds = resource_peak_bounds(p)
    assert _heaviest(p, loads["hot"], bounds) == "cpu"
    assert loads["small"].cpu_pct < loads["big"].cpu_pct
    assert _room(loads["big"], "cpu", bounds["cpu"]) > _room(loads["small"], "cpu", bounds["cpu"])


def test_a_limit_too_short_for_two_rounds_gets_no_search() -> None:
    """Under 3.4 s a limit holds fewer than MIN_SEARCH rounds: the placement is left to water-filling
    (one round changed no 100-host plan's peaks and cost up to 0.8 s); above, the search runs."""
    hosts = [make_host("hot", memory_mib=32768), make_host("big", memory_mib=131072), make_host("spare")]
    web0 = make_vm("web0", host="hot", memory_mib=24576, cpu_millicores=0)
    web1 = make_vm("web1", host="big", memory_mib=4096, cpu_millicores=0)
    rules = [PlacementRule("anti-affinity", "web", vms=("web0", "web1"))]
    cluster = make_cluster(hosts, [web0, web1], rules)
    for limit, rounds in (
        (1.5, "0 neighbourhood rounds"),
        (3.3, "0 neighbourhood rounds"),
        (5.0, "3 neighbourhood rounds, 1 improved"),
    ):
        policy = Policy(time_limit_s=limit)
        p = build_problem(cluster, policy, rules_for(cluster, policy))
        notes: list[str] = []
        repair(p, dict(cluster.placement), time.monotonic() + 5.0, notes)
        assert rounds in notes[0], (limit, notes)
