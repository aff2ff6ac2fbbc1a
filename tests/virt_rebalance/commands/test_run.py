"""`virt-rebalance run` through CliRunner: exit codes a scheduler can act on, the lock, the result line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from virt_rebalance.cli import main
from virt_rebalance.config import load_config
from virt_rebalance.jobs import lock


@pytest.mark.parametrize(
    ("moves", "outcome", "code", "words"),
    [
        ([("web-1", "h2")], lambda mid: ("done", ""), 0, "run done (exit 0): 1 of 1"),
        ([], lambda mid: ("done", ""), 3, "run nothing-to-do (exit 3)"),
        (
            [("web-1", "h2"), ("db-1", "h3")],
            lambda mid: ("failed", "stalled") if mid == "m2" else ("done", ""),
            4,
            "db-1 h1 -> h3: failed: stalled",
        ),
        ([("web-1", "h2")], lambda mid: ("failed", "refused"), 1, "run failed (exit 1)"),
    ],
    ids=["done", "nothing-to-do", "partial", "failed"],
)
def test_exit_codes(fake_steps, config_path, moves, outcome, code, words) -> None:
    fake_steps.moves, fake_steps.outcome = moves, outcome
    result = CliRunner().invoke(main, ["run", "--config", str(config_path)])
    assert result.exit_code == code, result.output
    assert words in result.output


def test_locked_exits_5_and_names_the_holder(fake_steps, config_path) -> None:
    with lock.hold(load_config(config_path).state_dir, "evacuate h1"):
        result = CliRunner().invoke(main, ["run", "--config", str(config_path)])
    assert result.exit_code == 5
    assert "evacuate h1" in result.output
    assert fake_steps.collected == []


def test_quiet_shows_only_the_result(fake_steps, config_path) -> None:
    result = CliRunner().invoke(main, ["--quiet", "run", "--config", str(config_path)])
    assert "Migrations, in order" not in result.output
    assert "run done" in result.output


def test_log_json_logs_lines_as_json(fake_steps, config_path) -> None:
    fake_steps.outcome = lambda mid: ("done", "") if mid == "m1" else ("failed", "stalled")
    result = CliRunner().invoke(main, ["--log-json", "run", "--config", str(config_path)])
    assert result.exit_code == 4
    final = json.loads(result.stdout.splitlines()[-1])  # the result: one JSON object
    assert (final["status"], final["exit_code"], final["planned"]) == ("partial", 4, 2)
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    ends = {line["migration"]: line for line in lines if "outcome" in line}
    assert ends["m1"]["outcome"] == "done" and ends["m1"]["level"] == "info"
    assert ends["m1"]["bytes"] == int(4096 * 1.1 * 2**20)
    assert ends["m2"]["outcome"] == "failed" and ends["m2"]["level"] == "warning"
    for line in ends.values():
        assert {"guest", "source", "destination", "duration_s", "ts", "msg"} <= set(line)
