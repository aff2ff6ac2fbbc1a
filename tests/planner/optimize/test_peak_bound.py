"""The lower bound on the peak: water filling, floors of load that cannot move, CPU classes."""

from __future__ import annotations

import numpy as np
import pytest

from planner.model import PlacementRule
from planner.optimize.candidates import classes
from planner.optimize.peak_bound import peak_bound, water_level
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm


@pytest.mark.parametrize(
    ("fixed", "caps", "movable", "floor", "level"),
    [
        ([0, 0], [100, 100], 100, True, 0.5),
        ([0, 0], [100, 300], 200, True, 0.5),
        ([80, 0], [100, 100], 40, True, 0.8),
        ([80, 0], [100, 100], 40, False, 0.4),
        ([0], [100], 0, True, 0.0),
    ],
    ids=["even", "sizes", "floor", "level-without-floor", "empty"],
)
def test_water_level(fixed: list[int], caps: list[int], movable: float, floor: bool, level: float) -> None:
    got = water_level(np.array(fixed, dtype=float), np.array(caps, dtype=float), movable, floor)
    assert got == pytest.approx(level, abs=1e-5)


def test_unmovable_guest_sets_the_floor_and_movable_load_sets_the_level() -> None:
    hosts = [make_host("h1", memory_mib=10240), make_host("h2", memory_mib=10240)]
    stuck = make_vm(host="h1", memory_mib=8192, migratable=False, cpu_millicores=0)
    free = make_vm(host="h1", memory_mib=2048, cpu_millicores=0)
    cluster = make_cluster(hosts, [stuck, free])
    got = peak_bound(cluster, ("h1", "h2"), {stuck.uuid: True})
    assert got["memory"] == pytest.approx(20.0, abs=0.01)  # the free 2 GiB fill h2 to 20%
    assert got["peak"] == pytest.approx(80.0, abs=0.01)


def test_guests_confined_to_new_hosts_raise_the_bound() -> None:
    hosts = [make_host(f"h{i}", memory_mib=10240) for i in range(4)]
    vms = [make_vm(host="h0", memory_mib=1024, cpu_millicores=0, cpu_signature="new") for _ in range(10)]
    cluster = make_cluster(hosts, vms, compatibility={"new": ("h0", "h1")})
    _, dests = classes(cluster, rules_for(cluster, Policy()))
    names = tuple(h.name for h in hosts)
    assert peak_bound(cluster, names, {})["peak"] == pytest.approx(25.0, abs=0.01)
    assert peak_bound(cluster, names, {}, dests=dests)["peak"] == pytest.approx(50.0, abs=0.01)


def test_a_guest_pinned_to_small_hosts_bounds_the_peak() -> None:
    hosts = [
        make_host("a", memory_mib=16384),
        make_host("b", memory_mib=16384),
        make_host("big", memory_mib=262144),
    ]
    pinned = make_vm("pinned", host="a", memory_mib=8192, cpu_millicores=0)
    rules = [PlacementRule("pin", "lic", vms=("pinned",), hosts=("a", "b"))]
    cluster = make_cluster(hosts, [pinned], rules)
    may_stay, dests = classes(cluster, rules_for(cluster, Policy()))
    got = peak_bound(cluster, ("a", "b", "big"), {}, dests=dests, may_stay=may_stay)
    assert got["peak"] == pytest.approx(50.0)
    assert got["memory"] < 5.0  # the level to balance towards is still the fill level
