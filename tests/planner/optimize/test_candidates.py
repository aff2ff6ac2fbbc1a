"""Candidate hosts: the domains unary rules allow, why a guest is stuck, and restriction for scale."""

from __future__ import annotations

from planner.model import HostState
from planner.optimize.candidates import classes, domains, restrict, why_stuck
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm

HOSTS = [make_host("h1"), make_host("h2"), make_host("h3", state=HostState.MAINTENANCE), make_host("h4")]


def test_domains_apply_every_unary_rule_and_put_the_current_host_first() -> None:
    plain = make_vm("plain", host="h2")
    new = make_vm("new", host="h4", cpu_signature="new")
    stuck = make_vm("stuck", host="h1", migratable=False)
    cluster = make_cluster(
        HOSTS,
        [plain, new, stuck],
        compatibility={"x86-generic": ("h1", "h2", "h3", "h4"), "new": ("h1", "h4")},
    )
    got = domains(cluster, rules_for(cluster, Policy(exclude=("h1",))))
    assert got[plain.uuid] == ("h2", "h4")
    assert got[new.uuid] == ("h4",)
    assert got[stuck.uuid] == ("h1",)


def test_evacuated_host_is_no_home_and_shared_classes_share_one_tuple() -> None:
    a, b = make_vm(host="h1"), make_vm(host="h2")
    cluster = make_cluster(HOSTS, [a, b])
    rules = rules_for(cluster, Policy(evacuate=("h1",)))
    may_stay, dests = classes(cluster, rules)
    assert (may_stay[a.uuid], may_stay[b.uuid]) == (False, True)
    assert dests[a.uuid] is dests[b.uuid] == ("h2", "h4")


def test_a_host_already_over_capacity_receives_nothing() -> None:
    hog = make_vm(host="h2", memory_mib=70000)
    guest = make_vm(host="h1")
    cluster = make_cluster(HOSTS, [hog, guest])
    assert domains(cluster, rules_for(cluster, Policy()))[guest.uuid] == ("h1", "h4")


def test_why_stuck_names_the_rules_and_counts_hosts() -> None:
    vm = make_vm("lonely", host="h1", cpu_signature="odd")
    cluster = make_cluster(HOSTS, [vm], compatibility={"odd": ("h1",)})
    text = why_stuck(cluster, rules_for(cluster, Policy(evacuate=("h1",))), vm)
    assert text.startswith("lonely has nowhere to run: Evacuate:")
    assert "CpuCompatible rules out 3 of 3 other hosts" in text


def test_restrict_keeps_home_hint_and_k_cool_hosts_for_movers_only() -> None:
    hosts = [make_host(f"h{i}") for i in range(12)]
    mover, sitter = make_vm(host="h0"), make_vm(host="h1")
    cluster = make_cluster(hosts, [mover, sitter])
    full = domains(cluster, rules_for(cluster, Policy()))
    coolness = {h.name: -i for i, h in enumerate(hosts)}
    got = restrict(cluster, full, {mover.uuid}, {mover.uuid: "h11", sitter.uuid: "h1"}, coolness, k=3)
    assert got[sitter.uuid] == ("h1",)
    assert {"h0", "h11"} <= set(got[mover.uuid]) and len(got[mover.uuid]) <= 5
