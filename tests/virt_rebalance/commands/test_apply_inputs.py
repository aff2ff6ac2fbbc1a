"""`virt-rebalance apply` with inputs it must refuse or warn about, before touching any guest."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.executor.harness import Lab
from tests.virt_rebalance.commands.test_apply import files
from virt_rebalance.cli import main


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    lab = Lab(tmp_path)
    monkeypatch.setattr("collectors.connect.open_connection", lab.world.open)
    lab.guest("a", "h1")
    return lab


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["{tmp}/absent.json"], 2, "absent.json: cannot read: No such file or directory"),
        (["{plan}", "--deadline", "tonight"], 2, "expected HH:MM or an ISO date-time"),
        (["{plan}", "--deadline", "25:00"], 2, "expected HH:MM or an ISO date-time"),
    ],
    ids=["missing-plan-file", "deadline-words", "deadline-bad-hour"],
)
def test_refused_before_anything_moves(lab: Lab, args: list[str], code: int, words: str) -> None:
    plan, config = files(lab, lab.move("m1", "a", "h1", "h2"))
    argv = [a.format(tmp=lab.tmp, plan=plan) for a in args]
    result = CliRunner().invoke(main, ["apply", *argv, "--config", config])
    assert result.exit_code == code, result.output
    assert words in result.output
    assert lab.world.migrations == [] and lab.where("a") == ["h1"]


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("unsafe = true", "execute.unsafe is set"),
        ("paused = true", "execute.paused is set: guests will be left paused"),
    ],
    ids=["unsafe", "paused"],
)
def test_dry_run_warns_about_risky_options(lab: Lab, option: str, words: str) -> None:
    plan, config = files(lab, lab.move("m1", "a", "h1", "h2"))
    Path(config).write_text(Path(config).read_text() + option + "\n")
    result = CliRunner().invoke(main, ["apply", plan, "--config", config, "--dry-run", "--deadline", "23:59"])
    assert result.exit_code == 0, result.output
    assert f"warning: {words}" in result.output
    assert "no migration starts after" in result.output and "nothing was touched" in result.output
    assert lab.world.migrations == []
