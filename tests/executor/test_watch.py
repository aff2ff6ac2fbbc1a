"""One jobStats reading -> progress numbers and the decision to abort or switch to post-copy."""

from __future__ import annotations

import pytest

from executor.watch import Watch, sample

MIB = 1024 * 1024


def stats(processed: int, remaining: int = 100, rnd: int = 1, bps: int = 10, job: int = 2) -> dict:
    return {
        "type": job,
        "memory_total": 200 * MIB,
        "memory_processed": processed * MIB,
        "memory_remaining": remaining * MIB,
        "memory_bps": bps * MIB,
        "memory_dirty_rate": 256,  # pages of 4 KiB: 1 MiB/s
        "memory_page_size": 4096,
        "memory_iteration": rnd,
    }


def test_sample_converts_units_and_eta() -> None:
    s = sample(stats(100, remaining=50, bps=10), elapsed_s=3.0)
    assert s is not None
    assert (s.processed_mib, s.remaining_mib, s.rate_mibps, s.dirty_mibps, s.eta_s) == (100, 50, 10, 1, 5)


def test_no_job_no_sample() -> None:
    assert sample({"type": 0}, 1.0) is None


@pytest.mark.parametrize(
    ("readings", "watch", "action"),
    [
        ([(1, stats(10)), (2, stats(20)), (3, stats(30))], {}, None),
        ([(1, stats(10)), (2, stats(10)), (7, stats(10))], {}, "abort"),
        ([(1, {"type": 0}), (7, {"type": 0})], {}, "abort"),
        ([(1, stats(10)), (11, stats(90))], {"limit_s": 10}, "abort"),
        ([(1, stats(10, rnd=2)), (2, stats(20, rnd=3))], {"postcopy_after_rounds": 3}, "postcopy"),
        ([(1, stats(10)), (30, stats(20))], {"postcopy_after_rounds": 9, "limit_s": 100}, None),
        ([(1, stats(10, rnd=5))], {"limit_s": 100}, None),
    ],
    ids=[
        "progressing",
        "stalled",
        "never-started",
        "over-limit",
        "postcopy-rounds",
        "postcopy-late",
        "no-postcopy",
    ],
)
def test_decision(readings: list, watch: dict, action: str | None) -> None:
    w = Watch(0.0, stall_s=5.0, **watch)
    decisions = [w.observe(t, s)[1] for t, s in readings]
    last = [d for d in decisions if d is not None]
    assert (last[-1].action if last else None) == action


def test_decides_once_and_never_aborts_in_postcopy() -> None:
    w = Watch(0.0, stall_s=5.0, postcopy_after_rounds=1)
    assert w.observe(1, stats(10))[1].action == "postcopy"
    assert w.observe(20, stats(10))[1] is None
