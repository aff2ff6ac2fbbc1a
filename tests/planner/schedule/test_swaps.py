"""Candidate hops up front: one guest of each pair swapped between hosts that lack room for them."""

from __future__ import annotations

import pytest

from planner.model import PlacementRule
from planner.policy import Policy
from planner.rules import rules_for
from planner.schedule.graph import Leg
from planner.schedule.swaps import swap_hops
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


@pytest.mark.parametrize(
    ("h2_gib", "spare", "rules", "hops"),
    [
        pytest.param(5, True, (), [("a", "h3")], id="the-smaller-guest-through-the-spare-host"),
        pytest.param(9, True, (), [], id="one-side-has-room-no-swap"),
        pytest.param(5, False, (), [], id="no-host-with-room"),
        pytest.param(
            5,
            True,
            (PlacementRule("avoid", "a-off-h3", ("a",), ("h3",)),),
            [("c", "h3")],
            id="the-other-guest-where-rules-keep-the-smaller-off",
        ),
    ],
)
def test_swap_hops(h2_gib: int, spare: bool, rules: tuple, hops: list[tuple[str, str]]) -> None:
    """a (3 GiB, h1) and c (4 GiB, h2) swap; h1 has 1 GiB free; h2 has `h2_gib` - 4; h3 is empty or full."""
    hosts = [
        make_host("h1", memory_mib=8 * GIB),
        make_host("h2", memory_mib=h2_gib * GIB),
        make_host("h3", memory_mib=8 * GIB),
    ]
    a, b = make_vm("a", "h1", memory_mib=3 * GIB), make_vm("b", "h1", memory_mib=4 * GIB)
    c = make_vm("c", "h2", memory_mib=4 * GIB)
    filler = [] if spare else [make_vm("f", "h3", memory_mib=8 * GIB)]
    cluster = make_cluster(hosts, [a, b, c, *filler], rules=rules)
    legs = [Leg(a, "h1", "h2"), Leg(c, "h2", "h1")]
    by_uuid = {vm.uuid: vm.name for vm in cluster.vms}
    assert [
        (by_uuid[uuid], via) for uuid, via in swap_hops(cluster, legs, {}, rules_for(cluster, Policy()))
    ] == hops
