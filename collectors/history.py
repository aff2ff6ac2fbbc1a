"""Usage history in SQLite, so a nightly decision rests on a window of samples, not on one instant.

`collect --record` appends one sample per guest; samples older than the retention are dropped on each
append. `summarise` gives, per guest UUID, the mean and the 95th percentile of CPU over a window.
The same file keeps each host's last reading (`saw`, `last_readings`; the tables are in last_seen).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

from collectors import last_seen
from collectors.last_seen import Reading
from collectors.sqlite_schema import migrate
from planner.model import Vm

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    at REAL NOT NULL,               -- seconds since the epoch, UTC
    uuid TEXT NOT NULL,
    host TEXT NOT NULL,
    cpu_millicores INTEGER NOT NULL,
    memory_used_mib INTEGER,
    dirty_rate_mibps INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_at ON samples (at);
CREATE INDEX IF NOT EXISTS samples_uuid_at ON samples (uuid, at);
"""


# Schema versions (PRAGMA user_version), one step each: see collectors.sqlite_schema.
STEPS = (_SCHEMA + last_seen.SCHEMA,)


@dataclass(frozen=True, slots=True)
class CpuSummary:
    mean_millicores: int
    p95_millicores: int
    samples: int


class History:
    """One SQLite file; use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self._db = sqlite3.connect(self.path)
        try:
            migrate(self._db, self.path, STEPS)
        except BaseException:
            self._db.close()
            raise

    def __enter__(self) -> History:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def record(self, at: datetime, vms: Iterable[Vm], retention: timedelta) -> int:
        """Append a sample per guest with usage (running ones), drop samples older than `retention`."""
        ts = at.timestamp()
        rows = [
            (ts, vm.uuid, vm.host, vm.cpu_millicores, vm.memory_used_mib, vm.dirty_rate_mibps)
            for vm in vms
            if vm.state == "running"
        ]
        with self._db:
            self._db.executemany("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?)", rows)
            self._db.execute("DELETE FROM samples WHERE at < ?", ((at - retention).timestamp(),))
        return len(rows)

    def summarise(self, since: datetime, until: datetime) -> dict[str, CpuSummary]:
        """Per guest UUID: mean and p95 (nearest rank) of its CPU samples in [since, until]."""
        cur = self._db.execute(
            "SELECT uuid, cpu_millicores FROM samples WHERE at BETWEEN ? AND ? ORDER BY uuid, cpu_millicores",
            (since.timestamp(), until.timestamp()),
        )
        values: dict[str, list[int]] = {}
        for uuid, cpu in cur:
            values.setdefault(uuid, []).append(int(cpu))
        return {uuid: _summary(v) for uuid, v in values.items()}

    def saw(self, at: datetime, seen: Mapping[str, Sequence[Vm]], retention: timedelta) -> None:
        """Each host in `seen` was read at `at` with these guests: its last reading from now on."""
        last_seen.save(self._db, at, seen, retention)

    def last_readings(self, hosts: Sequence[str], since: datetime) -> dict[str, Reading]:
        """The last reading of each of `hosts` taken since `since`."""
        return last_seen.load(self._db, hosts, since)

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])


def _summary(sorted_values: list[int]) -> CpuSummary:
    n = len(sorted_values)
    p95 = sorted_values[max(0, math.ceil(0.95 * n) - 1)]
    return CpuSummary(round(sum(sorted_values) / n), p95, n)
