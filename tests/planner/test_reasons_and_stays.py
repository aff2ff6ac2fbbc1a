"""Why each move is in the plan, and why guests stay, in words with numbers."""

from __future__ import annotations

from planner.load import host_loads
from planner.model import HostState
from planner.optimize.candidates import classes
from planner.optimize.stays import crowded_out, upfront_stays
from planner.policy import Policy
from planner.reasons import move_reasons
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm


def test_reasons_give_before_and_after_shares() -> None:
    a, b = (
        make_vm("a", host="h1", memory_mib=32768, cpu_millicores=0),
        make_vm("b", host="h1", memory_mib=16384, cpu_millicores=0),
    )
    cluster = make_cluster([make_host("h1"), make_host("h2")], [a, b])
    target = {a.uuid: "h2", b.uuid: "h1"}
    got = move_reasons(
        cluster, target, host_loads(cluster, cluster.placement), host_loads(cluster, target), ()
    )
    assert got == {
        a.uuid: "relieves h1 (CPU 0% -> 0%, memory 75% -> 25%); a is CPU 0%, memory 50% of h1; "
        "h2 goes from CPU 0%, memory 0% to CPU 0%, memory 50%"
    }
    evac = move_reasons(
        cluster, target, host_loads(cluster, cluster.placement), host_loads(cluster, target), ("h1",)
    )
    assert evac[a.uuid].startswith("leaves h1, which is being evacuated")


def test_a_move_off_a_host_that_ends_more_loaded_makes_room_there() -> None:
    big = make_vm("big", host="h1", memory_mib=32768, cpu_millicores=0)
    small = make_vm("small", host="h2", memory_mib=8192, cpu_millicores=0)
    cluster = make_cluster([make_host("h1"), make_host("h2"), make_host("h3")], [big, small])
    target = {big.uuid: "h2", small.uuid: "h3"}
    got = move_reasons(
        cluster, target, host_loads(cluster, cluster.placement), host_loads(cluster, target), ()
    )
    assert got[big.uuid].startswith("relieves h1 (")
    assert got[small.uuid].startswith(
        "makes room on h2 for guests moving in (CPU 0% -> 0%, memory 12% -> 50%)"
    )


def test_upfront_stays_cover_unmigratable_unreachable_incompatible_and_too_big() -> None:
    hosts = [
        make_host("h1"),
        make_host("h2", memory_mib=16384),
        make_host("gone", state=HostState.UNREACHABLE),
    ]
    vms = [
        make_vm("pinned-dev", host="h2", migratable=False, unmigratable_reason="vfio"),
        make_vm("unknown", host="gone"),
        make_vm("old-cpu", host="h1", cpu_signature="old"),
        make_vm("huge", host="h1", memory_mib=32768),
        make_vm("fine", host="h1", memory_mib=1024),
    ]
    cluster = make_cluster(hosts, vms, compatibility={"old": ("h1",), "x86-generic": ("h1", "h2", "gone")})
    policy = Policy(evacuate=("h1",))
    rules = rules_for(cluster, policy)
    stays = {s.vm_name: s for s in upfront_stays(cluster, policy.evacuate, rules, classes(cluster, rules)[1])}
    assert set(stays) == {"pinned-dev", "unknown", "old-cpu", "huge"}
    assert "vfio" in stays["pinned-dev"].reason
    assert "unreachable" in stays["unknown"].reason
    assert stays["old-cpu"].rule == "CpuCompatible" and not stays["old-cpu"].resolvable
    assert "the most free memory is 12288 MiB" in stays["huge"].reason and stays["huge"].resolvable


def test_crowded_out_lists_only_new_guests_left_on_evacuated_hosts() -> None:
    a, b = make_vm("a", host="h1"), make_vm("b", host="h1")
    cluster = make_cluster([make_host("h1"), make_host("h2")], [a, b])
    got = crowded_out(cluster, ("h1",), {a.uuid: "h2", b.uuid: "h1"}, ())
    assert [s.vm_name for s in got] == ["b"] and "no room left" in got[0].reason
