"""Room chains: what may wait behind each leg (its guest's onward legs, arrivals short of room it frees)."""

from __future__ import annotations

import pytest

from planner.model import Cluster, Vm
from planner.schedule.graph import Leg
from planner.schedule.tails import room_chains
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


def _cluster(hosts: dict[str, int], vms: list[Vm]) -> Cluster:
    return make_cluster([make_host(h, memory_mib=gib * GIB) for h, gib in hosts.items()], vms)


def _one_departure_makes_room() -> tuple[Cluster, list[Leg], dict[int, int]]:
    """z (3 GiB) into the 4-GiB h1, which x (3 GiB) leaves."""
    x, z = make_vm("x", "h1", memory_mib=3 * GIB), make_vm("z", "h3", memory_mib=3 * GIB)
    cluster = _cluster({"h1": 4, "h2": 8, "h3": 8}, [x, z])
    return cluster, [Leg(x, "h1", "h2"), Leg(z, "h3", "h1")], {}


def _only_the_big_departure_counts() -> tuple[Cluster, list[Leg], dict[int, int]]:
    """z (3 GiB) into the full 4-GiB h1: y (3 GiB) leaving covers it, x (1 GiB) leaving does not."""
    x, y = make_vm("x", "h1", memory_mib=GIB), make_vm("y", "h1", memory_mib=3 * GIB)
    z = make_vm("z", "h3", memory_mib=3 * GIB)
    cluster = _cluster({"h1": 4, "h2": 8, "h3": 8}, [x, y, z])
    return cluster, [Leg(x, "h1", "h2"), Leg(y, "h1", "h2"), Leg(z, "h3", "h1")], {}


def _a_hop() -> tuple[Cluster, list[Leg], dict[int, int]]:
    """a goes to h2 through h3, with room everywhere."""
    a = make_vm("a", "h1", memory_mib=GIB)
    cluster = _cluster({"h1": 8, "h2": 8, "h3": 8}, [a])
    return cluster, [Leg(a, "h1", "h3", temporary=True), Leg(a, "h3", "h2")], {1: 0}


def _room_everywhere() -> tuple[Cluster, list[Leg], dict[int, int]]:
    vms = [make_vm(f"v{n}", "h0", memory_mib=GIB) for n in (1, 2)]
    cluster = _cluster({"h0": 8, "h1": 8, "h2": 8}, vms)
    return cluster, [Leg(vm, "h0", f"h{n}") for n, vm in enumerate(vms, start=1)], {}


@pytest.mark.parametrize(
    ("case", "tails", "chained"),
    [
        pytest.param(_one_departure_makes_room, [2.0, 1.0], [True, True], id="departure-carries-the-arrival"),
        pytest.param(
            _only_the_big_departure_counts,
            [1.0, 2.0, 1.0],
            [False, True, True],
            id="small-departure-not-waited-on",
        ),
        pytest.param(_a_hop, [2.0, 1.0], [True, True], id="a-hop-carries-its-onward-leg"),
        pytest.param(_room_everywhere, [1.0, 1.0], [False, False], id="room-everywhere"),
    ],
)
def test_room_chains(case: object, tails: list[float], chained: list[bool]) -> None:
    cluster, legs, follows = case()  # type: ignore[operator]
    chains = room_chains(cluster, legs, follows, [1.0] * len(legs))
    assert chains.tails == tails
    assert chains.chained == chained


def test_a_swap_whose_legs_wait_for_each_other_is_cut_where_it_comes_back() -> None:
    a, c = make_vm("a", "h1", memory_mib=3 * GIB), make_vm("c", "h2", memory_mib=3 * GIB)
    cluster = _cluster({"h1": 4, "h2": 4}, [a, c])
    chains = room_chains(cluster, [Leg(a, "h1", "h2"), Leg(c, "h2", "h1")], {}, [1.0, 1.0])
    assert sorted(chains.tails) == [1.0, 2.0]
    assert chains.chained == [True, True]
