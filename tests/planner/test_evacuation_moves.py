"""An evacuation moves only what it must: guests of other hosts move only to make room the evacuated
hosts' guests need, and their reason names the guest that needed it (issue 9)."""

from __future__ import annotations

from planner.model import Cluster
from planner.pipeline import make_plan
from planner.plan import Plan
from planner.policy import Budgets, Policy
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


def _evacuate(cluster: Cluster, host: str) -> Plan:
    return make_plan(cluster, Policy(evacuate=(host,), time_limit_s=3), Budgets(), goal="evacuate")


def test_an_evacuation_leaves_an_uneven_rest_of_the_cluster_alone() -> None:
    """h1 is hot and h2 idle; emptying h3 moves h3's two guests and nothing of h1's."""
    hosts = [make_host(h, cpus=8, memory_mib=32 * GIB) for h in ("h1", "h2", "h3")]
    hot = [make_vm(f"hot{i}", "h1", memory_mib=6 * GIB, cpu_millicores=1500) for i in range(4)]
    mine = [make_vm(f"e{i}", "h3", memory_mib=2 * GIB, cpu_millicores=200) for i in range(2)]
    plan = _evacuate(make_cluster(hosts, [*hot, *mine]), "h3")
    assert sorted(m.vm_name for m in plan.migrations) == ["e0", "e1"]
    assert all(m.reason.startswith("leaves h3, which is being evacuated: h3 ") for m in plan.migrations)


def test_a_guest_of_another_host_moves_only_to_make_room_and_says_for_whom() -> None:
    """big (10 GiB) fits on h1 only once small (4 GiB) left it for h2; h2 cannot take big itself."""
    hosts = [make_host("h1", memory_mib=12 * GIB), make_host("h2", memory_mib=8 * GIB), make_host("h3")]
    big = make_vm("big", "h3", memory_mib=10 * GIB, cpu_millicores=0)
    small = make_vm("small", "h1", memory_mib=4 * GIB, cpu_millicores=0)
    plan = _evacuate(make_cluster(hosts, [big, small]), "h3")
    by_vm = {m.vm_name: m for m in plan.migrations}
    assert (by_vm["small"].destination, by_vm["big"].destination) == ("h2", "h1")
    assert by_vm["small"].reason.startswith(
        "makes room on h1 for big (from h3, which is being evacuated): h1 "
    )
    assert plan.stays == ()
