"""The greedy baseline and its smart variant (the optimizer's hint)."""

from __future__ import annotations

import pytest

from planner.load import host_loads, score
from planner.model import Cluster
from planner.optimize.candidates import classes
from planner.optimize.greedy import greedy
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm


def run(cluster: Cluster, smart: bool, frozen: frozenset[str] = frozenset(), **budget: int) -> dict[str, str]:
    may_stay, dests = classes(cluster, rules_for(cluster, Policy()))
    receivers = {h.name for h in cluster.hosts}
    return greedy(cluster, may_stay, dests, receivers, frozen, smart=smart, **budget)


def peak(cluster: Cluster, placement: dict[str, str]) -> float:
    return max(score(hl) for hl in host_loads(cluster, placement))


@pytest.mark.parametrize("smart", [False, True], ids=["baseline", "smart"])
def test_moves_the_largest_guest_off_the_hottest_host(smart: bool) -> None:
    big = make_vm("big", host="h1", memory_mib=16384, cpu_millicores=0)
    small = make_vm("small", host="h1", memory_mib=2048, cpu_millicores=0)
    cluster = make_cluster([make_host("h1"), make_host("h2")], [big, small])
    got = run(cluster, smart)
    assert got == {big.uuid: "h2", small.uuid: "h1"}


def test_baseline_stops_at_a_stuck_host_and_smart_goes_on() -> None:
    stuck = make_vm("stuck", host="h1", memory_mib=60000, migratable=False, cpu_millicores=0)
    movable = [make_vm(host="h2", memory_mib=8192, cpu_millicores=0) for _ in range(6)]
    cluster = make_cluster([make_host("h1"), make_host("h2"), make_host("h3")], [stuck, *movable])
    assert peak(cluster, run(cluster, smart=False)) == pytest.approx(peak(cluster, cluster.placement))
    smart = run(cluster, smart=True)
    assert sum(h == "h3" for h in smart.values()) == 3


def test_smart_puts_a_big_guest_on_a_big_host() -> None:
    hosts = [
        make_host("hot", memory_mib=65536),
        make_host("small", memory_mib=40960),
        make_host("big", memory_mib=262144),
    ]
    vms = [
        make_vm("big-vm", host="hot", memory_mib=32768, cpu_millicores=0),
        make_vm(host="hot", memory_mib=16384, cpu_millicores=0),
        make_vm(host="small", memory_mib=4096, cpu_millicores=0),
        make_vm(host="big", memory_mib=65536, cpu_millicores=0),
    ]
    cluster = make_cluster(hosts, vms)
    assert run(cluster, smart=True)[vms[0].uuid] == "big"


@pytest.mark.parametrize(
    ("budget", "moves"),
    [({"max_migrations": 1}, 1), ({"max_moved_mib": 4096}, 1), ({}, 3)],
    ids=["count", "mib", "none"],
)
def test_budgets_and_frozen_guests_are_kept(budget: dict[str, int], moves: int) -> None:
    vms = [make_vm(host="h1", memory_mib=4096, cpu_millicores=0) for _ in range(7)]
    cluster = make_cluster([make_host("h1"), make_host("h2")], vms)
    got = run(cluster, smart=True, frozen=frozenset({vms[0].uuid}), **budget)
    assert sum(got[v.uuid] != v.host for v in vms) == moves
    assert got[vms[0].uuid] == "h1"
