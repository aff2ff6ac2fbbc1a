from __future__ import annotations

import pytest

from planner.rules import MemoryCapacity
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved


@pytest.mark.parametrize(
    ("sizes", "broken"),
    [([30000, 30000], False), ([40000, 30000], True)],
    ids=["fits", "over"],
)
def test_check_flags_a_receiving_host_over_memory(sizes: list[int], broken: bool) -> None:
    vms = [make_vm(host="h1", memory_mib=m) for m in sizes]
    cluster = make_cluster([make_host("h1"), make_host("h2")], vms)
    placement = {v.uuid: "h2" for v in vms}
    found = MemoryCapacity().check(cluster, placement)
    assert bool(found) is broken
    if broken:
        assert found[0].host == "h2" and found[0].value == sum(sizes) and found[0].limit == 65536


def test_host_already_over_is_not_blamed_for_staying() -> None:
    vm = make_vm(host="h1", memory_mib=70000)
    cluster = make_cluster([make_host("h1")], [vm])
    assert MemoryCapacity().check(cluster, cluster.placement) == []


def test_solver_keeps_the_big_guest_off_the_small_host() -> None:
    hosts = [make_host("h1"), make_host("small", memory_mib=8192), make_host("big", memory_mib=131072)]
    big = make_vm("big-vm", host="h1", memory_mib=16384)
    others = [make_vm(host="h1", memory_mib=16384) for _ in range(2)]
    target = solved(make_cluster(hosts, [big, *others]))
    assert "small" not in {target.placement[v.uuid] for v in (big, *others)}
