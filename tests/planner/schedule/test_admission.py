"""Admission, the one rule the schedule and the executor's queue share: counts first, then bandwidth."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.policy import Budgets
from planner.schedule.admission import Nic, admit
from planner.schedule.links import Links, links
from tests.builders import make_cluster, make_host

COUNTS = Budgets(max_outgoing_per_host=2, max_incoming_per_host=3, max_concurrent=4)


def _net(budgets: Budgets = COUNTS) -> Links:
    return links(make_cluster([make_host("a", nic_mibps=1000), make_host("b", nic_mibps=1000)], []), budgets)


@pytest.mark.parametrize(
    ("running", "out", "into", "wanted", "rate"),
    [
        (0, Nic(0, 1000), Nic(0, 1000), 1000, 1000),
        (3, Nic(1, 1000), Nic(2, 1000), 600, 600),
        (4, Nic(0, 1000), Nic(0, 1000), 600, 0),
        (1, Nic(2, 1000), Nic(0, 1000), 600, 0),
        (1, Nic(0, 1000), Nic(3, 1000), 600, 0),
        (1, Nic(1, 400), Nic(0, 1000), 600, 400),
        (1, Nic(0, 1000), Nic(1, 250.7), 600, 250),
        (1, Nic(1, 0.5), Nic(0, 1000), 600, 0),
        (1, Nic(1, -200), Nic(0, 1000), 600, 0),
    ],
    ids=[
        "idle-gets-what-it-wants", "under-every-count", "cluster-count-spent", "outgoing-count-spent",
        "incoming-count-spent", "outgoing-bandwidth-short", "incoming-bandwidth-short-whole-mibps",
        "under-one-mibps-free", "overbooked",
    ],
)  # fmt: skip
def test_admit(running: int, out: Nic, into: Nic, wanted: int, rate: int) -> None:
    assert admit(_net(), running, out, into, wanted) == rate


def test_a_count_of_zero_is_no_limit() -> None:
    net = _net(Budgets(max_outgoing_per_host=0, max_incoming_per_host=0, max_concurrent=0))
    assert admit(net, 500, Nic(100, 1000), Nic(100, 1000), 300) == 300


@given(
    running=st.integers(0, 10),
    counts=st.tuples(st.integers(0, 5), st.integers(0, 5)),
    free=st.tuples(st.floats(-2000, 2000), st.floats(-2000, 2000)),
    wanted=st.integers(1, 3000),
)
def test_a_rate_admitted_fits_every_budget(
    running: int, counts: tuple[int, int], free: tuple[float, float], wanted: int
) -> None:
    net = _net()
    out, into = Nic(counts[0], free[0]), Nic(counts[1], free[1])
    rate = admit(net, running, out, into, wanted)
    assert rate >= 0
    if rate:
        assert running < net.max_total and out.running < net.max_out and into.running < net.max_in
        assert 1 <= rate <= min(wanted, free[0], free[1])
