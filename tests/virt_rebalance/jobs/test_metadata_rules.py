"""Guests' own rules from <metadata> merged with the config's (the config wins, and says so)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.model import Cluster, GuestRules, PlacementRule
from tests.virt_rebalance.fakes import write_config
from tests.virt_rebalance.sample import sample_cluster
from virt_rebalance.config import Config, load_config
from virt_rebalance.jobs import guest_rules
from virt_rebalance.jobs.metadata_rules import merge


def _cluster(**carried: GuestRules) -> Cluster:
    """The sample cluster with h2 in host group "fast", the config's rules, and guests' metadata rules."""
    cluster = sample_cluster()
    hosts = tuple(replace(h, groups=("fast",)) if h.name == "h2" else h for h in cluster.hosts)
    vms = tuple(replace(v, rules=carried.get(v.name.replace("-", "_"))) for v in cluster.vms)
    return replace(cluster, hosts=hosts, vms=vms)


def _resolve(tmp_path, cluster: Cluster, rules: str = "") -> Cluster:
    config = load_config(write_config(tmp_path, extra=rules))
    return guest_rules.resolve(config, replace(cluster, rules=config.placement_rules()))


def _by_name(cluster: Cluster) -> dict[str, PlacementRule]:
    return {r.name: r for r in cluster.rules}


@pytest.mark.parametrize(
    ("carried", "name", "expected"),
    [
        (GuestRules(ignore=True), "metadata ignore: web-1", PlacementRule("pin", "", ("web-1",), ("h1",))),
        (
            GuestRules(pin=("fast",)),
            "metadata pin web-1: fast",
            PlacementRule("pin", "", ("web-1",), ("h2",)),
        ),
        (
            GuestRules(pin=("fast", "nowhere")),
            "metadata pin web-1: fast, nowhere",
            PlacementRule("pin", "", ("web-1",), ("h2",)),
        ),
        (
            GuestRules(pin=("nowhere",)),
            "metadata pin to no known host group: web-1",
            PlacementRule("pin", "", ("web-1",), ("h1",)),
        ),
        (
            GuestRules(problems=("unknown element <move-me>",)),
            "unreadable metadata: web-1",
            PlacementRule("pin", "", ("web-1",), ("h1",)),
        ),
    ],
    ids=["ignore-stays", "pin-group", "pin-some-unknown", "pin-only-unknown-stays", "unreadable-stays"],
)
def test_where_a_guest_may_run(tmp_path, capsys, carried: GuestRules, name: str, expected) -> None:
    rules = _by_name(_resolve(tmp_path, _cluster(web_1=carried)))
    assert replace(rules[name], name="") == expected
    if carried.problems or "nowhere" in carried.pin:
        assert "web-1: " in capsys.readouterr().err


def test_affinity_groups_form_rules_named_after_them(tmp_path) -> None:
    cluster = _cluster(
        web_1=GuestRules(anti_affinity=("web",)),
        web_2=GuestRules(anti_affinity=("web",), affinity=("pair",)),
        db_1=GuestRules(affinity=("pair",)),
    )
    rules = _by_name(_resolve(tmp_path, cluster))
    assert rules["web"] == PlacementRule("anti-affinity", "web", ("web-1", "web-2"))
    assert rules["pair"] == PlacementRule("affinity", "pair", ("web-2", "db-1"))


def test_a_guest_joins_the_config_rule_of_its_group(tmp_path) -> None:
    config_rule = (
        '[[rules]]\nkind = "anti-affinity"\nname = "web"\nvms = ["web-1"]\nhard = false\nweight = 7\n'
    )
    rules = _by_name(_resolve(tmp_path, _cluster(web_2=GuestRules(anti_affinity=("web",))), config_rule))
    assert rules["web"] == PlacementRule("anti-affinity", "web", ("web-1", "web-2"), (), False, 7)


def test_the_config_wins_on_conflicts(tmp_path, capsys) -> None:
    config_rules = (
        '[[rules]]\nkind = "pin"\nname = "web-home"\nvms = ["web-*"]\nhosts = ["h3"]\n'
        '[[rules]]\nkind = "affinity"\nname = "web"\nvms = ["db-1", "batch"]\n'
    )
    cluster = _cluster(web_1=GuestRules(ignore=True), web_2=GuestRules(pin=("fast",), anti_affinity=("web",)))
    rules = _by_name(_resolve(tmp_path, cluster, config_rules))
    assert rules["web-home"].hosts == ("h3",)
    assert not any(n.startswith("metadata") for n in rules), rules
    assert rules["web"].vms == ("db-1", "batch")
    err = capsys.readouterr().err
    assert "web-1: the config's rule 'web-home' decides where it runs; its metadata ignore is not used" in err
    assert "web-2: the config's rule 'web-home' decides where it runs; its metadata pin is not used" in err
    assert "web-2: its metadata puts it in anti-affinity group 'web', but rule 'web' is affinity" in err


def test_metadata_rules_are_honoured_by_a_plan(tmp_path) -> None:
    """web-1 (busy, on the hot h1) is ignored by its metadata: the plan moves other guests, never it."""
    from planner.pipeline import make_plan

    config: Config = load_config(write_config(tmp_path))
    free = make_plan(guest_rules.resolve(config, _cluster()), config.policy_value(), config.budgets())
    assert "web-1" in {m.vm_name for m in free.migrations}, "the test needs a plan that would move web-1"
    held = guest_rules.resolve(config, _cluster(web_1=GuestRules(ignore=True)))
    plan = make_plan(held, config.policy_value(), config.budgets())
    assert "web-1" not in {m.vm_name for m in plan.migrations}


NAMES = st.text(st.characters(codec="utf-8", blacklist_categories=("Cs",)), max_size=12)
RULES = st.builds(
    GuestRules,
    ignore=st.booleans(),
    pin=st.lists(st.sampled_from(["fast", "slow", ""]) | NAMES, max_size=3).map(tuple),
    affinity=st.lists(st.sampled_from(["g", "web", "pair"]) | NAMES, max_size=3).map(tuple),
    anti_affinity=st.lists(st.sampled_from(["g", "web", "pair"]) | NAMES, max_size=3).map(tuple),
    problems=st.lists(NAMES, max_size=2).map(tuple),
)


@given(st.lists(st.one_of(st.none(), RULES), min_size=5, max_size=5))
def test_any_carried_rules_merge_without_error(carried: list[GuestRules | None]) -> None:
    """Whatever guests carry, the merge gives rules over known guests and hosts, each warning names its
    guest, and a guest whose rules could not be read is pinned where it runs."""
    cluster = _cluster()
    cluster = replace(
        cluster, vms=tuple(replace(v, rules=r) for v, r in zip(cluster.vms, carried, strict=True))
    )
    merged = merge(cluster, [], {})
    hosts, guests = {h.name for h in cluster.hosts}, {v.name for v in cluster.vms}
    for rule in merged.rules:
        assert set(rule.vms) <= guests and set(rule.hosts) <= hosts
    for guest, message in merged.warnings:
        assert message.startswith(f"{guest}: ")
    for vm in cluster.vms:
        if vm.rules is not None and vm.rules.problems:
            assert (
                PlacementRule("pin", f"unreadable metadata: {vm.name}", (vm.name,), (vm.host,))
                in merged.rules
            )
