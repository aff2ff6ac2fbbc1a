from __future__ import annotations

from planner.model import HostState
from planner.rules import Unmigratable
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved


def test_check_flags_a_moved_unmigratable_guest() -> None:
    vm = make_vm(host="h1", migratable=False, unmigratable_reason="vfio device")
    cluster = make_cluster([make_host("h1"), make_host("h2")], [vm])
    [broken] = Unmigratable().check(cluster, {vm.uuid: "h2"})
    assert "vfio device" in broken.message


def test_guests_of_unreachable_hosts_stay() -> None:
    vm = make_vm(host="gone")
    cluster = make_cluster([make_host("gone", state=HostState.UNREACHABLE), make_host("h2")], [vm])
    assert Unmigratable().check(cluster, {vm.uuid: "h2"})


def test_solver_moves_the_others() -> None:
    stuck = [make_vm(host="h1", migratable=False) for _ in range(3)]
    free = [make_vm(host="h1") for _ in range(3)]
    target = solved(make_cluster([make_host("h1"), make_host("h2")], stuck + free))
    assert all(target.placement[v.uuid] == "h1" for v in stuck)
    assert {s.vm_uuid for s in target.stays} == {v.uuid for v in stuck}
    assert sum(target.placement[v.uuid] == "h2" for v in free) == 3
