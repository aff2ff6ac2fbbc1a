"""The set-up of a migration (Budgets.setup_s) holds no bandwidth: a reservation covers [start + setup, end)
while the concurrency counts cover [start, end]; the estimates still equal the fluid simulation."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fluid import Planned, simulate
from planner.model import Cluster
from planner.plan import Migration
from planner.policy import Budgets
from planner.schedule import schedule
from planner.schedule.links import links
from planner.schedule.precopy import Limits
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.schedule.test_continuous import _random_run, clusters_and_targets

GIB = 1024


def _moves(n: int, nic: int = 1000, into: str = "h1", memory: int = GIB, hosts: int = 2) -> tuple:
    """`n` guests on h0, all to `into` (or each to its own host when `into` is empty)."""
    cluster = make_cluster(
        [make_host(f"h{i}", nic_mibps=nic) for i in range(max(hosts, n + 1))],
        [make_vm(f"v{i}", "h0", memory_mib=memory) for i in range(n)],
    )
    target = {v.uuid: into or f"h{i + 1}" for i, v in enumerate(cluster.vms)}
    return cluster, target


@pytest.mark.parametrize(
    ("setup", "budgets", "second_starts"),
    [
        pytest.param(2.0, Budgets(), "first.end - setup", id="setup-2-overlaps-the-transfer"),
        pytest.param(0.0, Budgets(), "first.end", id="no-setup-unchanged"),
        pytest.param(2.0, Budgets(max_outgoing_per_host=1), "first.end", id="one-at-a-time-counts-setup"),
        pytest.param(2.0, Budgets(max_concurrent=1), "first.end", id="cluster-wide-counts-setup"),
    ],
)
def test_two_migrations_over_one_link(setup: float, budgets: Budgets, second_starts: str) -> None:
    cluster, target = _moves(2)
    first, second = schedule(cluster, target, {}, replace(budgets, setup_s=setup)).migrations
    assert first.start_s == 0.0
    assert first.bandwidth_mibps == second.bandwidth_mibps == 1000
    end = first.start_s + first.estimated_s
    expected = end - setup if second_starts == "first.end - setup" else end
    assert second.start_s == pytest.approx(expected, abs=2e-3)


def _sending(migrations: tuple[Migration, ...], at: float, setup: float, host: str, out: bool) -> int:
    return sum(
        m.bandwidth_mibps
        for m in migrations
        if (m.source if out else m.destination) == host
        and m.start_s + setup <= at + 1e-6 < m.start_s + m.estimated_s - 2e-3
    )


@pytest.mark.parametrize(
    ("n", "into", "budgets"),
    [
        pytest.param(6, "h1", Budgets(setup_s=2.0), id="six-into-one-host"),
        pytest.param(6, "", Budgets(setup_s=2.0, per_migration_mibps=400), id="six-off-one-host-capped"),
        pytest.param(8, "", Budgets(setup_s=3.0, max_outgoing_per_host=4), id="eight-off-one-host"),
        pytest.param(5, "h1", Budgets(setup_s=0.5, max_incoming_per_host=5), id="short-setup"),
    ],
)
def test_reservations_never_overbook_and_counts_cover_the_setup(n: int, into: str, budgets: Budgets) -> None:
    cluster, target = _moves(n, into=into, memory=512)
    plan = schedule(cluster, target, {}, budgets)
    moments = {m.start_s for m in plan.migrations} | {m.start_s + budgets.setup_s for m in plan.migrations}
    for at in moments:
        for host in ("h0", "h1"):
            assert _sending(plan.migrations, at, budgets.setup_s, host, out=True) <= 1000
            assert _sending(plan.migrations, at, budgets.setup_s, host, out=False) <= 1000
        running = [m for m in plan.migrations if m.start_s <= at + 1e-6 < m.start_s + m.estimated_s - 2e-3]
        assert sum(m.source == "h0" for m in running) <= budgets.max_outgoing_per_host
        assert sum(m.destination == "h1" for m in running) <= budgets.max_incoming_per_host


@pytest.mark.parametrize(
    ("setup", "n", "into"),
    [
        pytest.param(2.0, 4, "h1", id="one-link"),
        pytest.param(2.0, 6, "", id="one-source"),
        pytest.param(0.0, 4, "h1", id="no-setup"),
    ],
)
def test_the_estimate_equals_the_fluid_simulation(setup: float, n: int, into: str) -> None:
    cluster, target = _moves(n, into=into, memory=512)
    budgets = Budgets(setup_s=setup)
    plan = schedule(cluster, target, {}, budgets)
    net = links(cluster, budgets)
    nic = {h: float(r) for h, r in net.nic_mibps.items()}
    policy = Planned(plan.migrations, nic, 2, 2, 8, setup_s=setup)
    out = simulate(policy, nic, {vm.uuid: 0.0 for vm in cluster.vms}, Limits(setup_s=setup))
    assert out.makespan_s == pytest.approx(plan.makespan_s, abs=0.01)


@pytest.mark.parametrize("setup", [0.0, 1.0, 2.0])
def test_the_lower_bound_counts_one_setup_on_the_busiest_nic(setup: float) -> None:
    cluster, target = _moves(4)
    plan = schedule(cluster, target, {}, Budgets(setup_s=setup))
    assert plan.makespan_lower_bound_s == pytest.approx(setup + 4 * GIB / 1000, rel=1e-6)
    assert plan.makespan_lower_bound_s <= plan.makespan_s + 1e-9


def test_the_lab_case_is_estimated_by_its_transfers() -> None:
    """tests/executor/test_apply_lab.py: 8 guests of 128 MiB over 64 MiB/s NICs, 6 into h3, 2 set-up s."""
    hosts = [make_host(f"h{i}", nic_mibps=64) for i in (1, 2, 3)]
    vms = [make_vm(f"mk-{i}", "h1" if i % 2 else "h2", memory_mib=128) for i in range(8)]
    target = {v.uuid: "h3" if i < 6 else ("h2" if v.host == "h1" else "h1") for i, v in enumerate(vms)}
    budgets = Budgets(max_outgoing_per_host=2, max_incoming_per_host=2, max_concurrent=4, setup_s=2.0)
    plan = schedule(make_cluster(hosts, vms), target, {}, budgets)
    # h3 receives 6 x 128 MiB at 64 MiB/s: 2 s set-up, then 12 s of transfers back to back.
    assert plan.makespan_s == pytest.approx(2.0 + 6 * 128 / 64, abs=0.01)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    clusters_and_targets(),
    st.builds(
        Budgets,
        per_migration_mibps=st.sampled_from([0, 300]),
        max_outgoing_per_host=st.integers(1, 3),
        max_incoming_per_host=st.integers(1, 3),
        max_concurrent=st.integers(1, 6),
        setup_s=st.sampled_from([0.5, 2.0, 10.0]),
    ),
    st.integers(0, 2**32 - 1),
)
def test_with_a_setup_every_schedule_keeps_room_reservations_and_counts(
    case: tuple[Cluster, dict[str, str]], limits: Budgets, seed: int
) -> None:
    cluster, target = case
    plan = schedule(cluster, target, {}, limits)
    rng = random.Random(seed)
    for _ in range(3):
        _random_run(cluster, plan.migrations, rng)
    nic = links(cluster, limits).nic_mibps
    for m in plan.migrations:
        running = [o for o in plan.migrations if o.start_s <= m.start_s < o.start_s + o.estimated_s - 0.002]
        assert len(running) <= limits.max_concurrent
        assert sum(o.source == m.source for o in running) <= limits.max_outgoing_per_host
        assert sum(o.destination == m.destination for o in running) <= limits.max_incoming_per_host
        at = m.start_s + limits.setup_s
        for host in {m.source, m.destination}:
            assert _sending(plan.migrations, at, limits.setup_s, host, out=True) <= nic[host]
            assert _sending(plan.migrations, at, limits.setup_s, host, out=False) <= nic[host]
    assert plan.makespan_lower_bound_s <= plan.makespan_s + 1e-6
