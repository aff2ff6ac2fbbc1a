"""host_loads, score and balance: shares of each host's own capacity."""

from __future__ import annotations

import pytest

from planner.load import balance, host_loads, score
from planner.plan import HostLoad
from tests.builders import make_cluster, make_host, make_vm


def load(cpu: int, mem: int) -> HostLoad:
    return HostLoad(
        host="h",
        cpu_millicores=cpu,
        cpu_capacity_millicores=1000,
        memory_mib=mem,
        memory_capacity_mib=1000,
        vcpus=0,
        vcpu_capacity=10,
        guests=1,
    )


def test_host_loads_follow_the_placement_and_keep_host_order() -> None:
    a = make_vm(host="h1", memory_mib=1024, cpu_millicores=300, vcpus=2)
    b = make_vm(host="h1", memory_mib=2048, cpu_millicores=200, cpu_p95_millicores=700, vcpus=4)
    cluster = make_cluster([make_host("h1"), make_host("h2")], [a, b])
    h1, h2 = host_loads(cluster, {a.uuid: "h1", b.uuid: "h2"})
    assert (h1.host, h1.memory_mib, h1.cpu_millicores, h1.vcpus, h1.guests) == ("h1", 1024, 300, 2, 1)
    assert (h2.host, h2.memory_mib, h2.cpu_millicores, h2.vcpus, h2.guests) == ("h2", 2048, 700, 4, 1)
    assert h2.memory_capacity_mib == 65536 and h2.cpu_capacity_millicores == 16 * 1000 * 85 // 100


@pytest.mark.parametrize(
    ("weights", "expected"),
    [((1, 1), 70.0), ((1, 0), 30.0), ((0, 1), 70.0), ((0, 0), 0.0)],
    ids=["both", "cpu-only", "memory-only", "none"],
)
def test_score_is_the_most_loaded_weighed_resource(weights: tuple[int, int], expected: float) -> None:
    assert score(load(300, 700), *weights) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("mems", "peak", "spread", "cv"),
    [
        ([500, 500], 50.0, 0.0, 0.0),
        ([900, 100], 90.0, 80.0, 0.8),
        ([], 0.0, 0.0, 0.0),
        ([0, 0], 0.0, 0.0, 0.0),
    ],
    ids=["even", "skewed", "no-hosts", "idle"],
)
def test_balance(mems: list[int], peak: float, spread: float, cv: float) -> None:
    got = balance([load(0, m) for m in mems])
    assert (got.peak_pct, got.spread_pct, got.cv) == pytest.approx((peak, spread, cv))
