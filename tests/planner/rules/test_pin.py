from __future__ import annotations

import pytest

from planner.model import PlacementRule
from planner.rules import Pin
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved

HOSTS = [make_host(n) for n in ("h1", "h2", "h3")]


@pytest.mark.parametrize(
    ("avoid", "where", "broken"),
    [(False, "h2", False), (False, "h3", True), (True, "h2", True), (True, "h3", False)],
    ids=["pin-kept", "pin-broken", "avoid-broken", "avoid-kept"],
)
def test_check(avoid: bool, where: str, broken: bool) -> None:
    vm = make_vm("app", host="h1")
    cluster = make_cluster(HOSTS, [vm])
    rule = Pin(rule="r", vms=frozenset({"app"}), hosts=frozenset({"h1", "h2"}), avoid=avoid)
    assert bool(rule.check(cluster, {vm.uuid: where})) is broken


@pytest.mark.parametrize("hard", [True, False], ids=["must", "should"])
def test_solver_moves_a_guest_onto_its_pinned_host(hard: bool) -> None:
    app = make_vm("app", host="h1", memory_mib=1024)
    filler = [make_vm(host="h1") for _ in range(3)]
    rules = [PlacementRule("pin", "lic", vms=("app",), hosts=("h3",), hard=hard, weight=50)]
    target = solved(make_cluster(HOSTS, [app, *filler], rules))
    assert target.placement[app.uuid] == "h3"


def test_solver_keeps_a_guest_off_avoided_hosts() -> None:
    vms = [make_vm(f"v{i}", host="h1") for i in range(6)]
    rules = [PlacementRule("avoid", "no-h2", vms=tuple(v.name for v in vms), hosts=("h2",))]
    target = solved(make_cluster(HOSTS, vms, rules))
    assert "h2" not in target.placement.values()
    assert "h3" in target.placement.values()
