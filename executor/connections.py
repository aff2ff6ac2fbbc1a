"""Connections to the configured hosts, opened on first use and kept for the run, every call under a deadline.

The plan's hosts are opened up front (apply.py), concurrently; the others only when a guest has gone missing
and we look for it everywhere, so a large cluster does not pay for a thousand connections it never needs.
Opening and every call on a connection go through the host's `Gate` (executor.deadline): nothing waits on
a host longer than `timeout_s`. A failed open is tried again at once with a short backoff (a blip is not an
outage), then the host is absent from the mapping with its error in `errors` until `retry_after_s` has
passed, when the next use tries again (a host down at midnight may be back at one).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from collectors.seam import Connection, Opener, VirtError
from executor.deadline import Gate, HostTimeout, bounded

#: Pauses between the attempts to open a connection that failed (not one that timed out).
OPEN_BACKOFF_S = (0.5, 2.0)


class Connections(Mapping[str, Connection]):
    def __init__(
        self,
        uris: Mapping[str, str],
        opener: Opener,
        describe: Callable[[BaseException, str], str],
        *,
        timeout_s: float = 30.0,
        retry_after_s: float = 60.0,
    ):
        self.uris = dict(uris)
        self.opener = opener
        self.describe = describe
        self.retry_after_s = retry_after_s
        self.gates = {host: Gate(host, timeout_s) for host in self.uris}
        self.errors: dict[str, str] = {}
        self._failed_at: dict[str, float] = {}
        self._open: dict[str, Connection] = {}
        self._lock = threading.Lock()

    def __getitem__(self, host: str) -> Connection:
        if host in self._open:
            return self._open[host]
        if host not in self.uris or not self._may_try(host):
            raise KeyError(host)
        try:
            conn = self._open_with_retries(host)
        except VirtError as exc:  # any failure to open: the host is unreachable for now
            with self._lock:
                self.errors[host] = self.describe(exc, self.uris[host])
                self._failed_at[host] = time.monotonic()
            raise KeyError(host) from None
        with self._lock:
            if host in self._open:  # opened meanwhile by another thread: keep one
                with contextlib.suppress(VirtError):
                    conn.close()
                return self._open[host]
            self._open[host] = conn
            self.errors.pop(host, None)
        return conn

    def _may_try(self, host: str) -> bool:
        failed = self._failed_at.get(host)
        return failed is None or time.monotonic() - failed >= self.retry_after_s

    def _open_with_retries(self, host: str) -> Connection:
        gate, uri = self.gates[host], self.uris[host]
        for pause in (*OPEN_BACKOFF_S, None):
            try:
                return bounded(gate.call("open", self.opener, uri), gate)
            except HostTimeout:
                raise
            except VirtError:  # refused, reset, auth: maybe a blip; tried again after a pause
                if pause is None:
                    raise
                time.sleep(pause)
        raise AssertionError("unreachable")

    def __iter__(self) -> Iterator[str]:
        return (host for host in self.uris if host in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def reach(self, hosts: Iterable[str]) -> dict[str, str]:
        """Open `hosts` now, all at once; the errors of those that cannot be reached."""
        wanted = sorted(hosts)
        threads = [threading.Thread(target=self.__contains__, args=(h,), daemon=True) for h in wanted]
        for t in threads:
            t.start()
        for t in threads:
            t.join()  # each open is bounded by its gate
        return {h: self.errors.get(h, "not reachable") for h in wanted if h not in self._open}

    def answering(self, host: str) -> bool:
        """Whether no call to `host` is stuck past its deadline right now."""
        gate = self.gates.get(host)
        return gate is not None and gate.answering

    @property
    def opened(self) -> tuple[str, ...]:
        return tuple(self._open)

    def close(self) -> None:
        for host, conn in self._open.items():
            if self.gates[host].answering:  # closing a hung host's connection would wait on it too
                with contextlib.suppress(VirtError):
                    conn.close()
        self._open.clear()
