"""`virt-rebalance apply`: dry run, a real run on fake hosts, resume, deadlines and bad plan files."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.codec import plan_to_json
from planner.policy import Budgets, LinkCalibration
from tests.executor.harness import Lab
from tests.virt_rebalance.sample import sample_plan
from virt_rebalance.cli import main
from virt_rebalance.commands.apply import budget_changes, parse_deadline


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    lab = Lab(tmp_path)
    monkeypatch.setattr("collectors.connect.open_connection", lab.world.open)
    lab.guest("a", "h1")
    lab.guest("b", "h2")
    return lab


def files(lab: Lab, *moves, execute: str = "") -> tuple[str, str]:
    plan = lab.tmp / "plan.json"
    plan.write_text(plan_to_json(lab.plan(*moves)))
    hosts = "".join(
        f'[[hosts]]\nname = "{n}"\nuri = "{h.uri}"\nmigration_uri = "tcp://{n}"\n\n'
        for n, h in lab.world.hosts.items()
    )
    config = lab.tmp / "cluster.toml"
    config.write_text(
        f'state_dir = "{lab.tmp / "state"}"\n\n{hosts}[execute]\npoll_interval_s = 0.01\n{execute}'
    )
    return str(plan), str(config)


def test_dry_run_prints_order_and_touches_nothing(lab: Lab) -> None:
    plan, config = files(
        lab, lab.move("m1", "a", "h1", "h2"), lab.move("m2", "b", "h2", "h3", depends_on=("m1",))
    )
    result = CliRunner().invoke(main, ["apply", plan, "--config", config, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        "m2" in result.output
        and "h2 -> h3" in result.output
        and "budgets (the plan's): 2 out" in result.output
    )
    assert "nothing was touched" in result.output and "plan made 0 min ago" in result.output
    assert lab.world.migrations == [] and not (lab.tmp / "state").exists()
    assert not set("│┃─━┏┡└") & set(result.output)  # piped: plain aligned lines, no box drawing


def test_apply_keeps_the_plans_budgets_and_names_what_the_config_changed(lab: Lab) -> None:
    plan, config = files(
        lab,
        lab.move("m1", "a", "h1", "h2"),
        lab.move("m2", "b", "h2", "h3"),
        execute="max_concurrent = 1\n[defaults]\nnic_mibps = 500\n",
    )
    dry = CliRunner().invoke(main, ["apply", plan, "--config", config, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 out / 2 in per host, 8 in the cluster" in dry.output  # the plan's, not the config's 1
    assert "max_concurrent 8 (the config: 1)" in dry.output
    assert "h1's NIC 1192 MiB/s (the config: 500)" in dry.output
    run = CliRunner().invoke(main, ["apply", plan, "--config", config])
    assert run.exit_code == 0 and "make a new plan to use the config's" in run.output
    assert lab.where("a") == ["h2"] and lab.where("b") == ["h3"]


def test_apply_runs_then_reports_nothing_to_do(lab: Lab) -> None:
    plan, config = files(lab, lab.move("m1", "a", "h1", "h2"))
    first = CliRunner().invoke(main, ["apply", plan, "--config", config])
    assert first.exit_code == 0, first.output
    assert "apply done: 1 of 1" in first.output and lab.where("a") == ["h2"]
    again = CliRunner().invoke(main, ["apply", plan, "--config", config, "--resume"])
    assert again.exit_code == 3 and "nothing-to-do" in again.output


def test_every_move_skipped_exits_1_with_reason(lab: Lab) -> None:
    plan, config = files(lab, lab.move("m1", "a", "h1", "h2"))
    lab.world.place(lab.guests["a"], lab.world.hosts["h3"])
    result = CliRunner().invoke(main, ["apply", plan, "--config", config])
    assert result.exit_code == 1 and "skipped: a is no longer on h1" in result.output  # nothing carried out


def test_bad_plan_file_names_file_and_field(lab: Lab) -> None:
    _, config = files(lab)
    bad = lab.tmp / "bad.json"
    bad.write_text('{"schema_version": 1, "goal": "rebalance"}')
    result = CliRunner().invoke(main, ["apply", str(bad), "--config", config])
    assert result.exit_code == 2 and "bad.json: snapshot" in result.output


NOW = datetime(2026, 11, 26, 23, 0, tzinfo=timezone(timedelta(hours=1)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23:30", NOW.replace(minute=30)),
        ("05:00", NOW.replace(hour=5) + timedelta(days=1)),
        ("2026-11-27T04:00:00+00:00", datetime(2026, 11, 27, 4, tzinfo=UTC)),
    ],
    ids=["later-today", "tomorrow-morning", "iso"],
)
def test_parse_deadline(text: str, expected: datetime) -> None:
    assert parse_deadline(text, NOW) == expected


def test_locked_out_exits_5(lab: Lab) -> None:
    from executor.journal import Journal
    from planner.codec import plan_from_json

    plan, config = files(lab, lab.move("m1", "a", "h1", "h2"))
    holder = Journal(lab.tmp / "state", plan_from_json(Path(plan).read_text()))
    holder.lock()
    result = CliRunner().invoke(main, ["apply", plan, "--config", config])
    holder.close()
    assert result.exit_code == 5 and "another run holds" in result.output


def test_apply_refuses_while_a_nightly_run_holds_the_run_lock(lab: Lab) -> None:
    from virt_rebalance.jobs import lock

    plan, config = files(lab, lab.move("m1", "a", "h1", "h2"))
    with lock.hold(lab.tmp / "state", "nightly run"):
        result = CliRunner().invoke(main, ["apply", plan, "--config", config])
    assert result.exit_code == 5 and "nightly run" in result.output
    assert lab.world.migrations == [] and lab.where("a") == ["h1"]


@pytest.mark.parametrize(
    ("planned", "configured", "words"),
    [
        (Budgets(), Budgets(), None),
        (Budgets(links={"h1>h2": LinkCalibration(setup_s=3.0, samples=4)}), Budgets(), None),
        (Budgets(host_nic_mibps={"h1": 1192}), Budgets(host_nic_mibps={"h1": 1192}), None),
        (Budgets(max_incoming_per_host=1), Budgets(), "max_incoming_per_host 1 (the config: 2)"),
        (Budgets(), Budgets(host_nic_mibps={"h2": 100}), "h2's NIC 1192 MiB/s (the config: 100)"),
    ],
    ids=["same", "calibrated-links-are-not-config", "same-nics", "a-count-changed", "a-nic-changed"],
)
def test_budget_changes_name_what_the_config_sets_otherwise(
    planned: Budgets, configured: Budgets, words: str | None
) -> None:
    plan = replace(sample_plan(), budgets=planned)
    warnings = budget_changes(plan, configured)
    assert (words in warnings[0]) if words else warnings == []
