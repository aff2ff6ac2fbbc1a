"""The heuristics' mutable loads: scores, room, candidates by host size, and the budget they spend."""

from __future__ import annotations

import pytest

from planner.model import Vm
from planner.optimize.load_state import LoadState, Mover, by_size
from tests.builders import make_cluster, make_host, make_vm


@pytest.fixture
def state() -> LoadState:
    hosts = [make_host("small", memory_mib=32768), make_host("big", memory_mib=131072), make_host("mid")]
    vms = [
        make_vm("a", host="small", memory_mib=16384, cpu_millicores=0),
        make_vm("b", host="big", memory_mib=32768, cpu_millicores=0),
        make_vm("c", host="mid", memory_mib=8192, cpu_millicores=0),
    ]
    cluster = make_cluster(hosts, vms)
    return LoadState(cluster, dict(cluster.placement), 1, 1)


def vm(state: LoadState, name: str) -> Vm:
    return state.cluster.vm_by_name[name]


def test_scores_now_and_after_a_guest_arrives_or_leaves(state: LoadState) -> None:
    a = vm(state, "a")
    assert state.score("small") == pytest.approx(50.0)
    assert state.score("small", a, -1) == pytest.approx(0.0)
    assert state.score("big", a, 1) == pytest.approx(37.5)


def test_room_counts_memory_cpu_and_vcpus(state: LoadState) -> None:
    b = vm(state, "b")
    assert not state.fits(b, "small")
    assert state.fits(b, "mid")


def test_candidates_rank_by_the_share_left_after_taking_the_guest(state: LoadState) -> None:
    a = vm(state, "a")
    dests = ("small", "big", "mid")
    assert state.candidates(dests, a, "small", 2) == ["big", "mid"]
    assert state.coolest(dests, a, "small", smart=False) == "mid"  # plain: the least loaded now


def test_moves_update_loads_versions_and_the_budget(state: LoadState) -> None:
    a = vm(state, "a")
    mover = Mover(state, max_migrations=1, max_moved_mib=None)
    assert mover.allows(a)
    mover.move(a, "big")
    assert state.score("small") == 0.0 and state.version["big"] == 1
    assert mover.moved == {a.uuid} and mover.mib == 16384
    assert not mover.allows(vm(state, "c"))
    mover.move(a, "small")  # home again: the move no longer counts
    assert mover.moved == set() and mover.mib == 0


def test_by_size_orders_by_share_of_the_host(state: LoadState) -> None:
    guests = [vm(state, n) for n in "abc"]
    assert [g.name for g in by_size(state, "mid", guests)] == ["b", "a", "c"]
