"""planner.recheck: an earlier plan laid over the live cluster, as a table of what changed since."""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner.model import Cluster, HostState, PlacementRule, VmState
from planner.policy import Policy
from planner.recheck import still_holds
from tests.virt_rebalance.sample import plan_for, sample_cluster

MOVES = [("web-1", "h2"), ("db-1", "h3")]


def _vm(cluster: Cluster, name: str, **changes: object) -> Cluster:
    vms = tuple(replace(v, **changes) if v.name == name else v for v in cluster.vms)  # type: ignore[arg-type]
    return replace(cluster, vms=vms)


def _host(cluster: Cluster, name: str, **changes: object) -> Cluster:
    hosts = tuple(replace(h, **changes) if h.name == name else h for h in cluster.hosts)  # type: ignore[arg-type]
    return replace(cluster, hosts=hosts)


def test_an_unchanged_cluster_holds() -> None:
    cluster = sample_cluster()
    assert still_holds(plan_for(cluster, MOVES), cluster, Policy()) == ()


def test_a_new_guest_elsewhere_does_not_matter() -> None:
    cluster = sample_cluster()
    plan = plan_for(cluster, MOVES)
    extra = replace(cluster.vms[-1], uuid="u-new", name="new", host="h3", memory_mib=512)
    assert still_holds(plan, replace(cluster, vms=(*cluster.vms, extra)), Policy()) == ()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda c: _vm(c, "web-1", host="h3"), "web-1 is on h3 now, not on h1 as planned"),
        (lambda c: replace(c, vms=tuple(v for v in c.vms if v.name != "db-1")), "db-1 is gone"),
        (lambda c: _vm(c, "web-1", state=VmState.SHUTOFF), "web-1 is shutoff now, not running"),
        (
            lambda c: _vm(c, "web-1", migratable=False, unmigratable_reason="PCI device passed through"),
            "web-1 cannot be migrated now: PCI device passed through",
        ),
        (lambda c: _host(c, "h2", state=HostState.MAINTENANCE), "h2 takes no guests now (maintenance)"),
        (lambda c: replace(c, hosts=c.hosts[:2]), "h3 is no longer among the hosts"),
        (
            lambda c: replace(c, rules=(PlacementRule("pin", "db-stays", ("db-1",), ("h1",)),)),
            "db-stays",
        ),
        (lambda c: _host(c, "h3", memory_mib=4096, reserved_memory_mib=0), "memory"),
    ],
    ids=["moved", "gone", "stopped", "unmigratable", "maintenance", "host-gone", "new-pin", "no-room"],
)
def test_what_no_longer_holds_is_named(change, words: str) -> None:
    cluster = sample_cluster()
    plan = plan_for(cluster, MOVES)
    reasons = still_holds(plan, change(cluster), Policy())
    assert reasons, "the plan should no longer hold"
    assert any(words in r for r in reasons), reasons


def test_a_rule_broken_before_the_plan_is_not_its_fault() -> None:
    """web-2 already breaks a pin to h3 (it cannot be helped by this plan); the plan still holds."""
    cluster = sample_cluster()
    plan = plan_for(cluster, MOVES)
    live = replace(cluster, rules=(PlacementRule("pin", "web-2-on-h3", ("web-2",), ("h3",)),))
    assert still_holds(plan, live, Policy()) == ()
