"""A request from outside to stop a run early (the CLI turns SIGTERM and SIGINT into one).

`stop()`: no new migration starts; the running ones finish. `stop(abort=True)`: the running ones are
aborted too (abortJob: each guest stays on its source). The runner only reads it; any thread may set it.
"""

from __future__ import annotations

import threading


class Interrupt:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: str | None = None
        self.abort = False

    @property
    def requested(self) -> bool:
        return self.reason is not None

    def stop(self, reason: str, *, abort: bool = False) -> None:
        with self._lock:
            self.reason = self.reason or reason
            self.abort = self.abort or abort
