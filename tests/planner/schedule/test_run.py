"""The list scheduler's state (planner/schedule/run.py), driven directly: what starts at a moment within
the counts per host and in the cluster, the bandwidth of each NIC direction, room, and hops' order."""

from __future__ import annotations

import pytest

from planner.model import Host, Vm
from planner.policy import Budgets
from planner.schedule.graph import Leg
from planner.schedule.links import links
from planner.schedule.run import Run
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


def _run(hosts: list[Host], moves: list[tuple[Vm, str]], budgets: Budgets) -> Run:
    cluster = make_cluster(hosts, [vm for vm, _ in moves])
    legs = [Leg(vm, vm.host, to) for vm, to in moves]
    return Run(cluster, legs, {}, links(cluster, budgets), {})


def _started(run: Run) -> list[int]:
    return [i for kind, i in run.events if kind == "start"]


def _drive(run: Run) -> None:
    """The timeline's loop, without hops: start what fits, else advance to the next end."""
    while run.pending or run.running:
        run.start_what_fits(keep_room=True)
        if not run.running:
            run.start_what_fits(keep_room=False)
        if not run.running:
            break
        run.finish_next()


def _hosts(n: int, nic: int = 1000, **fields: int) -> list[Host]:
    return [make_host(f"h{i}", nic_mibps=nic, **fields) for i in range(n)]


@pytest.mark.parametrize(
    ("shape", "budgets", "at_once"),
    [
        ("out-of-h0", Budgets(max_outgoing_per_host=2, per_migration_mibps=250, setup_s=0.0), 2),
        ("into-h0", Budgets(max_incoming_per_host=1, setup_s=0.0), 1),
        ("apart", Budgets(max_concurrent=3, setup_s=0.0), 3),
        ("apart", Budgets(max_concurrent=0, setup_s=0.0), 4),
    ],
    ids=["outgoing-per-host", "incoming-per-host", "in-the-cluster", "zero-is-no-limit"],
)
def test_the_counts_cap_what_starts_at_once(shape: str, budgets: Budgets, at_once: int) -> None:
    hosts = _hosts(9)
    if shape == "out-of-h0":
        moves = [(make_vm(f"v{i}", "h0", memory_mib=GIB), f"h{i + 1}") for i in range(4)]
    elif shape == "into-h0":
        moves = [(make_vm(f"v{i}", f"h{i + 1}", memory_mib=GIB), "h0") for i in range(4)]
    else:
        moves = [(make_vm(f"v{i}", f"h{i}", memory_mib=GIB), f"h{i + 4}") for i in range(4)]
    run = _run(hosts, moves, budgets)
    run.start_what_fits(keep_room=True)
    assert len(_started(run)) == at_once == len(run.running)
    _drive(run)
    assert sorted(_started(run)) == [0, 1, 2, 3]  # the rest start as the first end


@pytest.mark.parametrize(
    ("per_migration", "at_once", "rate"),
    [(0, 1, 1000), (500, 2, 500), (400, 2, 400)],
    ids=["full-rate-takes-the-nic", "two-halves-share-it", "caps-below-half-leave-room-unused"],
)
def test_one_nic_direction_holds_the_rates_it_reserved(per_migration: int, at_once: int, rate: int) -> None:
    moves = [(make_vm(f"v{i}", "h0", memory_mib=GIB), f"h{i + 1}") for i in range(2)]
    budgets = Budgets(per_migration_mibps=per_migration, max_outgoing_per_host=4, setup_s=0.0)
    run = _run(_hosts(3), moves, budgets)
    run.start_what_fits(keep_room=True)
    assert len(run.running) == at_once
    assert {s.bandwidth_mibps for s in run.slots.values()} == {rate}
    assert run.out["h0"].free_mibps == 1000 - at_once * rate and run.out["h0"].running == at_once
    _drive(run)
    assert all(d.free_mibps == 1000 and d.running == 0 for d in (*run.out.values(), *run.into.values()))


def test_the_two_directions_of_a_nic_are_apart() -> None:
    """h0 sends and receives at its full rate at once: out of h0 and into h0 are separate budgets."""
    there, back = make_vm("there", "h0", memory_mib=GIB), make_vm("back", "h1", memory_mib=GIB)
    run = _run(_hosts(2), [(there, "h1"), (back, "h0")], Budgets(setup_s=0.0))
    run.start_what_fits(keep_room=True)
    assert sorted(_started(run)) == [0, 1]
    assert {s.bandwidth_mibps for s in run.slots.values()} == {1000}
    assert (run.out["h0"].free_mibps, run.into["h0"].free_mibps) == (0, 0)


def test_a_slower_nic_sets_the_path_rate() -> None:
    hosts = [make_host("h0", nic_mibps=1000), make_host("h1", nic_mibps=300)]
    run = _run(hosts, [(make_vm("v", "h0", memory_mib=GIB), "h1")], Budgets(setup_s=0.0))
    run.start_what_fits(keep_room=True)
    assert run.slots[0].bandwidth_mibps == 300 and run.out["h0"].free_mibps == 700


def test_the_next_leg_on_a_busy_link_sets_up_while_the_last_one_sends() -> None:
    moves = [(make_vm(f"v{i}", "h0", memory_mib=GIB), "h1") for i in range(2)]
    run = _run(_hosts(2), moves, Budgets(max_outgoing_per_host=2, max_incoming_per_host=2, setup_s=2.0))
    _drive(run)
    first, second = sorted(run.slots.values(), key=lambda s: s.start_s)
    assert second.start_s == pytest.approx(first.end_s - 2.0)
    assert first.bandwidth_mibps == second.bandwidth_mibps == 1000


def test_a_leg_waits_for_room_that_a_leg_leaving_makes() -> None:
    """h1 holds one 3 GiB guest of 4 GiB: `in` fits there only once `out` has left."""
    hosts = [make_host("h0"), make_host("h1", memory_mib=4 * GIB), make_host("h2")]
    arriving, leaving = make_vm("in", "h0", memory_mib=3 * GIB), make_vm("out", "h1", memory_mib=3 * GIB)
    run = _run(hosts, [(arriving, "h1"), (leaving, "h2")], Budgets(setup_s=0.0))
    _drive(run)
    assert run.events.index(("end", 1)) < run.events.index(("start", 0))
    ordering, slots = run.result([], [])
    assert [leg.vm.name for leg in ordering.legs] == ["out", "in"]  # numbered in start order
    assert 0 in ordering.depends_on[1]
    assert slots[1].start_s >= slots[0].end_s


def test_a_hops_onward_leg_starts_after_its_first_leg_ends() -> None:
    vm = make_vm("v", "h0", memory_mib=GIB)
    run = _run(_hosts(3), [(vm, "h2")], Budgets(setup_s=0.0))
    run.hop(0, "h1")
    assert [(leg.source, leg.destination, leg.temporary) for leg in run.legs] == [
        ("h0", "h1", True),
        ("h1", "h2", False),
    ]
    assert not run.ready(1)
    _drive(run)
    assert run.slots[1].start_s >= run.slots[0].end_s and run.done == {0, 1}


def test_dropping_a_leg_drops_the_legs_that_follow_it() -> None:
    vm, other = make_vm("v", "h0", memory_mib=GIB), make_vm("w", "h0", memory_mib=GIB)
    run = _run(_hosts(3), [(vm, "h2"), (other, "h1")], Budgets(setup_s=0.0))
    run.hop(0, "h1")  # leg 2 is v's onward leg h1 -> h2
    run.drop(0)
    assert run.pending == [1]
    assert run.out["h0"].left_s > 0 and run.out["h0"].left_s == pytest.approx(run.into["h1"].left_s)
    assert run.out["h1"].left_s == 0 == run.into["h2"].left_s  # only w's work is left
    _drive(run)
    assert _started(run) == [1]
