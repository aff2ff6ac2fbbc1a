"""Budgets (concurrency caps, bandwidth caps), estimates, and the makespan's lower bound."""

from __future__ import annotations

from collections import Counter

import pytest

from planner.plan import Migration
from planner.policy import Budgets
from planner.schedule import schedule
from planner.schedule.precopy import estimate
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


def _at_once(migrations: tuple[Migration, ...], key: str | None = None) -> int:
    """The most migrations running at one moment (per `key` attribute, when given)."""
    most = 0
    for m in migrations:
        running = [o for o in migrations if o.start_s <= m.start_s < o.start_s + o.estimated_s - 0.002]
        counts = Counter(getattr(o, key) for o in running) if key else Counter({"all": len(running)})
        most = max(most, max(counts.values()))
    return most


def _evacuation(n: int, nic: int = 1000, dirty: int = 0) -> tuple:
    """`n` 1-GiB guests on h0, each to its own empty host."""
    hosts = [make_host(f"h{i}", nic_mibps=nic) for i in range(n + 1)]
    vms = [make_vm(f"v{i}", "h0", memory_mib=GIB, dirty_rate_mibps=dirty) for i in range(n)]
    return make_cluster(hosts, vms), {v.uuid: f"h{i + 1}" for i, v in enumerate(vms)}


@pytest.mark.parametrize(
    ("budgets", "key", "most"),
    [
        pytest.param(
            Budgets(setup_s=0.0, per_migration_mibps=100, max_outgoing_per_host=3),
            "source",
            3,
            id="outgoing-per-host",
        ),
        pytest.param(
            Budgets(setup_s=0.0, per_migration_mibps=100, max_outgoing_per_host=9, max_concurrent=4),
            None,
            4,
            id="cluster-wide",
        ),
    ],
)
def test_concurrency_caps_hold(budgets: Budgets, key: str | None, most: int) -> None:
    cluster, target = _evacuation(8)
    plan = schedule(cluster, target, {}, budgets)
    assert _at_once(plan.migrations, key) == most


def test_incoming_cap_holds() -> None:
    hosts = [make_host(f"h{i}") for i in range(7)]
    vms = [make_vm(f"v{i}", f"h{i + 1}", memory_mib=GIB) for i in range(6)]
    plan = schedule(
        make_cluster(hosts, vms),
        {v.uuid: "h0" for v in vms},
        {},
        Budgets(setup_s=0.0, per_migration_mibps=100),
    )
    assert _at_once(plan.migrations, "destination") == 2


@pytest.mark.parametrize(
    ("budgets", "rate"),
    [
        pytest.param(Budgets(setup_s=0.0), 1000, id="the-nic"),
        pytest.param(Budgets(setup_s=0.0, per_migration_mibps=250), 250, id="the-per-migration-cap"),
        pytest.param(Budgets(setup_s=0.0, host_nic_mibps={"h0": 400}), 400, id="a-configured-nic-rate"),
    ],
)
def test_each_migration_reserves_at_most_the_cap_and_the_nics_never_overbook(
    budgets: Budgets, rate: int
) -> None:
    cluster, target = _evacuation(4)
    plan = schedule(cluster, target, {}, budgets)
    assert max(m.bandwidth_mibps for m in plan.migrations) == rate
    for m in plan.migrations:
        running = [o for o in plan.migrations if o.start_s <= m.start_s < o.start_s + o.estimated_s - 0.002]
        assert sum(o.bandwidth_mibps for o in running if o.source == "h0") <= (
            400 if "h0" in budgets.host_nic_mibps else 1000
        )


def test_one_source_nic_runs_its_migrations_one_after_another_at_full_rate() -> None:
    cluster, target = _evacuation(4, dirty=50)
    plan = schedule(cluster, target, {}, Budgets(setup_s=0.0))
    single = estimate(GIB, 1000, 50)
    assert [m.start_s for m in plan.migrations] == pytest.approx(
        [k * single.duration_s for k in range(4)], abs=0.01
    )
    assert plan.makespan_s == pytest.approx(4 * single.duration_s, abs=0.01)
    assert plan.makespan_lower_bound_s == pytest.approx(plan.makespan_s, rel=1e-6)  # the busiest NIC


def test_estimates_come_from_the_precopy_model_at_the_reserved_rate() -> None:
    cluster, target = _evacuation(2, dirty=120)
    plan = schedule(cluster, target, {}, Budgets(setup_s=0.0, per_migration_mibps=500))
    for m in plan.migrations:
        cost = estimate(GIB, m.bandwidth_mibps, 120)
        assert (m.estimated_s, m.estimated_mib) == (
            pytest.approx(cost.duration_s, abs=1e-3),
            round(cost.sent_mib),
        )
        assert m.dirty_rate_mibps == 120


@pytest.mark.parametrize(
    ("dirty", "warned"),
    [
        pytest.param(100, False, id="slow-writer"),
        pytest.param(900, True, id="near-the-rate"),
        pytest.param(1500, True, id="above"),
    ],
)
def test_a_guest_dirtying_near_its_bandwidth_is_warned(dirty: int, warned: bool) -> None:
    cluster, target = _evacuation(1, dirty=dirty)
    (m,) = schedule(cluster, target, {}, Budgets(setup_s=0.0)).migrations
    assert bool(m.warnings) is warned
    assert all("auto-converge or post-copy" in w for w in m.warnings)


@pytest.mark.parametrize("n", [1, 3, 7])
def test_the_lower_bound_is_below_the_makespan(n: int) -> None:
    cluster, target = _evacuation(n, dirty=30)
    plan = schedule(cluster, target, {}, Budgets(setup_s=0.0, per_migration_mibps=300))
    assert 0 < plan.makespan_lower_bound_s <= plan.makespan_s + 1e-9
    assert any("x the bound" in note for note in plan.notes)


def test_the_lower_bound_counts_the_longest_dependency_chain() -> None:
    a = make_vm("a", "h1", memory_mib=6 * GIB)
    b = make_vm("b", "h2", memory_mib=6 * GIB)
    hosts = [make_host(n, memory_mib=8 * GIB, nic_mibps=1000) for n in ("h1", "h2", "h3")]
    plan = schedule(make_cluster(hosts, [a, b]), {a.uuid: "h2", b.uuid: "h3"}, {}, Budgets(setup_s=0.0))
    assert plan.makespan_lower_bound_s == pytest.approx(2 * estimate(6 * GIB, 1000, 0).duration_s)
    assert plan.makespan_s == pytest.approx(plan.makespan_lower_bound_s)


@pytest.mark.parametrize(
    ("a_gib", "b_gib", "b_rate", "b_waits"),
    [
        pytest.param(8, 1, 600, False, id="small-guest-shares-the-link-now"),
        pytest.param(1, 16, 1000, True, id="big-guest-waits-for-the-whole-link"),
    ],
)
def test_sharing_a_link_is_decided_by_when_it_would_end(
    a_gib: int, b_gib: int, b_rate: int, b_waits: bool
) -> None:
    """a (h1, a 400 MiB/s NIC) and b (h2) both go to h3 (1000 MiB/s): b gets the rest of h3's link now, or waits."""
    hosts = [make_host("h1", nic_mibps=400), make_host("h2", nic_mibps=1000), make_host("h3", nic_mibps=1000)]
    a = make_vm("a", "h1", memory_mib=a_gib * GIB, dirty_rate_mibps=20)
    b = make_vm("b", "h2", memory_mib=b_gib * GIB, dirty_rate_mibps=20)
    plan = schedule(make_cluster(hosts, [a, b]), {a.uuid: "h3", b.uuid: "h3"}, {}, Budgets(setup_s=0.0))
    by_vm = {m.vm_name: m for m in plan.migrations}
    assert by_vm["a"].start_s == 0 and by_vm["a"].bandwidth_mibps == 400
    assert by_vm["b"].bandwidth_mibps == b_rate
    assert (by_vm["b"].start_s > 0) is b_waits
    if b_waits:
        assert by_vm["b"].start_s == pytest.approx(by_vm["a"].estimated_s, abs=0.002)


def test_a_guest_with_little_resident_memory_is_estimated_by_it() -> None:
    hosts = [make_host("h1", nic_mibps=1000), make_host("h2", nic_mibps=1000)]
    idle = make_vm("idle", "h1", memory_mib=8 * GIB, memory_used_mib=GIB, dirty_rate_mibps=10)
    (m,) = schedule(make_cluster(hosts, [idle]), {idle.uuid: "h2"}, {}, Budgets(setup_s=0.0)).migrations
    assert m.memory_mib == 8 * GIB  # reserved on the destination: all of it
    assert m.estimated_mib == round(estimate(8 * GIB, 1000, 10, resident_mib=GIB).sent_mib)
    assert m.estimated_mib < 2 * GIB


def _swap_behind_a_departure(d_moves: bool) -> tuple:
    """a (h1) and c (h2) swap between hosts with 1 GiB free; b leaves h1 for h3 and, if `d_moves`, d
    leaves h3 for h1 too (all 4 GiB); h4 is empty."""
    sizes = {"h1": 9, "h2": 5, "h3": 9, "h4": 9}
    hosts = [make_host(h, memory_mib=gib * GIB, nic_mibps=1000) for h, gib in sizes.items()]
    a, b, c, d = (
        make_vm(n, h, memory_mib=4 * GIB) for n, h in zip("abcd", ("h1", "h1", "h2", "h3"), strict=True)
    )
    target = {a.uuid: "h2", b.uuid: "h3", c.uuid: "h1"} | ({d.uuid: "h1"} if d_moves else {})
    return make_cluster(hosts, [a, b, c, d]), target


@pytest.mark.parametrize(
    ("d_moves", "rounds", "hops"),
    [
        pytest.param(True, 3, 1, id="a-hop-up-front-beats-waiting-for-the-departure"),
        pytest.param(False, 3, 0, id="waiting-serves-as-well-so-no-hop"),
    ],
)
def test_a_swap_goes_through_a_free_host_up_front_only_where_the_plan_ends_sooner(
    d_moves: bool, rounds: int, hops: int
) -> None:
    """Waiting for b to leave h1 chains c, a and d one after another (4 rounds); a hop through h4 lets
    b's and a's departures from h1 run back to back while c and d arrive (3 rounds)."""
    cluster, target = _swap_behind_a_departure(d_moves)
    plan = schedule(cluster, target, {}, Budgets(setup_s=0.0))
    one = estimate(4 * GIB, 1000, 0).duration_s
    assert plan.makespan_s == pytest.approx(rounds * one, rel=1e-6)
    assert sum(m.temporary for m in plan.migrations) == hops
    assert plan.makespan_lower_bound_s <= plan.makespan_s + 1e-9
