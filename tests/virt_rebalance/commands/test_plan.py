"""`virt-rebalance plan` through click's CliRunner, over fake steps."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from planner.codec import cluster_to_json, plan_from_json
from tests.virt_rebalance.sample import sample_cluster
from virt_rebalance.cli import main


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("fmt", "expect"),
    [("text", "Migrations, in order"), ("json", '"schema_version": 2'), ("html", "<!DOCTYPE html>")],
    ids=["text", "json", "html"],
)
def test_each_format_on_stdout(fake_steps, config_path, fmt, expect) -> None:
    result = invoke("plan", "--config", str(config_path), "--format", fmt)
    assert result.exit_code == 0, result.output
    assert expect in result.output


def test_json_is_the_plan_apply_runs(fake_steps, config_path, tmp_path) -> None:
    out = tmp_path / "plan.json"
    result = invoke("plan", "--config", str(config_path), "--format", "json", "-o", str(out))
    assert result.exit_code == 0
    plan = plan_from_json(out.read_text(), str(out))
    assert [m.vm_name for m in plan.migrations] == ["web-1", "db-1"]


def test_text_lists_moves_hosts_stays_and_budgets(fake_steps, config_path) -> None:
    result = invoke("plan", "--config", str(config_path))
    for words in (
        "web-1",
        "h1",
        "Hosts, before -> after",
        "Staying, and why",
        "g-kvm",
        "Budgets used",
        "makespan",
    ):
        assert words in result.output


def test_snapshot_is_planned_without_collecting(fake_steps, config_path, tmp_path) -> None:
    snap = tmp_path / "snap.json"
    snap.write_text(cluster_to_json(sample_cluster()))
    result = invoke("plan", "--config", str(config_path), "--snapshot", str(snap))
    assert result.exit_code == 0
    assert fake_steps.collected == []


def test_evacuate_plans_the_evacuation_of_those_hosts(fake_steps, config_path) -> None:
    result = invoke("plan", "--config", str(config_path), "--evacuate", "h1", "--format", "json")
    plan = plan_from_json(result.output)
    assert plan.goal == "evacuate" and plan.evacuate == ("h1",)
    assert fake_steps.collected == [None]  # an evacuation acts on the present, not the history window


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--evacuate", "nope"], "not in the config: nope"),
        (["--format", "pdf"], "pdf"),
        (["--snapshot", "/nonexistent.json"], "cannot read"),
    ],
    ids=["unknown-host", "unknown-format", "missing-snapshot"],
)
def test_bad_input_exits_2(fake_steps, config_path, args, words) -> None:
    result = CliRunner().invoke(main, ["plan", "--config", str(config_path), *args])
    assert result.exit_code == 2
    assert words in result.output


def test_bad_config_names_file_line_and_key(fake_steps, tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[hosts]]\nname = "h1"\nuri = "qemu:///system"\ncpu_overcommit = -1\n')
    result = CliRunner().invoke(main, ["plan", "--config", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4: hosts[0].cpu_overcommit" in result.output


def test_plan_file_reports_a_saved_plan_without_collecting(fake_steps, config_path, tmp_path) -> None:
    saved = tmp_path / "plan.json"
    invoke("plan", "--config", str(config_path), "--format", "json", "-o", str(saved))
    fake_steps.collected.clear()
    result = invoke("plan", "--config", str(config_path), "--plan-file", str(saved))
    assert "Migrations, in order" in result.output and "web-1" in result.output
    assert fake_steps.collected == [] and len(fake_steps.planned) == 1


def test_plan_file_takes_no_snapshot(fake_steps, config_path, tmp_path) -> None:
    result = CliRunner().invoke(
        main, ["plan", "--config", str(config_path), "--plan-file", "p.json", "--snapshot", "s.json"]
    )
    assert result.exit_code == 2 and "--plan-file" in result.output
