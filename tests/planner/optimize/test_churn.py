"""Anti-churn: moves not worth their cost go home."""

from __future__ import annotations

import pytest

from planner.optimize.churn import trim
from tests.builders import make_cluster, make_host, make_vm

HOSTS = [make_host("h1"), make_host("h2"), make_host("h3")]


@pytest.mark.parametrize(
    ("cost", "home"), [(100.0, True), (0.1, False)], ids=["dear-move-undone", "cheap-move-kept"]
)
def test_a_move_goes_home_when_it_costs_more_than_the_imbalance_it_saves(cost: float, home: bool) -> None:
    # h3 holds the peak (50%); sending `a` home raises h1 from 12.5% to 25%, below that peak.
    a, b = (make_vm(host="h1", memory_mib=8192, cpu_millicores=0) for _ in range(2))
    anchor = make_vm(host="h3", memory_mib=32768, cpu_millicores=0, migratable=False)
    cluster = make_cluster(HOSTS, [a, b, anchor])
    placement = {a.uuid: "h2", b.uuid: "h1", anchor.uuid: "h3"}
    costs = {a.uuid: cost, b.uuid: cost, anchor.uuid: cost}
    got, undone = trim(
        cluster,
        placement,
        {"h1", "h2", "h3"},
        dict.fromkeys(costs, True),
        {"cpu": 0.0, "memory": 12.5},
        costs,
        (1, 1),
    )
    assert (got[a.uuid] == "h1") is home
    assert undone == int(home)


@pytest.mark.parametrize("case", ["above-peak", "may-not-stay"])
def test_nothing_goes_home_above_the_peak_or_where_it_may_not_stay(case: str) -> None:
    a = make_vm(host="h1", memory_mib=16384, cpu_millicores=0)
    rest = make_vm(host="h1", memory_mib=32768, cpu_millicores=0)
    cluster = make_cluster(HOSTS, [a, rest])
    placement = {a.uuid: "h2", rest.uuid: "h1"}
    costs = {a.uuid: 100.0, rest.uuid: 100.0}
    may_stay = {a.uuid: case != "may-not-stay", rest.uuid: True}
    if case == "may-not-stay":
        placement[rest.uuid] = "h3"  # h1 is then empty: only the rule keeps `a` away
    got, _ = trim(cluster, placement, {"h1", "h2", "h3"}, may_stay, {"memory": 25.0}, costs, (1, 1))
    assert got[a.uuid] == "h2"
