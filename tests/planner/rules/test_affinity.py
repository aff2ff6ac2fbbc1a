from __future__ import annotations

import pytest

from planner.model import PlacementRule
from planner.rules import Affinity
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved

HOSTS = [make_host(n) for n in ("h1", "h2", "h3")]


@pytest.mark.parametrize(
    ("hosts", "broken"), [(("h2", "h2"), False), (("h2", "h3"), True)], ids=["together", "apart"]
)
def test_check(hosts: tuple[str, str], broken: bool) -> None:
    a, b = make_vm("a", host="h1"), make_vm("b", host="h1")
    cluster = make_cluster(HOSTS, [a, b])
    found = Affinity(rule="db", vms=("a", "b")).check(cluster, {a.uuid: hosts[0], b.uuid: hosts[1]})
    assert bool(found) is broken


@pytest.mark.parametrize("hard", [True, False], ids=["must", "should"])
def test_solver_keeps_the_pair_together(hard: bool) -> None:
    a, b = make_vm("a", host="h1"), make_vm("b", host="h1")
    filler = [make_vm(host="h1") for _ in range(4)]
    rules = [PlacementRule("affinity", "db", vms=("a", "b"), hard=hard, weight=100)]
    target = solved(make_cluster(HOSTS, [a, b, *filler], rules))
    assert target.placement[a.uuid] == target.placement[b.uuid]
    assert target.reasons
