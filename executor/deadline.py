"""Every libvirt call the executor makes has a deadline, so a hung host cannot hang a run.

`bounded(conn, gate)` wraps a seam Connection: each call runs on a daemon thread and the caller waits at
most the gate's `timeout_s`; the domains it returns are wrapped alike. A call that does not answer in time
raises HostTimeout and leaves its thread behind (a daemon: it cannot keep the process alive). While such a
call is still stuck, the host counts as not answering and every further call to it fails at once, so a
hung host costs one timeout, not one per call, and no pile of stuck threads.

The migrate calls are exempt: they last as long as the migration, run on the migration's own thread, and
the runner's stall and time limits watch them, and give up on one that does not end after its abort.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from collectors.seam import VirtError

T = TypeVar("T")

#: Calls that last as long as a migration; never under a deadline.
UNBOUNDED = frozenset({"migrate", "migrateToURI3"})


class HostTimeout(VirtError):
    """A host did not answer a libvirt call within the deadline (a seam error: callers catch VirtError)."""

    def __init__(self, host: str, call: str, seconds: float, stuck_s: float | None = None) -> None:
        self.host, self.call, self.seconds = host, call, seconds
        if stuck_s is None:
            message = f"{host} did not answer {call} within {seconds:g}s"
        else:
            message = f"{host} does not answer (a call has waited {stuck_s:.0f}s)"
        super().__init__(message)


class Gate:
    """One host's deadline, and whether a call to it is stuck past its deadline right now."""

    def __init__(self, host: str, timeout_s: float) -> None:
        self.host, self.timeout_s = host, timeout_s
        self._lock = threading.Lock()
        self._stuck: dict[int, float] = {}  # call number -> when it started
        self._calls = 0

    @property
    def answering(self) -> bool:
        with self._lock:
            return not self._stuck

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """fn(*args, **kwargs) on a worker thread; its result or error, or HostTimeout after the deadline."""
        with self._lock:
            if self._stuck:
                raise HostTimeout(
                    self.host, what, self.timeout_s, time.monotonic() - min(self._stuck.values())
                )
            self._calls += 1
            number = self._calls
        box: list[Any] = []
        done = threading.Event()
        started = time.monotonic()

        def work() -> None:
            try:
                box.append((True, fn(*args, **kwargs)))
            except BaseException as exc:  # handed to the caller as is
                box.append((False, exc))
            with self._lock:
                self._stuck.pop(number, None)
            done.set()

        threading.Thread(target=work, name=f"libvirt-{self.host}", daemon=True).start()
        if not done.wait(self.timeout_s):
            with self._lock:
                if not done.is_set():
                    self._stuck[number] = started
            if not done.is_set():
                raise HostTimeout(self.host, what, self.timeout_s)
        ok, value = box[0]
        if ok:
            return value  # type: ignore[no-any-return]
        raise value


class Bounded:
    """A connection or domain whose calls go through its host's gate; what they return is bounded too."""

    __slots__ = ("_gate", "_target")

    def __init__(self, target: Any, gate: Gate) -> None:
        self._target, self._gate = target, gate

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr
        if name in UNBOUNDED:
            return lambda *a, **k: attr(*_unwrap(a), **{key: _unwrap_one(v) for key, v in k.items()})

        def call(*args: Any, **kwargs: Any) -> Any:
            value = self._gate.call(name, attr, *_unwrap(args), **kwargs)
            return self._wrap(value)

        return call

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._wrap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._wrap(v) for v in value)
        if callable(getattr(value, "UUIDString", None)) or callable(getattr(value, "listAllDomains", None)):
            return Bounded(value, self._gate)
        return value


def _unwrap(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_unwrap_one(a) for a in args)


def _unwrap_one(value: Any) -> Any:
    return value._target if isinstance(value, Bounded) else value


def bounded(target: T, gate: Gate) -> T:
    """`target` (a seam Connection) with every call under `gate`'s deadline."""
    return Bounded(target, gate)  # type: ignore[return-value]
