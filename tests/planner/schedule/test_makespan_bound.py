"""Each term of the makespan's lower bound, on small hand-made orderings."""

from __future__ import annotations

import pytest

from planner.policy import Budgets
from planner.schedule.graph import Leg, Ordering
from planner.schedule.links import links
from planner.schedule.makespan_bound import lower_bound, lower_bounds
from planner.schedule.precopy import estimate
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024
ONE = estimate(GIB, 1000, 0).duration_s  # a 1-GiB idle guest over a whole 1000 MiB/s link


def _case(n: int, depends_on: tuple[tuple[int, ...], ...] | None = None, **budgets: int) -> dict[str, float]:
    """`n` 1-GiB guests from h0 to h1..hn (each NIC 1000 MiB/s)."""
    hosts = [make_host(f"h{i}", nic_mibps=1000) for i in range(n + 1)]
    vms = [make_vm(f"v{i}", "h0", memory_mib=GIB) for i in range(n)]
    cluster = make_cluster(hosts, vms)
    legs = tuple(Leg(vm, "h0", f"h{i + 1}") for i, vm in enumerate(vms))
    ordering = Ordering(legs, depends_on or tuple(() for _ in legs))
    return lower_bounds(ordering, links(cluster, Budgets(**{"setup_s": 0.0, **budgets})), cluster)


@pytest.mark.parametrize(
    ("terms", "name", "seconds"),
    [
        pytest.param(_case(1), "longest migration", ONE, id="one-migration"),
        pytest.param(_case(4), "busiest NIC", 4 * ONE, id="four-out-of-one-nic"),
        pytest.param(
            _case(4, per_migration_mibps=250, max_outgoing_per_host=2),
            "per-host concurrency",
            4 * estimate(GIB, 250, 0).duration_s / 2,
            id="two-at-a-time-at-a-quarter-link",
        ),
        pytest.param(
            _case(6, per_migration_mibps=100, max_outgoing_per_host=9, max_concurrent=3),
            "cluster concurrency",
            6 * estimate(GIB, 100, 0).duration_s / 3,
            id="three-at-once-cluster-wide",
        ),
        pytest.param(_case(3, ((), (0,), (1,))), "dependency chain", 3 * ONE, id="a-chain-of-three"),
    ],
)
def test_each_term(terms: dict[str, float], name: str, seconds: float) -> None:
    assert terms[name] == pytest.approx(seconds)
    assert max(terms.values()) == pytest.approx(seconds)


def test_no_legs_no_bound() -> None:
    cluster = make_cluster([make_host("h0")], [])
    assert lower_bound(Ordering((), ()), links(cluster, Budgets(setup_s=0.0)), cluster) == 0.0
