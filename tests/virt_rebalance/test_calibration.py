"""Estimates that learn: the journal's done migrations calibrate each host pair, from the configured values."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor.journal import Journal
from planner.codec import plan_from_json, plan_to_json
from planner.plan import Plan
from planner.policy import ANY_LINK, Budgets, LinkCalibration
from tests.virt_rebalance.sample import sample_plan
from virt_rebalance.calibration import (
    MAX_SLOWDOWN,
    RECENT,
    SENT_FACTOR_RANGE,
    Sample,
    apply_overhead,
    calibrate,
    describe,
    learned,
    read_runs,
    read_samples,
)


def truth(
    model_mib: float, rate: int = 64, setup_s: float = 3.0, rate_factor: float = 0.5, sent: float = 0.4
) -> Sample:
    """A migration as a link with these true parameters carries it out."""
    actual_mib = model_mib * sent
    return Sample(source="h1", destination="h2", bandwidth_mibps=rate, estimated_s=2.0 + model_mib / rate,
                  model_mib=model_mib, actual_s=setup_s + actual_mib / (rate * rate_factor),
                  actual_mib=actual_mib)  # fmt: skip


def test_many_migrations_recover_the_link() -> None:
    samples = [truth(m) for m in (64, 128, 256, 512, 1024, 2048) * 3]
    link = calibrate(samples, setup_s=2.0)["h1>h2"]
    assert link.samples == 18
    assert link.setup_s == pytest.approx(3.0, rel=0.05)
    assert link.rate_factor == pytest.approx(0.5, rel=0.05)
    assert link.sent_factor == pytest.approx(0.4, rel=0.1)  # the prior still counts as one migration


def test_idle_guests_sending_the_same_whatever_their_size_are_learned_so() -> None:
    samples = [
        replace(truth(m, sent=1.0, rate_factor=1.0), actual_mib=75.0) for m in (128, 256, 384, 512) * 3
    ]
    link = calibrate(samples, setup_s=2.0)["h1>h2"]
    assert link.sent_factor < 0.1 and 40 < link.sent_fixed_mib <= 75
    for m in (128, 512):
        assert link.sent_fixed_mib + m * link.sent_factor == pytest.approx(75, rel=0.25)


def test_one_migration_gives_its_share_of_the_models_bytes() -> None:
    link = calibrate([replace(truth(188), actual_mib=78.0)], setup_s=2.0)["h1>h2"]
    assert link.sent_fixed_mib == 0.0 and link.sent_factor == pytest.approx(78 / 188, rel=0.05)


def test_one_migration_moves_the_link_part_way_from_the_configured_values() -> None:
    link = calibrate([truth(128, setup_s=6.0, rate_factor=1.0, sent=1.0)], setup_s=2.0)["h1>h2"]
    assert 2.0 < link.setup_s < 6.0
    assert link.error_pct is not None and link.error_pct > 0


def test_links_are_learned_apart() -> None:
    samples = [truth(128), replace(truth(128, setup_s=1.0), source="h2", destination="h3")]
    learned = calibrate(samples, 2.0)
    assert set(learned) == {"h1>h2", "h2>h3", ANY_LINK}
    assert learned[ANY_LINK].samples == 2
    assert learned["h2>h3"].setup_s < learned[ANY_LINK].setup_s < learned["h1>h2"].setup_s
    assert calibrate([], 2.0) == {}


@pytest.mark.parametrize(
    ("sample", "check"),
    [
        (truth(1024, rate_factor=4.0), lambda c: c.rate_factor == 1.0),  # never faster than granted
        (truth(1024, setup_s=0.0, rate_factor=0.001), lambda c: c.rate_factor >= 1 / MAX_SLOWDOWN),
        (truth(64, setup_s=0.01), lambda c: c.setup_s >= 0.0),
        (truth(64, sent=1000.0), lambda c: c.sent_factor <= SENT_FACTOR_RANGE[1]),
    ],
    ids=["faster-than-granted", "absurdly-slow", "no-setup", "absurd-bytes"],
)
def test_what_a_link_learns_stays_within_bounds(sample: Sample, check) -> None:
    link = calibrate([sample] * 5, 2.0)["h1>h2"]
    assert check(link), link


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.floats(1e-3, 1e7), st.integers(1, 100_000), st.floats(1e-3, 1e6), st.floats(1e-3, 1e7)),
        min_size=1,
        max_size=30,
    ),
    st.floats(0, 3600),
)
def test_any_history_gives_finite_bounded_links(
    rows: list[tuple[float, int, float, float]], setup: float
) -> None:
    samples = [
        Sample(
            source="a",
            destination="b",
            bandwidth_mibps=rate,
            estimated_s=act_s,
            model_mib=model,
            actual_s=act_s,
            actual_mib=act_mib,
        )
        for act_mib, rate, act_s, model in rows
    ]
    link = calibrate(samples, setup)["a>b"]
    assert all(math.isfinite(v) for v in (link.setup_s, link.rate_factor, link.sent_factor))
    assert link.setup_s >= 0 and 1 / MAX_SLOWDOWN <= link.rate_factor <= 1
    assert SENT_FACTOR_RANGE[0] <= link.sent_factor <= SENT_FACTOR_RANGE[1]


def planned() -> Plan:
    """The sample plan with the schedule's numbers on every migration."""
    plan = sample_plan()
    moves = tuple(replace(m, bandwidth_mibps=64, estimated_s=3.0, model_mib=100) for m in plan.migrations)
    return replace(plan, migrations=moves)


def finished_journal(state: Path, runs: int = 1) -> None:
    """The sample plan's migrations, done with real numbers, `runs` times (as new plans)."""
    for n in range(runs):
        plan = replace(planned(), created_at=f"2026-12-0{n + 1}T00:00:00+00:00")
        journal = Journal(state, plan)
        journal.add(plan.migrations)
        for m in plan.migrations:
            journal.set(m.id, "started")
            journal.set(m.id, "done", "", 5.0, 40.0)
        journal.close()


def test_the_journal_gives_each_done_migration_with_its_estimate(tmp_path: Path) -> None:
    finished_journal(tmp_path)
    plan = planned()
    samples = read_samples(tmp_path / "journal.sqlite")
    assert len(samples) == len(plan.migrations)
    by_route = {(s.source, s.destination): s for s in samples}
    for m in plan.migrations:
        s = by_route[(m.source, m.destination)]
        assert (s.estimated_s, s.model_mib, s.bandwidth_mibps) == (
            m.estimated_s,
            m.model_mib,
            m.bandwidth_mibps,
        )
        assert (s.actual_s, s.actual_mib) == (5.0, 40.0)


def test_only_the_newest_migrations_of_a_link_count(tmp_path: Path) -> None:
    finished_journal(tmp_path, runs=3)
    per_link = len(read_samples(tmp_path / "journal.sqlite", recent=1))
    assert per_link == len({(m.source, m.destination) for m in sample_plan().migrations})
    assert len(read_samples(tmp_path / "journal.sqlite")) == 3 * len(sample_plan().migrations) <= 3 * RECENT


def test_no_journal_or_an_unreadable_one_plans_with_the_configured_values(tmp_path: Path) -> None:
    budgets = Budgets(setup_s=2.0)
    assert learned(budgets, tmp_path) is budgets
    (tmp_path / "journal.sqlite").write_bytes(b"not a database at all" * 10)
    assert read_samples(tmp_path / "journal.sqlite") == []
    old = tmp_path / "old"
    old.mkdir()
    sqlite3.connect(old / "journal.sqlite").executescript("CREATE TABLE migrations (plan_id TEXT);")
    assert read_samples(old / "journal.sqlite") == []


def test_learned_budgets_carry_each_link(tmp_path: Path) -> None:
    finished_journal(tmp_path)
    budgets = learned(Budgets(setup_s=2.0), tmp_path)
    assert budgets.links["h1>h2"].samples == 1 and budgets.links[ANY_LINK].samples == 2
    (pooled, *links) = describe(budgets)
    assert pooled.startswith("any other link: set-up") and all(" -> " in line for line in links)


def test_describe_names_the_numbers() -> None:
    link = LinkCalibration(
        setup_s=3.04, rate_factor=0.5, sent_factor=0.25, sent_fixed_mib=60.0, samples=4, error_pct=31.0
    )
    assert describe(Budgets(links={"h1>h2": link, ANY_LINK: link}, apply_overhead_s=2.5)) == [
        "apply's own work (connecting, checks, verifying): 2.5s a run",
        "any other link: set-up 3.0s, 50% of the granted rate, 60 MiB + 25% of the model's bytes "
        "(from 4 migration(s), whose estimates were off by 31% on average)",
        "h1 -> h2: set-up 3.0s, 50% of the granted rate, 60 MiB + 25% of the model's bytes "
        "(from 4 migration(s), whose estimates were off by 31% on average)",
    ]


def test_a_plan_file_carries_the_calibration_it_was_made_with() -> None:
    plan = sample_plan()
    link = LinkCalibration(setup_s=3.0, rate_factor=0.5, sent_fixed_mib=40.0, samples=2, error_pct=None)
    plan = replace(plan, budgets=replace(plan.budgets, links={"h1>h2": link}))
    assert plan_from_json(plan_to_json(plan)) == plan


@pytest.mark.parametrize(
    ("runs", "expected"),
    [([], 0.0), ([(9.0, 6.0)], 1.5), ([(9.0, 6.0), (8.0, 6.0), (10.0, 6.0)], 2.25), ([(3.0, 6.0)], 0.0)],
    ids=["none", "one-run-counts-half", "three-runs", "faster-than-estimated-adds-nothing"],
)
def test_apply_overhead_is_what_runs_took_beyond_their_estimate(runs, expected: float) -> None:
    assert apply_overhead(runs) == expected


def test_complete_runs_in_the_journal_give_the_overhead(tmp_path: Path) -> None:
    plan = planned()
    journal = Journal(tmp_path, plan)
    journal.add(plan.migrations)
    everything = len(plan.migrations)
    journal.record_run("done", everything, 9.0, 6.0)
    journal.record_run("done", everything - 1, 3.0, 6.0)  # a resumed run: the rest of the plan only
    journal.record_run("partial", 1, 60.0, 6.0)  # not all carried out: not a whole run's time
    journal.record_run("nothing-to-do", 0, 1.0, 6.0)
    journal.close()
    assert read_runs(tmp_path / "journal.sqlite") == [(9.0, 6.0)]
    budgets = learned(Budgets(), tmp_path)
    assert budgets.apply_overhead_s == 1.5 and budgets.links == {}


def test_the_plan_adds_apply_overhead_to_its_makespan() -> None:
    from planner.pipeline import make_plan
    from planner.policy import Policy
    from tests.builders import make_cluster, make_host, make_vm

    cluster = make_cluster([make_host("h1"), make_host("h2")], [make_vm("v", "h1", memory_mib=1024)])
    policy = Policy(evacuate=("h1",), time_limit_s=5)
    plain = make_plan(cluster, policy, Budgets(), goal="evacuate")
    learned_plan = make_plan(cluster, policy, Budgets(apply_overhead_s=2.5), goal="evacuate")
    assert plain.migrations and learned_plan.makespan_s == pytest.approx(plain.makespan_s + 2.5, abs=0.11)
