"""The history and the journal carry a schema version: new and old files move forward, newer ones are refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from collectors.history import History
from executor.journal import STEPS as JOURNAL_STEPS
from executor.journal import Journal, plan_id
from planner.errors import InputError
from tests.virt_rebalance.sample import sample_plan


def _version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def _set_version(path: Path, version: int) -> None:
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()


def test_a_new_history_and_journal_have_their_versions(tmp_path: Path) -> None:
    History(tmp_path / "history.sqlite").close()
    Journal(tmp_path, sample_plan()).close()
    assert _version(tmp_path / "history.sqlite") == 1
    assert _version(tmp_path / "journal.sqlite") == len(JOURNAL_STEPS) == 3


@pytest.mark.parametrize("version", [0, 1, 2], ids=["before-versions", "version-1", "version-2"])
def test_an_older_journal_keeps_its_rows(tmp_path: Path, version: int) -> None:
    """A file as version 0 (no user_version), 1 (no estimates) or 2 (no runs) wrote it moves forward with
    its rows."""
    plan = sample_plan()
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    for step in JOURNAL_STEPS[: max(version, 1)]:
        db.executescript(step)
    for m in plan.migrations:
        db.execute(
            "INSERT INTO migrations (plan_id, migration_id, vm_uuid, vm_name, source, destination, state) "
            "VALUES (?, ?, ?, ?, ?, ?, 'done')",
            (plan_id(plan), m.id, m.vm_uuid, m.vm_name, m.source, m.destination),
        )
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()
    again = Journal(tmp_path, plan)
    assert again.known() and set(again.entries()) == {m.id for m in plan.migrations}
    again.close()
    assert _version(tmp_path / "journal.sqlite") == len(JOURNAL_STEPS)


@pytest.mark.parametrize("name", ["history.sqlite", "journal.sqlite"])
def test_a_newer_file_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    sqlite3.connect(path).close()
    _set_version(path, 7)
    known = 1 if name == "history.sqlite" else len(JOURNAL_STEPS)
    with pytest.raises(
        InputError, match=rf"{name}: user_version: schema version 7 is newer .* \({known}\); upgrade it"
    ):
        History(path) if name == "history.sqlite" else Journal(tmp_path, sample_plan())
