"""Budgets used: concurrency read from the schedule's timeline, limits from the plan's policy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.virt_rebalance.sample import sample_plan
from virt_rebalance.report.usage import budget_use, peak_overlap


def _timeline(*spans: tuple[str, str, float, float]):
    base = sample_plan().migrations[0]
    return [replace(base, source=s, destination=d, start_s=t, estimated_s=e) for s, d, t, e in spans]


@pytest.mark.parametrize(
    ("spans", "cluster_peak", "per_source_peak"),
    [
        ([("h1", "h2", 0, 10), ("h1", "h3", 10, 10)], 1, 1),  # back to back: never two at once
        ([("h1", "h2", 0, 10), ("h1", "h3", 5, 10)], 2, 2),
        ([("h1", "h2", 0, 10), ("h2", "h3", 0, 10), ("h3", "h1", 20, 5)], 2, 1),
    ],
    ids=["back-to-back", "overlap", "two-sources"],
)
def test_peak_overlap(spans, cluster_peak, per_source_peak) -> None:
    moves = _timeline(*spans)
    assert peak_overlap(moves) == cluster_peak
    assert peak_overlap(moves, lambda m: m.source) == per_source_peak


def test_limits_come_from_the_policy_or_its_budgets() -> None:
    rows = {u.name: (u.used, u.limit) for u in budget_use(sample_plan())}
    assert rows["migrations"] == ("2", "10")
    assert rows["concurrent migrations"] == ("1", "8")
    assert rows["memory moved"] == ("12.0 GiB", "-")
