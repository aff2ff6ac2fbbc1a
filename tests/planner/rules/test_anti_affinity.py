from __future__ import annotations

import pytest

from planner.model import PlacementRule
from planner.rules import AntiAffinity
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved

HOSTS = [make_host(n) for n in ("h1", "h2", "h3")]


@pytest.mark.parametrize(
    ("hosts", "broken"), [(("h1", "h2"), False), (("h2", "h2"), True)], ids=["apart", "shared"]
)
def test_check(hosts: tuple[str, str], broken: bool) -> None:
    a, b = make_vm("a", host="h1"), make_vm("b", host="h1")
    cluster = make_cluster(HOSTS, [a, b])
    found = AntiAffinity(rule="web", vms=("a", "b")).check(cluster, {a.uuid: hosts[0], b.uuid: hosts[1]})
    assert bool(found) is broken


@pytest.mark.parametrize("hard", [True, False], ids=["must", "should"])
def test_solver_spreads_the_group(hard: bool) -> None:
    web = [make_vm(f"web{i}", host="h1", memory_mib=512) for i in range(3)]
    rules = [PlacementRule("anti-affinity", "web", vms=tuple(v.name for v in web), hard=hard, weight=100)]
    target = solved(make_cluster(HOSTS, web, rules))
    assert len({target.placement[v.uuid] for v in web}) == 3
