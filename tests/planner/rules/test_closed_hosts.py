from __future__ import annotations

import pytest

from planner.model import HostState
from planner.policy import Policy
from planner.rules import ClosedHosts
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved


@pytest.mark.parametrize("state", [HostState.MAINTENANCE, HostState.UNREACHABLE], ids=str)
def test_check_flags_a_guest_sent_to_a_closed_host(state: HostState) -> None:
    vm = make_vm(host="h1")
    cluster = make_cluster([make_host("h1"), make_host("h2", state=state)], [vm])
    [broken] = ClosedHosts().check(cluster, {vm.uuid: "h2"})
    assert state.value in broken.message


def test_guests_may_stay_on_a_closed_host() -> None:
    vm = make_vm(host="h1")
    cluster = make_cluster([make_host("h1", state=HostState.MAINTENANCE)], [vm])
    assert ClosedHosts().check(cluster, cluster.placement) == []


def test_solver_sends_nothing_to_excluded_or_maintenance_hosts() -> None:
    hosts = [make_host("h1"), make_host("ex"), make_host("mt", state=HostState.MAINTENANCE), make_host("h4")]
    vms = [make_vm(host="h1") for _ in range(6)]
    target = solved(
        make_cluster(hosts, vms), Policy(time_limit_s=2.0, min_improvement_pct=0, exclude=("ex",))
    )
    assert {target.placement[v.uuid] for v in vms} == {"h1", "h4"}
