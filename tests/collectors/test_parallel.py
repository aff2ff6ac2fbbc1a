"""run_each: concurrent, per-item timeouts, errors kept per item."""

from __future__ import annotations

import threading
import time

from collectors.parallel import TimedOut, run_each


def test_runs_concurrently_and_keeps_order() -> None:
    start = time.monotonic()
    out = run_each(list(range(50)), lambda i: time.sleep(0.1) or i * 2, timeout_s=5)
    assert [o.value for o in out] == [i * 2 for i in range(50)]
    assert time.monotonic() - start < 1.0


def test_a_hung_item_times_out_and_the_others_finish() -> None:
    never = threading.Event()

    def fn(i: int) -> int:
        if i == 1:
            never.wait(10)
        return i

    start = time.monotonic()
    out = run_each([0, 1, 2], fn, timeout_s=0.3)
    never.set()
    assert time.monotonic() - start < 2
    assert [o.ok for o in out] == [True, False, True]
    assert out[1].timed_out and isinstance(out[1].error, TimedOut)


def test_an_error_stays_with_its_item() -> None:
    def fn(i: int) -> int:
        if i == 0:
            raise RuntimeError("boom")
        return i

    out = run_each([0, 1], fn, timeout_s=1)
    assert str(out[0].error) == "boom" and out[1].value == 1


def test_a_stuck_worker_is_replaced_when_items_outnumber_workers() -> None:
    never = threading.Event()
    out = run_each([0, 1, 2, 3], lambda i: never.wait(5) if i == 0 else i, timeout_s=0.3, workers=1)
    never.set()
    assert [o.ok for o in out] == [False, True, True, True]
