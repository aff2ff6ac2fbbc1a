from __future__ import annotations

from planner.rules import CpuCompatible
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved

COMPAT = {"new": ("h1", "h3"), "x86-generic": ("h1", "h2", "h3")}


def test_check_flags_an_incompatible_destination() -> None:
    vm = make_vm("n", host="h1", cpu_signature="new")
    cluster = make_cluster([make_host(n) for n in ("h1", "h2", "h3")], [vm], compatibility=COMPAT)
    assert CpuCompatible().check(cluster, {vm.uuid: "h3"}) == []
    [broken] = CpuCompatible().check(cluster, {vm.uuid: "h2"})
    assert broken.host == "h2" and not broken.resolvable


def test_solver_sends_new_cpu_guests_only_to_new_hosts() -> None:
    vms = [make_vm(host="h1", cpu_signature="new") for _ in range(4)]
    cluster = make_cluster([make_host(n) for n in ("h1", "h2", "h3")], vms, compatibility=COMPAT)
    target = solved(cluster)
    assert {target.placement[v.uuid] for v in vms} == {"h1", "h3"}
