from __future__ import annotations

import pytest

from planner.rules import CpuCapacity
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved


@pytest.mark.parametrize(
    ("vcpus", "millicores", "unit"),
    [(40, 100, "vCPUs"), (2, 7000, "millicores")],
    ids=["vcpu-overcommit", "cpu-ceiling"],
)
def test_check_flags_vcpus_and_measured_cpu(vcpus: int, millicores: int, unit: str) -> None:
    # h2: 4 CPUs x 4 = 16 vCPUs; 4000 x 85% = 3400 millicores.
    vm = make_vm(host="h1", vcpus=vcpus, cpu_millicores=millicores)
    cluster = make_cluster([make_host("h1", cpus=64), make_host("h2", cpus=4)], [vm])
    found = CpuCapacity().check(cluster, {vm.uuid: "h2"})
    assert [v.unit for v in found] == [unit]


def test_solver_respects_the_cpu_ceiling() -> None:
    hosts = [make_host("h1", cpus=8), make_host("tiny", cpus=2), make_host("h3", cpus=8)]
    vms = [make_vm(host="h1", cpu_millicores=1800, memory_mib=1024) for _ in range(3)]
    target = solved(make_cluster(hosts, vms))
    on_tiny = [v for v in vms if target.placement[v.uuid] == "tiny"]
    assert sum(v.cpu_millicores for v in on_tiny) <= 1700
    assert target.reasons
