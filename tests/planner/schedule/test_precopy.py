"""The pre-copy model against the worked example in migration-model.md (MB and GB are decimal there)."""

from __future__ import annotations

import pytest

from planner.schedule.precopy import Limits, estimate

MB = 1e6 / 2**20  # one MB in MiB
PURE = Limits(auto_converge=False)


@pytest.mark.parametrize(
    ("sharing", "gb_each", "seconds"),
    [
        pytest.param(1, 18.9, 17.2, id="alone"),
        pytest.param(4, 27.0, 98.0, id="4-share-the-link"),
        pytest.param(8, 62.9, 457.0, id="8-share-the-link"),
    ],
)
def test_worked_example_16gib_1100mbps_100mbps_dirty(sharing: int, gb_each: float, seconds: float) -> None:
    cost = estimate(16384, 1100 * MB / sharing, 100 * MB, PURE)
    assert cost.sent_mib / MB / 1000 == pytest.approx(gb_each, abs=0.05)
    assert cost.duration_s == pytest.approx(seconds, rel=0.005)
    assert cost.converges


@pytest.mark.parametrize(
    ("memory", "rate", "dirty", "rounds", "sent"),
    [
        pytest.param(1000, 100, 0, 1, 1000, id="idle-guest-one-round-then-nothing-left"),
        pytest.param(1000, 100, 10, 2, 1000 + 100 + 10, id="lambda-0.1"),
        pytest.param(1000, 100, 50, 6, 1000 * (1 - 0.5**7) / 0.5, id="lambda-0.5-until-under-30-mib"),
    ],
)
def test_rounds_follow_the_geometric_series(
    memory: int, rate: int, dirty: int, rounds: int, sent: float
) -> None:
    cost = estimate(memory, rate, dirty, PURE)
    assert (cost.rounds, cost.sent_mib) == (rounds, pytest.approx(sent))
    assert cost.downtime_s == pytest.approx(memory * (dirty / rate) ** rounds / rate)
    assert cost.downtime_s <= 0.3


def test_sequential_beats_sharing_one_link() -> None:
    alone = estimate(16384, 1100 * MB, 100 * MB, PURE).duration_s
    assert 4 * alone == pytest.approx(68.7, abs=0.1)
    assert estimate(16384, 1100 * MB / 4, 100 * MB, PURE).duration_s > 4 * alone


@pytest.mark.parametrize(
    ("dirty", "converges", "near_limit"),
    [
        pytest.param(10, True, False, id="slow-writer"),
        pytest.param(85, True, True, id="near-the-rate"),
        pytest.param(150, False, True, id="above-the-rate"),
    ],
)
def test_dirty_rate_near_or_above_bandwidth_is_flagged(dirty: int, converges: bool, near_limit: bool) -> None:
    cost = estimate(4096, 100, dirty)
    assert (cost.converges, cost.near_limit) == (converges, near_limit)


def test_without_auto_converge_a_fast_writer_stops_at_max_rounds() -> None:
    cost = estimate(4096, 100, 150, Limits(auto_converge=False, max_rounds=30))
    assert cost.rounds == 30
    assert cost.sent_mib == pytest.approx(4096 * 31)  # every round re-sends all of memory


def test_auto_converge_throttles_a_fast_writer_until_it_fits() -> None:
    cost = estimate(4096, 100, 150)
    assert 0 < cost.throttle_pct <= 99
    assert cost.rounds < 30
    assert cost.downtime_s <= 0.3


def test_a_rate_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        estimate(1024, 0, 0)


@pytest.mark.parametrize(
    ("resident", "first_round"),
    [
        pytest.param(None, 4096, id="unknown-sends-all-memory"),
        pytest.param(1024, 1024, id="only-resident-pages"),
        pytest.param(9999, 4096, id="never-more-than-the-memory"),
    ],
)
def test_round_zero_sends_the_resident_memory_when_known(resident: int | None, first_round: int) -> None:
    cost = estimate(4096, 100, 0, PURE, resident_mib=resident)
    assert cost.sent_mib == first_round


def test_setup_time_adds_to_every_estimate_but_not_to_bytes() -> None:
    plain = estimate(1024, 100, 0)
    with_setup = estimate(1024, 100, 0, Limits(setup_s=2.0))
    assert with_setup.duration_s == pytest.approx(plain.duration_s + 2.0)
    assert with_setup.sent_mib == plain.sent_mib


def test_the_schedule_estimates_with_the_executors_auto_converge_setting() -> None:
    from planner.policy import Budgets
    from planner.schedule import schedule
    from tests.builders import make_cluster, make_host, make_vm

    hot = make_vm("hot", "h1", memory_mib=4096, dirty_rate_mibps=900)
    cluster = make_cluster([make_host("h1", nic_mibps=1000), make_host("h2", nic_mibps=1000)], [hot])
    with_ac = schedule(cluster, {hot.uuid: "h2"}, {}, Budgets())
    without = schedule(cluster, {hot.uuid: "h2"}, {}, Budgets(auto_converge=False))
    # Without throttling a guest dirtying 90% of the link re-sends until the round limit.
    assert without.migrations[0].estimated_s > with_ac.migrations[0].estimated_s
