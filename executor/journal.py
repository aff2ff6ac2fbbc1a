"""The journal: every migration's state, in SQLite under the state directory, written before acting.

States: planned -> started -> done | failed | aborted; planned -> skipped. A plan is known by the hash of
its JSON, so applying the same file again finds its earlier run. Each change is committed at once (a
SIGKILL loses nothing written), and every change is also appended to `events` for the record.
A lock file next to the database keeps two runs from applying at the same time.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from collectors.sqlite_schema import migrate
from files.lock import release, take
from files.safe_write import free_space, make_directory, write_error
from planner.codec import plan_to_json
from planner.errors import ExecutionError, FileWriteError
from planner.plan import Migration, Plan

_SCHEMA = """
CREATE TABLE IF NOT EXISTS migrations (
    plan_id TEXT NOT NULL, migration_id TEXT NOT NULL, vm_uuid TEXT NOT NULL, vm_name TEXT NOT NULL,
    source TEXT NOT NULL, destination TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
    started_at TEXT, ended_at TEXT, actual_s REAL, actual_mib REAL,
    PRIMARY KEY (plan_id, migration_id));
CREATE TABLE IF NOT EXISTS events (
    plan_id TEXT NOT NULL, migration_id TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
    at TEXT NOT NULL);
"""


# Version 2: what the plan expected of each migration, beside what it did (the calibration learns from both).
_ESTIMATES = """
ALTER TABLE migrations ADD COLUMN memory_mib INTEGER;
ALTER TABLE migrations ADD COLUMN bandwidth_mibps INTEGER;
ALTER TABLE migrations ADD COLUMN estimated_s REAL;
ALTER TABLE migrations ADD COLUMN estimated_mib REAL;
ALTER TABLE migrations ADD COLUMN model_mib REAL;
"""

# Version 3: each run of a plan, how long it took against the plan's estimate (the calibration's whole-run term).
_RUNS = """
CREATE TABLE runs (
    plan_id TEXT NOT NULL, finished_at TEXT NOT NULL, status TEXT NOT NULL, carried_out INTEGER NOT NULL,
    elapsed_s REAL NOT NULL, estimated_s REAL NOT NULL);
"""

# Schema versions (PRAGMA user_version), one step each: see collectors.sqlite_schema.
STEPS = (_SCHEMA, _ESTIMATES, _RUNS)
T = TypeVar("T")


def plan_id(plan: Plan) -> str:
    return hashlib.sha256(plan_to_json(plan).encode()).hexdigest()[:16]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    migration_id: str
    state: str
    reason: str
    started_at: str | None
    actual_s: float | None
    actual_mib: float | None


def _create_private(path: Path, flags: int = os.O_RDONLY) -> int:
    """Open `path`, created with mode 0600 if missing; never through a symlink (root must not follow one)."""
    return os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)


class Journal:
    """One plan's rows in the journal database at `state_dir/journal.sqlite`."""

    def __init__(self, state_dir: str | Path, plan: Plan) -> None:
        self.dir = Path(state_dir)
        self.plan_id = plan_id(plan)
        self._lock: int | None = None  # the lock file's descriptor while held
        make_directory(self.dir)
        self.path = self.dir / "journal.sqlite"
        try:
            os.close(_create_private(self.path))
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except OSError as exc:
            raise write_error(self.path, exc) from None
        except sqlite3.Error as exc:
            raise ExecutionError(f"cannot open the journal {self.path}: {exc}") from None
        self._write(lambda: migrate(self._db, str(self.path), STEPS))

    def lock(self) -> None:
        """Take the run lock or raise LockedError naming who holds it (released on exit, even SIGKILL)."""
        self._lock = take(self.dir / "apply.lock", f"pid {os.getpid()} plan {self.plan_id}")

    def close(self) -> None:
        self._db.close()
        if self._lock is not None:
            release(self._lock)
            self._lock = None

    def known(self) -> bool:
        row = self._db.execute("SELECT 1 FROM migrations WHERE plan_id = ? LIMIT 1", (self.plan_id,))
        return row.fetchone() is not None

    def add(self, migrations: tuple[Migration, ...]) -> None:
        """Record every migration as planned, keeping rows an earlier run already wrote.

        Every write raises FileWriteError (the path, the reason and the free space) when the database
        cannot be written: a full disk, a read-only file system."""
        for m in migrations:
            cur = self._execute(
                "INSERT OR IGNORE INTO migrations (plan_id, migration_id, vm_uuid, vm_name, source, "
                "destination, state, memory_mib, bandwidth_mibps, estimated_s, estimated_mib, model_mib) "
                "VALUES (?, ?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?, ?)",
                (self.plan_id, m.id, m.vm_uuid, m.vm_name, m.source, m.destination, m.memory_mib,
                 m.bandwidth_mibps, m.estimated_s, m.estimated_mib, m.model_mib or None),
            )  # fmt: skip
            if cur.rowcount:
                self._event(m.id, "planned", "")

    def entries(self) -> dict[str, Entry]:
        rows = self._db.execute(
            "SELECT migration_id, state, reason, started_at, actual_s, actual_mib FROM migrations "
            "WHERE plan_id = ?",
            (self.plan_id,),
        )
        names = [f.name for f in fields(Entry)]  # the columns selected, in order
        return {r[0]: Entry(**dict(zip(names, r, strict=True))) for r in rows}

    def set(
        self,
        migration_id: str,
        state: str,
        reason: str = "",
        actual_s: float | None = None,
        actual_mib: float | None = None,
    ) -> None:
        now = _now()
        started = now if state == "started" else None
        ended = now if state in ("done", "failed", "aborted", "skipped") else None
        self._execute(
            "UPDATE migrations SET state = ?, reason = ?, started_at = COALESCE(?, started_at), "
            "ended_at = ?, actual_s = COALESCE(?, actual_s), actual_mib = COALESCE(?, actual_mib) "
            "WHERE plan_id = ? AND migration_id = ?",
            (state, reason, started, ended, actual_s, actual_mib, self.plan_id, migration_id),
        )
        self._event(migration_id, state, reason)

    def record_run(self, status: str, carried_out: int, elapsed_s: float, estimated_s: float) -> None:
        """How this run of the plan ended: its status, the migrations it carried out, its time and estimate."""
        self._execute(
            "INSERT INTO runs (plan_id, finished_at, status, carried_out, elapsed_s, estimated_s) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (self.plan_id, _now(), status, carried_out, elapsed_s, estimated_s),
        )

    def _event(self, migration_id: str, state: str, reason: str) -> None:
        self._execute(
            "INSERT INTO events (plan_id, migration_id, state, reason, at) VALUES (?, ?, ?, ?, ?)",
            (self.plan_id, migration_id, state, reason, _now()),
        )

    def _execute(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        return self._write(lambda: self._db.execute(sql, params))

    def _write(self, change: Callable[[], T]) -> T:
        try:
            return change()
        except sqlite3.OperationalError as exc:  # "database or disk is full", "readonly database", I/O
            raise FileWriteError(str(self.path), f"{exc} ({free_space(self.path)})") from None
