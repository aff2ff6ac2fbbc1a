"""A calibrated link (Budgets.links, learned from the journal by the app) changes only its own estimates:
its set-up, the share of the granted rate reached, the share of the model's bytes sent."""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner.policy import ANY_LINK, Budgets, LinkCalibration
from planner.schedule import schedule
from planner.schedule.links import links
from planner.schedule.precopy import Limits, estimate
from tests.builders import make_cluster, make_host, make_vm

LINK = LinkCalibration(setup_s=4.0, rate_factor=0.5, sent_factor=0.25, samples=3, error_pct=40.0)


def two_moves(budgets: Budgets) -> dict[str, object]:
    """v1 h1 -> h2 and v2 h3 -> h2 (1 GiB idle guests, 100 MiB/s NICs): their migrations by guest."""
    cluster = make_cluster(
        [make_host(h, nic_mibps=100) for h in ("h1", "h2", "h3")],
        [make_vm("v1", "h1", memory_mib=1024), make_vm("v2", "h3", memory_mib=1024)],
    )
    target = {v.uuid: "h2" for v in cluster.vms}
    return {m.vm_name: m for m in schedule(cluster, target, {}, budgets).migrations}


def test_a_calibrated_link_uses_what_it_learned_and_the_others_keep_the_model() -> None:
    plain = two_moves(Budgets(setup_s=2.0))
    learned = two_moves(Budgets(setup_s=2.0, links={"h1>h2": LINK}))
    v1, v2 = learned["v1"], learned["v2"]
    model = estimate(1024, 50, 0, Limits(setup_s=4.0))  # at the rate reached: half of the 100 granted
    assert v1.bandwidth_mibps == 100
    assert v1.model_mib == round(model.sent_mib)
    assert v1.estimated_mib == round(model.sent_mib * 0.25)
    assert v1.estimated_s == pytest.approx(4.0 + model.sent_mib * 0.25 / 50, abs=1e-3)
    assert (v2.estimated_s, v2.estimated_mib) == (plain["v2"].estimated_s, plain["v2"].estimated_mib)
    assert plain["v1"].model_mib == plain["v1"].estimated_mib  # no calibration: the model as is


def test_the_schedule_reserves_bandwidth_from_the_shortest_set_up() -> None:
    net = links(
        make_cluster([make_host("h1"), make_host("h2")], []), Budgets(setup_s=2.0, links={"h1>h2": LINK})
    )
    assert net.limits.setup_s == 2.0 and net.setup_s == 2.0
    fast = replace(LINK, setup_s=0.5)
    net = links(
        make_cluster([make_host("h1"), make_host("h2")], []), Budgets(setup_s=2.0, links={"h1>h2": fast})
    )
    assert net.limits.setup_s == 0.5 and net.setup_s == 2.0
    assert net.calibrated("h1", "h2") == fast and net.calibrated("h2", "h1") is None
    pooled = links(make_cluster([make_host("h1"), make_host("h2")], []), Budgets(links={ANY_LINK: LINK}))
    assert pooled.calibrated("h2", "h1") == LINK  # a pair with no history uses what all links taught
