"""The history and the journal carry a schema version: new and old files move forward, newer ones are refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from collectors.history import History
from executor.journal import Journal
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


def test_a_new_history_and_journal_have_version_1(tmp_path: Path) -> None:
    History(tmp_path / "history.sqlite").close()
    Journal(tmp_path, sample_plan()).close()
    assert _version(tmp_path / "history.sqlite") == 1
    assert _version(tmp_path / "journal.sqlite") == 1


def test_a_journal_from_before_versions_keeps_its_rows(tmp_path: Path) -> None:
    plan = sample_plan()
    journal = Journal(tmp_path, plan)
    journal.add(plan.migrations)
    journal.close()
    _set_version(tmp_path / "journal.sqlite", 0)
    again = Journal(tmp_path, plan)
    assert again.known() and set(again.entries()) == {m.id for m in plan.migrations}
    again.close()
    assert _version(tmp_path / "journal.sqlite") == 1


@pytest.mark.parametrize("name", ["history.sqlite", "journal.sqlite"])
def test_a_newer_file_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    sqlite3.connect(path).close()
    _set_version(path, 7)
    with pytest.raises(
        InputError, match=rf"{name}: user_version: schema version 7 is newer .* \(1\); upgrade it"
    ):
        History(path) if name == "history.sqlite" else Journal(tmp_path, sample_plan())
