"""Run one function per host on threads, each with its own timeout, so a slow or dead host stalls no other.

Threads are daemons: a host stuck inside a libvirt call past its timeout is abandoned (reported as timed
out) and cannot keep the process alive. The timeout of a host counts from when its thread starts it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 512


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    """What one host's function returned, or why it did not."""

    value: R | None = None
    error: BaseException | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


class TimedOut(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")


def run_each(
    items: Sequence[T], fn: Callable[[T], R], timeout_s: float, workers: int = MAX_WORKERS
) -> list[Outcome[R]]:
    """fn(item) for every item concurrently; outcomes in the order of `items`."""
    n = len(items)
    outcomes: list[Outcome[R] | None] = [None] * n
    started: list[float | None] = [None] * n
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(n):
        todo.put(i)
    changed = threading.Condition()

    def worker() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            with changed:
                started[i] = time.monotonic()
            try:
                result: Outcome[R] = Outcome(value=fn(items[i]))
            except Exception as exc:  # any failure on one host belongs to that host's outcome
                result = Outcome(error=exc)
            with changed:
                if outcomes[i] is None:
                    outcomes[i] = result
                changed.notify_all()

    def spawn() -> None:
        threading.Thread(target=worker, daemon=True, name="collect").start()

    for _ in range(min(workers, n)):
        spawn()

    with changed:
        while True:
            now = time.monotonic()
            pending = False
            next_deadline = now + 0.5
            for i in range(n):
                if outcomes[i] is not None:
                    continue
                begun = started[i]
                if begun is not None and now - begun >= timeout_s:
                    outcomes[i] = Outcome(error=TimedOut(timeout_s), timed_out=True)
                    spawn()  # its thread is stuck; another one takes over the queue
                    continue
                pending = True
                if begun is not None:
                    next_deadline = min(next_deadline, begun + timeout_s)
            if not pending:
                break
            changed.wait(max(0.0, next_deadline - now))
    return [o for o in outcomes if o is not None]
