"""Floors from room and hops that hold in any order: each leg's earliest finish, each host's room waits."""

from __future__ import annotations

import pytest

from planner.model import Cluster, Vm
from planner.policy import Budgets
from planner.schedule import schedule
from planner.schedule.earliest import earliest_finishes, room_waits
from planner.schedule.graph import Leg
from planner.schedule.links import links
from planner.schedule.precopy import estimate
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


def _d(gib: int) -> float:
    """An idle guest of `gib` GiB over a whole 1000 MiB/s link."""
    return estimate(gib * GIB, 1000, 0).duration_s


def _cluster(hosts: dict[str, int], vms: list[Vm], cpus: int = 16) -> Cluster:
    """Hosts by name and memory (GiB), each NIC 1000 MiB/s."""
    return make_cluster(
        [make_host(h, memory_mib=gib * GIB, nic_mibps=1000, cpus=cpus) for h, gib in hosts.items()], vms
    )


def _swap_through_a_third_host() -> tuple[Cluster, list[Leg]]:
    """a and b (6 GiB) swap between full 8-GiB hosts h1 and h2; a goes through the empty h3."""
    a, b = make_vm("a", "h1", memory_mib=6 * GIB), make_vm("b", "h2", memory_mib=6 * GIB)
    cluster = _cluster({"h1": 8, "h2": 8, "h3": 8}, [a, b])
    return cluster, [Leg(a, "h1", "h3", temporary=True), Leg(b, "h2", "h1"), Leg(a, "h3", "h2")]


def _room_everywhere() -> tuple[Cluster, list[Leg]]:
    """1, 2 and 3 GiB from h0 to their own empty hosts."""
    vms = [make_vm(f"v{n}", "h0", memory_mib=n * GIB) for n in (1, 2, 3)]
    cluster = _cluster({"h0": 64, "h1": 64, "h2": 64, "h3": 64}, vms)
    return cluster, [Leg(vm, "h0", f"h{n}") for n, vm in enumerate(vms, start=1)]


def _two_must_leave() -> tuple[Cluster, list[Leg]]:
    """z (4 GiB) into the full 4-GiB h1, whose x (1 GiB) and y (3 GiB) both have to leave first."""
    x, y = make_vm("x", "h1", memory_mib=GIB), make_vm("y", "h1", memory_mib=3 * GIB)
    z = make_vm("z", "h4", memory_mib=4 * GIB)
    cluster = _cluster({"h1": 4, "h2": 8, "h3": 8, "h4": 8}, [x, y, z])
    return cluster, [Leg(x, "h1", "h2"), Leg(y, "h1", "h3"), Leg(z, "h4", "h1")]


def _one_of_two_must_leave() -> tuple[Cluster, list[Leg]]:
    """z (1 GiB) into the full 4-GiB h1: the first of x (1 GiB) and y (3 GiB) to leave makes room."""
    _, (x, y, _) = _two_must_leave()
    small = make_vm("z", "h4", memory_mib=GIB)
    return _cluster({"h1": 4, "h2": 8, "h3": 8, "h4": 8}, [x.vm, y.vm, small]), [x, y, Leg(small, "h4", "h1")]


def _only_the_big_one_frees_enough() -> tuple[Cluster, list[Leg]]:
    """z (3 GiB) into the full 4-GiB h1: x (1 GiB) leaves sooner, but only y (3 GiB) frees enough."""
    _, (x, y, _) = _two_must_leave()
    mid = make_vm("z", "h4", memory_mib=3 * GIB)
    return _cluster({"h1": 4, "h2": 8, "h3": 8, "h4": 8}, [x.vm, y.vm, mid]), [x, y, Leg(mid, "h4", "h1")]


def _short_of_vcpus() -> tuple[Cluster, list[Leg]]:
    """Plenty of memory, but h1's 4 vCPUs are taken by x, so w (2 vCPUs) waits for x to leave."""
    x = make_vm("x", "h1", memory_mib=3 * GIB, vcpus=4)
    w = make_vm("w", "h2", memory_mib=GIB, vcpus=2)
    cluster = _cluster({"h1": 64, "h2": 64, "h3": 64}, [x, w], cpus=1)
    return cluster, [Leg(x, "h1", "h3"), Leg(w, "h2", "h1")]


@pytest.mark.parametrize(
    ("case", "finishes"),
    [
        pytest.param(_swap_through_a_third_host(), [_d(6), 2 * _d(6), 3 * _d(6)], id="swap-via-a-third-host"),
        pytest.param(_room_everywhere(), [_d(1), _d(2), _d(3)], id="no-room-wait:-each-its-own-length"),
        pytest.param(
            _two_must_leave(), [_d(1), _d(3), _d(3) + _d(4)], id="two-must-leave:-the-later-of-them"
        ),
        pytest.param(_one_of_two_must_leave(), [_d(1), _d(3), 2 * _d(1)], id="one-must-leave:-the-first"),
        pytest.param(
            _only_the_big_one_frees_enough(), [_d(1), _d(3), 2 * _d(3)], id="only-the-big-one-frees-enough"
        ),
        pytest.param(_short_of_vcpus(), [_d(3), _d(3) + _d(1)], id="short-of-vcpus"),
    ],
)
def test_earliest_finishes(case: tuple[Cluster, list[Leg]], finishes: list[float]) -> None:
    cluster, legs = case
    assert earliest_finishes(cluster, legs, links(cluster, Budgets(setup_s=0.0))) == pytest.approx(finishes)


def test_room_waits_sends_the_arrivals_left_after_the_first_departure() -> None:
    """h1 (2 GiB) is full with a and b; c and d come in, each only once one of a and b has left."""
    a, b = make_vm("a", "h1", memory_mib=GIB), make_vm("b", "h1", memory_mib=GIB)
    c, d = make_vm("c", "h4", memory_mib=GIB), make_vm("d", "h5", memory_mib=GIB)
    cluster = _cluster({"h1": 2, "h2": 8, "h3": 8, "h4": 8, "h5": 8}, [a, b, c, d])
    legs = [Leg(a, "h1", "h2"), Leg(b, "h1", "h3"), Leg(c, "h4", "h1"), Leg(d, "h5", "h1")]
    net = links(cluster, Budgets(setup_s=0.0))
    finish = earliest_finishes(cluster, legs, net)
    sent = estimate(GIB, 1000, 0).sent_mib
    assert room_waits(cluster, legs, net, finish) == pytest.approx(_d(1) + 2 * sent / 1000)


def test_no_room_wait_no_room_waits() -> None:
    cluster, legs = _room_everywhere()
    net = links(cluster, Budgets(setup_s=0.0))
    assert room_waits(cluster, legs, net, earliest_finishes(cluster, legs, net)) == 0.0


def test_a_scheduled_swap_is_bounded_by_its_three_legs() -> None:
    cluster, legs = _swap_through_a_third_host()
    a, b = legs[0].vm, legs[1].vm
    plan = schedule(cluster, {a.uuid: "h2", b.uuid: "h1"}, {}, Budgets(setup_s=0.0))
    assert [(m.vm_name, m.source, m.destination) for m in plan.migrations] == [
        (g.vm.name, g.source, g.destination) for g in legs
    ]
    assert plan.makespan_lower_bound_s == pytest.approx(3 * _d(6))
    assert plan.makespan_lower_bound_s <= plan.makespan_s + 1e-6
