"""Live progress of a run: rich progress bars on a terminal, plain lines (or JSON logs) otherwise.

`show(total)` is a context manager that yields the callback the executor calls with each ProgressEvent.
The overall bar counts migrations; each migration's bar counts the bytes jobStats reports and is full
once the migration is done. Log lines carry the migration's fields (id, guest, source, destination,
outcome, duration, bytes) for `--log-json`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

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
        TextColumn("{task.fields[amount]}"),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
        console=output.console,
        transient=False,
    )
    overall = bars.add_task("migrations", total=total, amount=f"0/{total} migrations", detail="")
    tasks: dict[str, TaskID] = {}

    def on_event(event: ProgressEvent) -> None:
        label = f"{event.vm_name} {event.source} -> {event.destination}"
        task = tasks.get(event.migration_id)
        if task is None and event.kind in ("started", "progress"):
            task = tasks[event.migration_id] = bars.add_task(label, total=None, amount="", detail="starting")
        if event.kind == "progress" and task is not None:
            total_mib = max(event.total_mib, event.processed_mib)
            bars.update(
                task,
                total=total_mib or None,
                completed=event.processed_mib,
                amount=f"{event.processed_mib:.0f}/{total_mib:.0f} MiB",
                detail=f"{event.rate_mibps:.0f} MiB/s, dirty {event.dirty_mibps:.0f}, round {event.round}",
            )
        elif event.kind in _ENDS:
            if task is not None:
                finished = bars.tasks[task]
                if event.kind == "done":
                    sent = event.processed_mib or finished.completed
                    bars.update(task, total=sent or 1, completed=sent or 1, amount=f"{sent:.0f} MiB")
                bars.update(task, detail=event.kind + (f": {event.message}" if event.message else ""))
                bars.stop_task(task)
            else:
                bars.console.print(event.line(), markup=False)
            bars.update(overall, completed=event.finished, amount=f"{event.finished}/{total} migrations")

    with bars:
        yield on_event


def _log_line(event: ProgressEvent) -> None:
    fields: dict[str, object] = {
        "migration": event.migration_id,
        "guest": event.vm_name,
        "source": event.source,
        "destination": event.destination,
        "event": event.kind,
    }
    if event.kind in _ENDS:
        fields.update(outcome=event.kind, duration_s=round(event.elapsed_s, 3))
        if event.processed_mib:
            fields["bytes"] = int(event.processed_mib * MIB)
    if event.kind == "progress":
        fields.update(bytes=int(event.processed_mib * MIB), total_bytes=int(event.total_mib * MIB))
        output.debug(event.line(), **fields)
    elif event.kind in ("failed", "aborted"):
        output.warning(event.line(), **fields)
    else:
        output.info(event.line(), **fields)
