"""Saying "no" with data: which hard rules clash, and why a guest on an evacuated host stays."""

from __future__ import annotations

from typing import Any

import pytest

from planner.errors import InfeasibleError
from planner.model import HostState, PlacementRule
from planner.optimize.optimizer import optimize
from planner.policy import Policy
from tests.builders import make_cluster, make_host, make_vm

FAST: dict[str, Any] = {"time_limit_s": 1.0, "workers": 2}


@pytest.mark.parametrize(
    ("hosts", "vms", "rules", "policy", "words"),
    [
        (
            [make_host("h1"), make_host("h2", state=HostState.MAINTENANCE)],
            [make_vm("db", host="h1")],
            [PlacementRule("pin", "db-on-h2", vms=("db",), hosts=("h2",))],
            {},
            ["db has nowhere to run", "Pin(db-on-h2)", "ClosedHosts rules out 1 of 1 other hosts"],
        ),
        (
            [make_host("h1"), make_host("h2")],
            [make_vm("a", host="h1")],
            [],
            {"evacuate": ("h1",), "max_migrations": 0},
            ["every guest that can leave h1 does", "at most 0 migrations"],
        ),
        (
            [make_host("h1"), make_host("h2")],
            [make_vm(f"w{i}", host=f"h{1 + i % 2}") for i in range(3)],
            [PlacementRule("anti-affinity", "web", vms=("w0", "w1", "w2"))],
            {},
            ["w0, w1, w2 must run on different hosts (rule web)"],
        ),
    ],
    ids=["pinned-to-closed-host", "evacuation-over-budget", "anti-affinity-more-guests-than-hosts"],
)
def test_infeasible_names_every_clashing_rule(
    hosts: list[Any], vms: list[Any], rules: list[PlacementRule], policy: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(InfeasibleError) as err:
        optimize(make_cluster(hosts, vms, rules), Policy(**FAST, **policy))
    text = "; ".join(err.value.conflicts)
    assert all(w in text for w in words), text
    assert str(err.value).startswith("the hard rules cannot all hold: ")


def test_evacuated_guest_with_no_compatible_host_stays_under_cpu_compatible() -> None:
    hosts = [make_host("h1"), make_host("h2")]
    vm = make_vm("odd", host="h1", cpu_signature="odd")
    cluster = make_cluster(hosts, [vm], compatibility={"odd": ("h1",)})
    target = optimize(cluster, Policy(**FAST, evacuate=("h1",)))
    (stay,) = target.stays
    assert (stay.vm_name, stay.host, stay.rule) == ("odd", "h1", "CpuCompatible")
    assert "CpuCompatible rules out 1 of 1 other hosts" in stay.reason


@pytest.mark.parametrize(
    ("hosts", "vms", "rules", "cause", "rule", "resolvable"),
    [
        (
            [make_host("h1"), make_host("h2", memory_mib=8192)],
            [make_vm("lonely", host="h1"), make_vm("hog", host="h2", memory_mib=16384)],
            [],
            "hosts are already over capacity",
            "MemoryCapacity",
            True,
        ),
        (
            [make_host("h1"), make_host("h2")],
            [make_vm("db", host="h1")],
            [PlacementRule("pin", "db-on-h1", vms=("db",), hosts=("h1",))],
            "Pin(db-on-h1)",
            "Pin",
            False,
        ),
        (
            [make_host("h1"), make_host("h2", state=HostState.MAINTENANCE)],
            [make_vm("web", host="h1")],
            [],
            "ClosedHosts rules out 1 of 1 other hosts",
            "ClosedHosts",
            False,
        ),
    ],
    ids=["only-host-over-capacity", "pinned-to-evacuated-host", "only-other-host-in-maintenance"],
)
def test_evacuation_stay_names_the_rule_that_blocks_it(
    hosts: list[Any], vms: list[Any], rules: list[PlacementRule], cause: str, rule: str, resolvable: bool
) -> None:
    target = optimize(make_cluster(hosts, vms, rules), Policy(**FAST, evacuate=("h1",)))
    (stay,) = target.stays
    assert cause in stay.reason
    assert (stay.rule, stay.resolvable) == (rule, resolvable)
