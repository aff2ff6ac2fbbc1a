"""`virt-rebalance evacuate` and `maintenance` through CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from virt_rebalance.cli import main
from virt_rebalance.config import load_config
from virt_rebalance.jobs import maintenance


def test_says_up_front_what_cannot_leave_then_moves(fake_steps, config_path) -> None:
    result = CliRunner().invoke(main, ["evacuate", "h1", "--config", str(config_path)])
    assert result.exit_code == 4, result.output
    out = result.output
    assert (
        out.index("g-kvm cannot leave h1") < out.index("Migrations, in order") < out.index("evacuate partial")
    )
    assert "in maintenance: h1" in out
    assert len(fake_steps.applied) == 1


def test_dry_run_moves_and_marks_nothing(fake_steps, config_path) -> None:
    result = CliRunner().invoke(main, ["evacuate", "h1", "--dry-run", "--config", str(config_path)])
    assert result.exit_code == 4  # what the evacuation would end with: g-kvm stays
    assert "g-kvm cannot leave h1" in result.output and "web-2" in result.output
    assert fake_steps.applied == []
    assert maintenance.load(load_config(config_path).state_dir) == {}


def test_unknown_host_exits_2(fake_steps, config_path) -> None:
    result = CliRunner().invoke(main, ["evacuate", "h9", "--config", str(config_path)])
    assert result.exit_code == 2
    assert "h9" in result.output


def test_maintenance_list_and_end(fake_steps, config_path) -> None:
    CliRunner().invoke(main, ["evacuate", "h2", "--config", str(config_path)])
    listed = CliRunner().invoke(main, ["maintenance", "list", "--config", str(config_path)])
    assert listed.output.startswith("h2\tsince ")
    ended = CliRunner().invoke(main, ["maintenance", "end", "h2", "--config", str(config_path)])
    assert ended.exit_code == 0 and "h2 is back in service" in ended.output
    again = CliRunner().invoke(main, ["maintenance", "end", "h2", "--config", str(config_path)])
    assert again.exit_code == 0 and "h2 was not in maintenance; nothing to do" in again.output
    unknown = CliRunner().invoke(main, ["maintenance", "end", "h9", "--config", str(config_path)])
    assert unknown.exit_code == 2 and "not in the config: h9" in unknown.output


def test_maintenance_list_json(fake_steps, config_path) -> None:
    empty = CliRunner().invoke(main, ["maintenance", "list", "--json", "--config", str(config_path)])
    assert json.loads(empty.output) == []
    CliRunner().invoke(main, ["evacuate", "h2", "--config", str(config_path)])
    listed = CliRunner().invoke(main, ["maintenance", "list", "--json", "--config", str(config_path)])
    [mark] = json.loads(listed.output)
    assert mark["host"] == "h2" and mark["reason"] and mark["since"]


@pytest.mark.parametrize(
    "argv",
    [["--config", "{c}", "maintenance", "list"], ["maintenance", "list", "--config", "{c}"]],
    ids=["before-the-command", "after-it"],
)
def test_config_before_or_after_the_command(fake_steps, config_path, argv) -> None:
    env = {"VIRT_REBALANCE_CONFIG": "/nonexistent.toml"}
    result = CliRunner(env=env).invoke(main, [a.format(c=config_path) for a in argv])
    assert result.exit_code == 0 and "no host is in maintenance" in result.output, result.output


def test_a_missing_config_says_what_to_do(tmp_path) -> None:
    result = CliRunner().invoke(main, ["maintenance", "list", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 2
    assert f"virt-rebalance config init -o {tmp_path / 'none.toml'}" in result.output


def test_config_from_the_environment(fake_steps, config_path) -> None:
    result = CliRunner(env={"VIRT_REBALANCE_CONFIG": str(config_path)}).invoke(main, ["maintenance", "list"])
    assert result.exit_code == 0 and "no host is in maintenance" in result.output


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["run", "dry-run"])
def test_when_no_guest_can_leave_it_is_a_failure_not_nothing_to_do(fake_steps, config_path, dry_run) -> None:
    fake_steps.evacuate_moves = []  # every host emptied at once: nowhere to go, g-kvm stays
    result = CliRunner().invoke(main, ["evacuate", "h1", "h2", "h3", *dry_run, "--config", str(config_path)])
    assert result.exit_code == 1, result.output
    assert "no guest can leave; 1 stay" in result.output and "nothing to do" not in result.output
    assert fake_steps.applied == []
