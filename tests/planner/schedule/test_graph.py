"""Dependencies: a move that fits only after another waits for it; swaps go through a host with room."""

from __future__ import annotations

import pytest

from planner.model import PlacementRule
from planner.policy import Budgets, Policy
from planner.rules import rules_for
from planner.schedule import schedule
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


def _hosts(*names: str, memory: int = 8 * GIB) -> list:
    return [make_host(n, memory_mib=memory) for n in names]


def test_a_move_that_fits_only_after_another_waits_for_it() -> None:
    a = make_vm("a", "h1", memory_mib=6 * GIB)
    b = make_vm("b", "h2", memory_mib=6 * GIB)
    cluster = make_cluster(_hosts("h1", "h2", "h3"), [a, b])
    plan = schedule(cluster, {a.uuid: "h2", b.uuid: "h3"}, {a.uuid: "balance"}, Budgets(setup_s=0.0))
    by_vm = {m.vm_name: m for m in plan.migrations}
    assert by_vm["a"].depends_on == (by_vm["b"].id,)
    assert by_vm["b"].depends_on == ()
    assert by_vm["a"].start_s == pytest.approx(by_vm["b"].start_s + by_vm["b"].estimated_s)
    assert by_vm["a"].reason == "balance"


def test_moves_into_free_room_wait_for_nothing_and_run_together() -> None:
    vms = [make_vm(f"v{i}", f"h{i}", memory_mib=GIB) for i in (1, 2, 3)]
    cluster = make_cluster(_hosts("h1", "h2", "h3", "h4", "h5", "h6"), vms)
    plan = schedule(cluster, {v.uuid: f"h{i + 4}" for i, v in enumerate(vms)}, {}, Budgets(setup_s=0.0))
    assert all(m.depends_on == () and m.start_s == 0 for m in plan.migrations)


def test_a_swap_goes_through_a_host_with_room() -> None:
    a = make_vm("a", "h1", memory_mib=6 * GIB)
    b = make_vm("b", "h2", memory_mib=7 * GIB)
    cluster = make_cluster(_hosts("h1", "h2", "h3"), [a, b])
    plan = schedule(cluster, {a.uuid: "h2", b.uuid: "h1"}, {}, Budgets(setup_s=0.0))
    assert [(m.vm_name, m.source, m.destination, m.temporary) for m in plan.migrations] == [
        ("a", "h1", "h3", True),
        ("b", "h2", "h1", False),
        ("a", "h3", "h2", False),
    ]
    first, second, third = plan.migrations
    assert (second.depends_on, third.depends_on) == ((first.id,), (second.id,))
    assert plan.unschedulable == ()
    assert any("break a cycle" in n for n in plan.notes)


STAYS = "(a stays there)"


@pytest.mark.parametrize(
    ("hosts", "rules", "why", "b_why"),
    [
        pytest.param(_hosts("h1", "h2"), (), "no host has room", STAYS, id="no-third-host"),
        pytest.param(
            _hosts("h1", "h2") + _hosts("h3", memory=4 * GIB),
            (),
            "no host has room",
            STAYS,
            id="third-too-small",
        ),
        pytest.param(
            _hosts("h1", "h2", "h3"),
            (PlacementRule("avoid", "not-h3", ("a", "b"), hosts=("h3",)),),
            "no host has room",
            STAYS,
            id="third-forbidden-by-a-hard-rule",
        ),
        pytest.param(
            _hosts("h1", "h2", "h3"),
            (PlacementRule("anti-affinity", "apart", ("a", "b", "c")),),
            "no host has room",
            "h1 keeps a, which a hard rule says must leave it before b arrives",
            id="third-holds-an-anti-affine-guest",
        ),
        pytest.param(
            _hosts("h1", "h2", "h3"),
            (PlacementRule("pin", "here", ("a", "b"), hosts=("h1", "h2")),),
            "no host has room",
            STAYS,
            id="both-pinned-to-the-two-hosts",
        ),
    ],
)
def test_a_swap_without_a_host_with_room_is_reported(hosts: list, rules: tuple, why: str, b_why: str) -> None:
    a = make_vm("a", "h1", memory_mib=6 * GIB)
    b = make_vm("b", "h2", memory_mib=7 * GIB)
    c = make_vm("c", hosts[-1].name, memory_mib=512)
    cluster = make_cluster(hosts, [a, b, c], rules)
    plan = schedule(
        cluster, {a.uuid: "h2", b.uuid: "h1"}, {}, Budgets(setup_s=0.0), rules_for(cluster, Policy())
    )
    assert plan.migrations == ()
    assert {s.vm_name for s in plan.unschedulable} == {"a", "b"}
    assert all(s.rule == "schedule" for s in plan.unschedulable)
    assert why in next(s.reason for s in plan.unschedulable if s.vm_name == "a")
    assert b_why in next(s.reason for s in plan.unschedulable if s.vm_name == "b")


def test_a_soft_rule_does_not_stop_a_hop() -> None:
    a = make_vm("a", "h1", memory_mib=6 * GIB)
    b = make_vm("b", "h2", memory_mib=7 * GIB)
    rules = [PlacementRule("avoid", "rather-not-h3", ("a", "b"), hosts=("h3",), hard=False)]
    cluster = make_cluster(_hosts("h1", "h2", "h3"), [a, b], rules)
    plan = schedule(
        cluster, {a.uuid: "h2", b.uuid: "h1"}, {}, Budgets(setup_s=0.0), rules_for(cluster, Policy())
    )
    assert [m.destination for m in plan.migrations if m.temporary] == ["h3"]


def test_a_three_way_rotation_needs_one_hop() -> None:
    vms = [make_vm(f"v{i}", f"h{i}", memory_mib=6 * GIB) for i in (1, 2, 3)]
    cluster = make_cluster(_hosts("h1", "h2", "h3", "h4"), vms)
    target = {vms[0].uuid: "h2", vms[1].uuid: "h3", vms[2].uuid: "h1"}
    plan = schedule(cluster, target, {}, Budgets(setup_s=0.0))
    assert sum(m.temporary for m in plan.migrations) == 1
    assert len(plan.migrations) == 4
    assert {m.destination for m in plan.migrations if not m.temporary} == {"h1", "h2", "h3"}


@pytest.mark.parametrize(
    ("vm", "why", "resolvable"),
    [
        pytest.param(
            {"migratable": False, "unmigratable_reason": "has a host device"},
            "has a host device",
            False,
            id="unmigratable",
        ),
        pytest.param({"memory_mib": 9 * GIB}, "no room", True, id="too-big-for-its-target"),
    ],
)
def test_a_move_that_cannot_happen_is_reported(vm: dict, why: str, resolvable: bool) -> None:
    guest = make_vm("g", "h1", **vm)
    cluster = make_cluster(_hosts("h1", "h2"), [guest])
    plan = schedule(cluster, {guest.uuid: "h2"}, {}, Budgets(setup_s=0.0))
    assert plan.migrations == ()
    (stay,) = plan.unschedulable
    assert why in stay.reason
    assert stay.resolvable is resolvable


def test_no_move_no_migration() -> None:
    guest = make_vm("g", "h1")
    plan = schedule(make_cluster(_hosts("h1", "h2"), [guest]), {guest.uuid: "h1"}, {}, Budgets(setup_s=0.0))
    assert (plan.migrations, plan.makespan_s, plan.makespan_lower_bound_s) == ((), 0.0, 0.0)


def _cluster(guests: list[tuple[str, str, int, int, str]]) -> tuple:
    """Three 4-GiB hosts of 4 vCPUs; idle guests as (name, host, MiB, vCPUs, target host)."""
    hosts = [make_host(f"h{i}", memory_mib=4 * GIB, cpus=1) for i in range(3)]
    vms = [make_vm(n, h, memory_mib=m, vcpus=c, cpu_millicores=0) for n, h, m, c, _ in guests]
    return make_cluster(hosts, vms), {v.uuid: g[4] for v, g in zip(vms, guests, strict=True)}


@pytest.mark.parametrize(
    ("guests", "staying", "temporary"),
    [
        pytest.param(
            [
                ("g0", "h1", 512, 1, "h0"),
                ("g1", "h0", 1024, 2, "h2"),
                ("g2", "h0", 1024, 2, "h1"),
                ("g3", "h1", 3072, 1, "h0"),
                ("g4", "h2", 2048, 2, "h1"),
            ],
            {},
            0,
            id="its-target-has-room-by-then-so-it-goes-straight",
        ),
        pytest.param(
            [
                ("g0", "h2", 512, 2, "h2"),
                ("g1", "h2", 1024, 1, "h0"),
                ("g2", "h0", 512, 1, "h1"),
                ("g3", "h0", 512, 2, "h1"),
                ("g4", "h1", 3072, 2, "h2"),
                ("g5", "h1", 1024, 1, "h0"),
                ("g6", "h0", 512, 1, "h0"),
            ],
            {"g2": "h2", "g4": "h1"},
            2,
            id="its-second-hop-stays-and-takes-its-onward-leg-along",
        ),
    ],
)
def test_a_hop_planned_for_another_order_of_moves_ends_where_the_plan_says(
    guests: list, staying: dict[str, str], temporary: int
) -> None:
    """with_hops plans hops in its own order, the timeline runs another (found by Hypothesis)."""
    cluster, target = _cluster(guests)
    one_at_a_time = Budgets(
        0, setup_s=0.0, max_outgoing_per_host=1, max_incoming_per_host=1, max_concurrent=1
    )
    plan = schedule(cluster, target, {}, one_at_a_time)
    final = {vm.uuid: vm.host for vm in cluster.vms}
    for m in plan.migrations:
        final[m.vm_uuid] = m.destination
    assert {s.vm_name: s.host for s in plan.unschedulable} == staying  # one record per guest
    assert len(plan.unschedulable) == len(staying)
    assert all(final[vm.uuid] == staying.get(vm.name, target[vm.uuid]) for vm in cluster.vms)
    assert sum(m.temporary for m in plan.migrations) == temporary


def test_a_move_that_keeps_the_cpu_ceiling_only_after_another_waits_for_it() -> None:
    """Memory has room at once, CPU only once b left h2: a waits, so the ceiling holds at every moment."""
    hosts = _hosts("h1", "h2", "h3")
    ceiling = hosts[1].cpu_capacity_millicores
    a = make_vm("a", "h1", memory_mib=GIB, cpu_millicores=ceiling // 2 + 100)
    b = make_vm("b", "h2", memory_mib=GIB, cpu_millicores=ceiling // 2 + 100)
    cluster = make_cluster(hosts, [a, b])
    by_vm = {m.vm_name: m for m in schedule(cluster, {a.uuid: "h2", b.uuid: "h3"}, {}, Budgets()).migrations}
    assert by_vm["a"].depends_on == (by_vm["b"].id,)


def test_a_hop_never_lands_on_a_host_over_its_capacity() -> None:
    """h3 is over its CPU capacity at the start and is drained (c1 leaves for h4); once c1 has left it
    still holds more than its capacity, so a and b's swap hops through h4, not h3, although h3 has more
    memory free and stays under what it held at the start."""
    a = make_vm("a", "h1", memory_mib=6 * GIB, cpu_millicores=100)
    b = make_vm("b", "h2", memory_mib=6 * GIB, cpu_millicores=100)
    hosts = [
        *_hosts("h1", "h2"),
        make_host("h3", cpus=2, memory_mib=64 * GIB),
        make_host("h4", memory_mib=16 * GIB),
    ]
    c1 = make_vm("c1", "h3", memory_mib=GIB, cpu_millicores=1500)
    c2 = make_vm("c2", "h3", memory_mib=GIB, cpu_millicores=1900)
    cluster = make_cluster(hosts, [a, b, c1, c2])
    h3 = cluster.host_by_name["h3"]
    assert c2.cpu_millicores > h3.cpu_capacity_millicores  # over it even once c1 has left
    plan = schedule(cluster, {a.uuid: "h2", b.uuid: "h1", c1.uuid: "h4"}, {}, Budgets(setup_s=0.0))
    hops = [m.destination for m in plan.migrations if m.temporary]
    assert hops == ["h4"]
