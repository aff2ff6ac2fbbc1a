"""Connections to the configured hosts, opened on first use and kept for the run.

The plan's own hosts are opened up front (apply.py); the others only when a guest has gone missing and
we look for it everywhere, so a large cluster does not pay for a thousand connections it never needs.
A host that cannot be opened is absent from the mapping; its error is in `errors`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping

from collectors.seam import Connection, Opener


class Connections(Mapping[str, Connection]):
    def __init__(
        self, uris: Mapping[str, str], opener: Opener, describe: Callable[[BaseException, str], str]
    ):
        self.uris = dict(uris)
        self.opener = opener
        self.describe = describe
        self.errors: dict[str, str] = {}
        self._open: dict[str, Connection] = {}

    def __getitem__(self, host: str) -> Connection:
        if host in self._open:
            return self._open[host]
        if host in self.errors or host not in self.uris:
            raise KeyError(host)
        try:
            conn = self.opener(self.uris[host])
        except Exception as exc:  # any failure to open: the host is unreachable for this run
            self.errors[host] = self.describe(exc, self.uris[host])
            raise KeyError(host) from None
        self._open[host] = conn
        return conn

    def __iter__(self) -> Iterator[str]:
        return (host for host in self.uris if host in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def reach(self, hosts: Iterable[str]) -> dict[str, str]:
        """Open `hosts` now; the errors of those that cannot be reached."""
        return {h: self.errors[h] for h in sorted(hosts) if h not in self}

    @property
    def opened(self) -> tuple[str, ...]:
        return tuple(self._open)

    def close(self) -> None:
        for conn in self._open.values():
            with contextlib.suppress(Exception):
                conn.close()
        self._open.clear()
