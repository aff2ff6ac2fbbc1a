"""Our SQLite files (the usage history, the journal) carry their schema version in PRAGMA user_version and
move forward one step at a time; a file from a newer virt-rebalance is refused, never guessed at.

    migrate(db, path, STEPS)   # STEPS[i] is the SQL that takes version i to version i + 1

Version 0 is a file from before versions were kept (or a new, empty one): step 1 creates what is missing
with CREATE ... IF NOT EXISTS, so both end at version 1 with their rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from planner.errors import InputError


def migrate(db: sqlite3.Connection, path: str, steps: Sequence[str]) -> int:
    """Bring `db` to version len(steps); returns the version it had. Raises InputError for a newer file."""
    found = int(db.execute("PRAGMA user_version").fetchone()[0])
    if found > len(steps):
        raise InputError(
            path,
            "user_version",
            f"schema version {found} is newer than this virt-rebalance understands ({len(steps)}); upgrade it",
        )
    for version in range(found, len(steps)):
        db.executescript(f"BEGIN;\n{steps[version]}\nPRAGMA user_version = {version + 1};\nCOMMIT;")
    return found
