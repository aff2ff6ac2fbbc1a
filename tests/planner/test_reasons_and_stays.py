"""Why each move is in the plan (its own effect on its two hosts), and why guests stay, in words with numbers."""

from __future__ import annotations

from planner.model import Cluster, HostState
from planner.optimize.candidates import classes
from planner.optimize.stays import crowded_out, upfront_stays
from planner.policy import Budgets, Policy
from planner.reasons import explain, move_reasons
from planner.rules import rules_for
from planner.schedule import schedule
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


def _explained(cluster: Cluster, target: dict[str, str], evacuate: tuple[str, ...] = ()) -> dict[str, str]:
    timed = schedule(cluster, target, move_reasons(cluster, target, evacuate), Budgets())
    return {m.vm_name + "~" * m.temporary: m.reason for m in explain(cluster, timed.migrations, evacuate)}


def test_a_reason_states_the_moves_own_effect_on_its_two_hosts() -> None:
    a = make_vm("a", host="h1", memory_mib=32768, cpu_millicores=0)
    b = make_vm("b", host="h1", memory_mib=16384, cpu_millicores=0)
    c = make_vm("c", host="h3", memory_mib=16384, cpu_millicores=0)
    cluster = make_cluster([make_host("h1"), make_host("h2"), make_host("h3")], [a, b, c])
    assert _explained(cluster, {a.uuid: "h2", c.uuid: "h2"}) == {
        "a": "relieves h1: h1 CPU 0% -> 0%, memory 75% -> 25%; h2 CPU 0% -> 0%, memory 0% -> 50%",
        "c": "relieves h3: h3 CPU 0% -> 0%, memory 25% -> 0%; h2 CPU 0% -> 0%, memory 50% -> 75%",
    }
    assert _explained(cluster, {a.uuid: "h2"}, ("h1",))["a"].startswith(
        "leaves h1, which is being evacuated: h1 "
    )


def _chain() -> tuple[Cluster, dict[str, str]]:
    """big (6 GiB, h1) goes to h2, where small (6 GiB) must leave first, to h3 (8 GiB hosts)."""
    big = make_vm("big", host="h1", memory_mib=6 * GIB, cpu_millicores=0)
    small = make_vm("small", host="h2", memory_mib=6 * GIB, cpu_millicores=0)
    hosts = [make_host(h, memory_mib=8 * GIB) for h in ("h1", "h2", "h3")]
    return make_cluster(hosts, [big, small]), {big.uuid: "h2", small.uuid: "h3"}


def test_a_move_an_arrival_waits_for_makes_room_and_names_the_guest() -> None:
    cluster, target = _chain()
    got = _explained(cluster, target)
    assert (
        got["small"]
        == "makes room on h2 for big (from h1): h2 CPU 0% -> 0%, memory 75% -> 0%; h3 CPU 0% -> 0%, memory 0% -> 75%"
    )
    assert got["big"] == "relieves h1: h1 CPU 0% -> 0%, memory 75% -> 0%; h2 CPU 0% -> 0%, memory 0% -> 75%"
    assert _explained(cluster, target, ("h1",))["small"].startswith(
        "makes room on h2 for big (from h1, which is being evacuated): "
    )


def test_a_temporary_hop_says_where_its_guest_goes_next() -> None:
    a = make_vm("a", "h1", memory_mib=6 * GIB, cpu_millicores=0)
    b = make_vm("b", "h2", memory_mib=7 * GIB, cpu_millicores=0)
    cluster = make_cluster([make_host(h, memory_mib=8 * GIB) for h in ("h1", "h2", "h3")], [a, b])
    got = _explained(cluster, {a.uuid: "h2", b.uuid: "h1"})
    assert got["a~"].startswith("temporary hop to free a cycle, then on to h2; relieves h1: h1 ")
    assert got["b"].startswith("makes room on h2 for a (from h1): h2 ")
    assert got["a"].startswith("on from its temporary hop through h3; relieves h1: h3 ")


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


def test_a_move_off_a_host_the_plan_fills_balances_it_and_names_who_arrives() -> None:
    # busy (CPU) goes from h1 to h2; h2's own small guest goes on to h3: h2 is not relieved, it is
    # evened out against busy's arrival (no arrival waits: there was room).
    busy = make_vm("busy", host="h1", memory_mib=GIB, cpu_millicores=8000)
    other = make_vm("other", host="h1", memory_mib=GIB, cpu_millicores=8000)
    small = make_vm("small", host="h2", memory_mib=GIB, cpu_millicores=2000)
    hosts = [make_host(h, memory_mib=64 * GIB) for h in ("h1", "h2", "h3")]
    cluster = make_cluster(hosts, [busy, other, small])
    got = _explained(cluster, {busy.uuid: "h2", small.uuid: "h3"})
    assert got["small"].startswith("balances h2, which takes busy (from h1): h2 CPU ")
    assert got["busy"].startswith("relieves h1: h1 CPU ")


def test_a_reason_names_three_arrivals_then_how_many_more() -> None:
    guests = [make_vm(f"g{i}", host="h1", memory_mib=GIB, cpu_millicores=0) for i in range(5)]
    leaving = make_vm("leaving", host="h2", memory_mib=GIB, cpu_millicores=0)
    hosts = [make_host(h, memory_mib=64 * GIB) for h in ("h1", "h2", "h3")]
    cluster = make_cluster(hosts, [*guests, leaving])
    got = _explained(cluster, {**{g.uuid: "h2" for g in guests}, leaving.uuid: "h3"})
    assert got["leaving"].startswith("balances h2, which takes g")
    assert " and 2 more: h2 " in got["leaving"]
