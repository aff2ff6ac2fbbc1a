"""Live progress of a run: rich progress bars on a terminal, plain lines (or JSON logs) otherwise.

`show(total)` is a context manager that yields the callback the executor calls with each ProgressEvent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from virt_rebalance import output

if TYPE_CHECKING:
    from executor.report import ProgressEvent

MIB = 1024 * 1024
_ENDS = {"done", "failed", "aborted", "skipped", "not-started"}


@contextmanager
def show(total: int) -> Iterator[Callable[[ProgressEvent], None]]:
    if output.is_quiet() or not output.is_terminal() or output.is_log_json():
        yield _log_line
        return
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
        console=output.console,
        transient=False,
    )
    overall = bars.add_task(f"{total} migration(s)", total=total, detail="")
    tasks: dict[str, TaskID] = {}

    def on_event(event: ProgressEvent) -> None:
        label = f"{event.vm_name} {event.source} -> {event.destination}"
        task = tasks.get(event.migration_id)
        if task is None and event.kind in ("started", "progress"):
            task = tasks[event.migration_id] = bars.add_task(label, total=None, detail="starting")
        if event.kind == "progress" and task is not None:
            bars.update(
                task,
                total=max(event.total_mib, event.processed_mib) * MIB or None,
                completed=event.processed_mib * MIB,
                detail=f"{event.rate_mibps:.0f} MiB/s, dirty {event.dirty_mibps:.0f}, round {event.round}",
            )
        elif event.kind in _ENDS:
            if task is not None:
                bars.update(task, detail=event.kind + (f": {event.message}" if event.message else ""))
                bars.stop_task(task)
            else:
                bars.console.print(event.line(), markup=False)
            bars.update(overall, completed=event.finished)

    with bars:
        yield on_event


def _log_line(event: ProgressEvent) -> None:
    fields = {"migration": event.migration_id, "vm": event.vm_name, "event": event.kind}
    if event.kind == "progress":
        output.debug(event.line(), **fields)
    elif event.kind in ("failed", "aborted"):
        output.warning(event.line(), **fields)
    else:
        output.info(event.line(), **fields)
