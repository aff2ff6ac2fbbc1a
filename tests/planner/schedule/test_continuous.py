"""Capacity at every moment, counting a guest in flight on both hosts — on every schedule."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import PlannerBugError
from planner.model import Cluster
from planner.plan import Migration
from planner.policy import Budgets
from planner.schedule import schedule
from planner.schedule.continuous import assert_continuous, check_continuous
from planner.schedule.graph import Leg, Ordering
from planner.schedule.precopy import estimate
from planner.schedule.timeline import Slot
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


@st.composite
def clusters_and_targets(draw: st.DrawFn) -> tuple[Cluster, dict[str, str]]:
    """2-5 hosts, up to 12 guests placed where they fit, and a target where they fit too."""
    n_hosts = draw(st.integers(2, 5))
    hosts = [
        make_host(
            f"h{i}", memory_mib=draw(st.sampled_from([4, 6, 8, 12])) * GIB, cpus=draw(st.integers(1, 4))
        )
        for i in range(n_hosts)
    ]
    free_now = {h.name: [h.memory_capacity_mib, h.vcpu_capacity] for h in hosts}
    free_then = {h.name: [h.memory_capacity_mib, h.vcpu_capacity] for h in hosts}
    vms, target = [], {}
    for k in range(draw(st.integers(0, 12))):
        mem, vcpus = draw(st.sampled_from([512, 1024, 2048, 3072])), draw(st.integers(1, 4))
        picks = []
        for free in (free_now, free_then):
            fits = [h for h in free if free[h][0] >= mem and free[h][1] >= vcpus]
            picks.append(draw(st.sampled_from(fits)) if fits else None)
        now, then = picks
        if now is None or then is None:
            continue
        for free, host in ((free_now, now), (free_then, then)):
            free[host][0] -= mem
            free[host][1] -= vcpus
        dirty = draw(st.sampled_from([0, 50, 400]))
        vm = make_vm(f"g{k}", now, memory_mib=mem, vcpus=vcpus, dirty_rate_mibps=dirty)
        vms.append(vm)
        target[vm.uuid] = then
    return make_cluster(hosts, vms), target


def _random_run(cluster: Cluster, migrations: tuple[Migration, ...], rng: random.Random) -> None:
    """Run the migrations in a random order that respects depends_on; assert room at every step."""
    held = {h.name: [0, 0] for h in cluster.hosts}
    for vm in cluster.vms:
        held[vm.host][0] += vm.memory_mib
        held[vm.host][1] += vm.vcpus
    limit = {
        h.name: [max(h.memory_capacity_mib, held[h.name][0]), max(h.vcpu_capacity, held[h.name][1])]
        for h in cluster.hosts
    }
    size = {vm.uuid: (vm.memory_mib, vm.vcpus) for vm in cluster.vms}
    pending, running, done = list(migrations), [], set()
    while pending or running:
        ready = [m for m in pending if set(m.depends_on) <= done]
        if ready and (not running or rng.random() < 0.5):
            m = rng.choice(ready)
            pending.remove(m)
            running.append(m)
            for r in (0, 1):
                held[m.destination][r] += size[m.vm_uuid][r]
                assert held[m.destination][r] <= limit[m.destination][r], f"{m.id} overfills {m.destination}"
        else:
            m = rng.choice(running)
            running.remove(m)
            done.add(m.id)
            for r in (0, 1):
                held[m.source][r] -= size[m.vm_uuid][r]


budgets = st.builds(
    Budgets,
    per_migration_mibps=st.sampled_from([0, 300]),
    max_outgoing_per_host=st.integers(1, 3),
    max_incoming_per_host=st.integers(1, 3),
    max_concurrent=st.integers(1, 6),
    setup_s=st.just(0.0),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters_and_targets(), budgets, st.integers(0, 2**32 - 1))
def test_every_schedule_keeps_room_and_budgets_at_every_moment_in_any_order(
    case: tuple[Cluster, dict[str, str]], limits: Budgets, seed: int
) -> None:
    cluster, target = case
    plan = schedule(cluster, target, {}, limits)
    rng = random.Random(seed)
    for _ in range(5):
        _random_run(cluster, plan.migrations, rng)
    # Every guest ends on its target, or stays with a reason.
    final = {vm.uuid: vm.host for vm in cluster.vms}
    for m in plan.migrations:
        final[m.vm_uuid] = m.destination
    stays = {s.vm_uuid: s.host for s in plan.unschedulable}
    assert all(final[u] == stays.get(u, t) for u, t in target.items())
    # The budgets hold along the estimated timeline (times are rounded to the millisecond).
    for m in plan.migrations:
        running = [o for o in plan.migrations if o.start_s <= m.start_s < o.start_s + o.estimated_s - 0.002]
        assert len(running) <= limits.max_concurrent
        assert sum(o.source == m.source for o in running) <= limits.max_outgoing_per_host
        assert sum(o.destination == m.destination for o in running) <= limits.max_incoming_per_host
        assert sum(o.bandwidth_mibps for o in running if o.source == m.source) <= 1192
        assert m.bandwidth_mibps <= (limits.per_migration_mibps or 1192)
    assert plan.makespan_lower_bound_s <= plan.makespan_s + 1e-6


def _unsafe() -> tuple[Cluster, Ordering]:
    """b must leave h2 before a fits there, but the ordering forgets to say so."""
    hosts = [make_host(n, memory_mib=8 * GIB) for n in ("h1", "h2", "h3")]
    a, b = make_vm("a", "h1", memory_mib=6 * GIB), make_vm("b", "h2", memory_mib=6 * GIB)
    cluster = make_cluster(hosts, [a, b])
    return cluster, Ordering((Leg(a, "h1", "h2"), Leg(b, "h2", "h3")), ((), ()), (), ())


def _together(ordering: Ordering) -> list[Slot]:
    """Both legs start at once, at 1000 MiB/s."""
    return [Slot(i, 0.0, 1000, estimate(leg.vm.memory_mib, 1000, 0)) for i, leg in enumerate(ordering.legs)]


def test_a_schedule_that_overfills_a_host_is_a_planner_bug() -> None:
    cluster, ordering = _unsafe()
    slots = _together(ordering)
    violations = check_continuous(cluster, ordering, slots)
    assert {(v.rule, v.host, v.value, v.limit) for v in violations} == {
        ("continuous-memory", "h2", 12 * GIB, 8 * GIB)
    }
    with pytest.raises(PlannerBugError, match="h2 over memory"):
        assert_continuous(cluster, ordering, slots)


def test_a_dependency_makes_the_same_moves_safe() -> None:
    cluster, ordering = _unsafe()
    safe = Ordering(ordering.legs, ((1,), ()))
    first = estimate(6 * GIB, 1000, 0)
    slots = [Slot(1, 0.0, 1000, first), Slot(0, first.duration_s, 1000, first)]
    assert check_continuous(cluster, safe, slots) == []


def test_starting_a_waiting_move_early_is_caught_even_when_room_would_hold() -> None:
    cluster, ordering = _unsafe()
    safe = Ordering(ordering.legs, ((1,), ()))
    violations = check_continuous(cluster, safe, _together(safe))
    assert "continuous-order" in {v.rule for v in violations}
