"""The config's rules on one snapshot: wildcards in guest names, and `ignore` (never move these guests)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.virt_rebalance.fakes import write_config
from tests.virt_rebalance.sample import sample_cluster
from virt_rebalance.config import load_config
from virt_rebalance.jobs import guest_rules, steps

NAMES = ["batch", "db-1", "g-kvm", "web-1", "web-2"]


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (("web-*",), ("web-1", "web-2")),
        (("web-?", "db-1"), ("web-1", "web-2", "db-1")),
        (("*-1", "web-*"), ("db-1", "web-1", "web-2")),
        (("not-yet",), ("not-yet",)),
        (("nothing-*",), ()),
        (("[bd]*",), ("batch", "db-1")),
    ],
    ids=["star", "question-and-plain", "no-duplicates", "plain-kept-as-written", "no-match", "class"],
)
def test_expand(patterns, expected) -> None:
    assert guest_rules.expand(patterns, NAMES) == expected


def _config(tmp_path, rules: str):
    return load_config(write_config(tmp_path, extra=rules))


def test_wildcards_in_a_config_rule(tmp_path) -> None:
    config = _config(tmp_path, '[[rules]]\nkind = "anti-affinity"\nname = "web-apart"\nvms = ["web-*"]\n')
    resolved = guest_rules.resolve(config, replace(sample_cluster(), rules=config.placement_rules()))
    assert [r.vms for r in resolved.rules] == [("web-1", "web-2")]


def test_ignored_guests_never_move(tmp_path) -> None:
    config = _config(tmp_path, '[[rules]]\nkind = "ignore"\nname = "hands-off"\nvms = ["web-*", "db-1"]\n')
    assert config.placement_rules() == ()
    cluster = steps.current(config, sample_cluster())
    pins = {r.vms: r.hosts for r in cluster.rules}
    assert pins == {("web-1",): ("h1",), ("web-2",): ("h1",), ("db-1",): ("h1",)}
    plan = steps.plan(cluster, config, "rebalance")
    assert not {m.vm_name for m in plan.migrations} & {"web-1", "web-2", "db-1"}
