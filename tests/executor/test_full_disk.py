"""The journal's disk fills up mid-apply: no new migration starts, what runs finishes and is reported, and
`--resume` completes once there is room again."""

from __future__ import annotations

from pathlib import Path

import pytest

from executor.apply import apply_plan
from executor.report import ProgressEvent
from planner.errors import FileWriteError
from tests.executor.harness import Lab, statuses
from tests.full_disk import fill, tiny_disk


def test_a_full_journal_starts_nothing_new_and_resume_completes(tmp_path: Path) -> None:
    lab = Lab(tmp_path, hosts=4)
    lab.guest("a", "h1", memory_mib=200)
    lab.guest("b", "h3")
    plan = lab.plan(
        lab.move("m1", "a", "h1", "h2", bandwidth_mibps=200),
        lab.move("m2", "b", "h3", "h4"),
        max_concurrent=1,
    )
    config = lab.config()
    with tiny_disk(tmp_path / "state", size="256k") as state:
        filler: list[Path] = []

        def fill_once(event: ProgressEvent) -> None:
            if event.kind == "started" and not filler:
                filler.append(fill(state))

        report = apply_plan(plan, config, opener=lab.world.open, progress=fill_once)
        assert statuses(report) == {"m1": "done", "m2": "not-started"}
        assert lab.where("a") == ["h2"] and lab.where("b") == ["h3"]
        assert "journal cannot be written" in report.outcomes[1].reason
        assert any("apply --resume" in w and "0 B free" in w for w in report.warnings)

        filler[0].unlink()
        resumed = lab.apply(plan, config, resume=True)
        assert statuses(resumed) == {"m1": "done", "m2": "done"}
        assert lab.where("b") == ["h4"]


def test_a_journal_on_a_full_disk_stops_before_anything_moves(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    lab.guest("a", "h1")
    with tiny_disk(tmp_path / "state") as state:
        fill(state)
        with pytest.raises(FileWriteError, match=r"journal.sqlite: .*\(0 B free\)"):
            lab.apply(lab.plan(lab.move("m1", "a", "h1", "h2")))
    assert lab.world.migrations == []
