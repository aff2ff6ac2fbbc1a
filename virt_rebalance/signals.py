"""SIGTERM and SIGINT while a job runs: stop starting migrations, let the running ones finish (or abort them),
and still write the journal, the summary, the metrics and last-run.json with status "interrupted".

    with signals.caught(config.execute.on_interrupt) as interrupt:
        run_nightly(config, interrupt=interrupt)

The first signal stops new migrations (and aborts the running ones when `on_interrupt = "abort"`); a
second one aborts what still runs. The old handlers come back when the block ends.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Literal

from executor.interrupt import Interrupt
from virt_rebalance import output

CAUGHT = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def caught(on_interrupt: Literal["finish", "abort"] = "finish") -> Iterator[Interrupt]:
    interrupt = Interrupt()

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if interrupt.requested:
            interrupt.stop(f"interrupted by {name}", abort=True)
            output.warning(f"{name} again: aborting the running migrations (each guest stays on its source)")
            return
        abort = on_interrupt == "abort"
        interrupt.stop(f"interrupted by {name}", abort=abort)
        then = (
            "aborting the running ones" if abort else "the running ones finish (a second signal aborts them)"
        )
        output.warning(f"{name}: no new migration starts; {then}")

    previous = {s: signal.signal(s, handle) for s in CAUGHT}
    try:
        yield interrupt
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
