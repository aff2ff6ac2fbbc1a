"""StorageCapacity: a host takes guests with local disks only while their copies fit its free storage."""

from __future__ import annotations

import pytest

from planner.model import Disk
from planner.pipeline import make_plan
from planner.policy import Budgets, Policy
from planner.rules import StorageCapacity, rules_for
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved


def local(mib: int, target: str = "vda") -> tuple[Disk, ...]:
    return (Disk(target, f"/var/lib/libvirt/images/{target}.qcow2", False, "qcow2", 4 * mib, mib),)


def shared(mib: int) -> tuple[Disk, ...]:
    return (Disk("vda", "nbd://10.0.0.2:10809/g", True, "raw", 4 * mib, mib),)


def storage_host(name: str, free: int | None, reserve: int = 0, **kw: object) -> object:
    return make_host(name, storage_free_mib=free, reserved_storage_mib=reserve, **kw)


@pytest.mark.parametrize(
    ("disks", "free", "reserve", "broken"),
    [
        ([1000, 1000], 3000, 0, False),
        ([1000, 1000], 3000, 1500, True),
        ([2000, 2000], 3000, 0, True),
        ([1000], None, 0, True),
    ],
    ids=["fits", "reserve", "together-too-big", "unknown-storage"],
)
def test_check_flags_a_host_receiving_more_disk_than_it_has_free(
    disks: list[int], free: int | None, reserve: int, broken: bool
) -> None:
    vms = [make_vm(host="h1", disks=local(m)) for m in disks]
    cluster = make_cluster([storage_host("h1", 10**6), storage_host("h2", free, reserve)], vms)
    found = StorageCapacity().check(cluster, {v.uuid: "h2" for v in vms})
    assert bool(found) is broken
    if broken:
        assert {v.rule for v in found} == {"StorageCapacity"} and {v.host for v in found} == {"h2"}


def test_guests_without_local_disks_and_staying_guests_are_not_concerned() -> None:
    vms = [make_vm(host="h1", disks=shared(5000)), make_vm(host="h1"), make_vm(host="h2", disks=local(9000))]
    cluster = make_cluster([storage_host("h1", 0), storage_host("h2", 0)], vms)
    assert StorageCapacity().check(cluster, {vms[0].uuid: "h2", vms[1].uuid: "h2", vms[2].uuid: "h2"}) == []
    assert StorageCapacity.instances(make_cluster([make_host("h1")], vms[:2]), Policy()) == ()
    assert any(isinstance(r, StorageCapacity) for r in rules_for(cluster, Policy()))


def test_barred_alone_and_named() -> None:
    vm = make_vm("db", host="h1", disks=local(2000))
    cluster = make_cluster(
        [storage_host("h1", 0), storage_host("small", 1000), storage_host("big", 5000)], [vm]
    )
    rule = StorageCapacity()
    assert rule.barred(cluster, vm) == frozenset({"h1", "small"})
    assert rule.permits(cluster, vm, "h1")  # staying copies nothing
    assert "small has 1000 MiB of storage free; db's local disks need 2000 MiB" in rule.why_not(
        cluster, vm, "small"
    )


def test_solver_puts_the_disks_where_they_fit_together() -> None:
    hosts = [
        storage_host("h1", 0, memory_mib=16384),
        storage_host("a", 2500, memory_mib=65536),
        storage_host("b", 2500, memory_mib=65536),
    ]
    vms = [make_vm(host="h1", memory_mib=6000, disks=local(2000)) for _ in range(2)]
    target = solved(
        make_cluster(hosts, vms), Policy(time_limit_s=2.0, min_improvement_pct=0.0, evacuate=("h1",))
    )
    assert sorted(target.placement[v.uuid] for v in vms) == ["a", "b"]


def test_evacuation_without_room_names_the_storage_rule() -> None:
    hosts = [storage_host("h1", 0), storage_host("h2", 100)]
    vm = make_vm("db", host="h1", disks=local(2000))
    small = make_vm("web", host="h1", disks=shared(2000))
    plan = make_plan(
        make_cluster(hosts, [vm, small]), Policy(time_limit_s=2.0, evacuate=("h1",)), Budgets(), "evacuate"
    )
    assert [(s.vm_name, s.rule) for s in plan.stays] == [("db", "StorageCapacity")]
    assert "StorageCapacity rules out 1 of 1 other hosts" in plan.stays[0].reason
    (move,) = plan.migrations
    assert (move.vm_name, move.disks, move.disk_mib) == ("web", (), 0)


def test_a_copied_disk_travels_in_the_plan_and_costs_time() -> None:
    hosts = [storage_host("h1", 0, nic_mibps=100), storage_host("h2", 5000, nic_mibps=100)]
    with_disk = make_vm("db", host="h1", memory_mib=1024, memory_used_mib=1024, disks=local(2048))
    plain = make_vm("app", host="h1", memory_mib=1024, memory_used_mib=1024)
    plan = make_plan(
        make_cluster(hosts, [with_disk, plain]),
        Policy(time_limit_s=2.0, evacuate=("h1",)),
        Budgets(),
        "evacuate",
    )
    by = {m.vm_name: m for m in plan.migrations}
    assert (by["db"].disks, by["db"].disk_mib) == (("vda",), 2048)
    assert by["db"].estimated_mib >= by["app"].estimated_mib + 2048
    assert by["db"].estimated_s >= by["app"].estimated_s + 2048 / 100 - 0.01
    assert plan.disk_copied_mib == 2048
    assert (
        plan.makespan_lower_bound_s >= (2048 + 2048) / 100 - 0.01
    )  # h1's NIC sends both guests and the disk


def test_a_guest_with_local_disks_takes_no_temporary_hop() -> None:
    from planner.rules.rule import Hop

    db, app = make_vm("db", host="h1", disks=local(10)), make_vm("app", host="h1")
    cluster = make_cluster([storage_host("h1", 0), storage_host("h2", 10**6)], [db, app])
    hop = Hop(vm=db, via="h2", now=cluster.placement, then=cluster.placement, migrations=1, moved_mib=0)
    (found,) = StorageCapacity().check_hop(cluster, hop)
    assert (found.rule, found.vm, found.host) == ("StorageCapacity", "db", "h2")
    assert (
        StorageCapacity().check_hop(cluster, Hop(app, "h2", cluster.placement, cluster.placement, 1, 0)) == []
    )
