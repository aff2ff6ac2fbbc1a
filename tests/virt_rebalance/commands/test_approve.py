"""`run --plan-only` and `approve RUN_ID` through CliRunner: the RUN_ID printed, exit codes, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from tests.virt_rebalance.fakes import write_config
from virt_rebalance.cli import main
from virt_rebalance.config import load_config
from virt_rebalance.jobs import approval, lock

APPROVED = '\n[policy]\nautomation = "approved"\n'


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


def _plan_only(config_path: Path) -> str:
    result = _cli("run", "--plan-only", "--config", str(config_path))
    assert result.exit_code == 0, result.output
    assert "plan-only held-for-approval (exit 0)" in result.output
    found = re.search(r"virt-rebalance approve (\S+-plan-only)`", result.output)
    assert found, result.output
    return found.group(1)


def test_plan_only_approve_run(fake_steps, tmp_path) -> None:
    config_path = write_config(tmp_path, APPROVED)
    run_id = _plan_only(config_path)
    assert fake_steps.applied == []
    approved = _cli("approve", run_id, "--config", str(config_path))
    assert approved.exit_code == 0, approved.output
    assert f"approved {run_id}: 2 migration(s)" in approved.output
    ran = _cli("run", "--config", str(config_path))
    assert ran.exit_code == 0, ran.output
    assert f"carrying out the approved plan {run_id}" in ran.output
    assert len(fake_steps.applied) == 1


def test_run_without_approval_exits_8_and_says_what_to_approve(fake_steps, tmp_path) -> None:
    config_path = write_config(tmp_path, APPROVED)
    result = _cli("run", "--config", str(config_path))
    assert result.exit_code == 8, result.output
    assert "run held-for-approval (exit 8)" in result.output
    assert "no plan was approved (none was held); plan " in result.output
    assert "virt-rebalance approve " in result.output
    assert fake_steps.applied == []


def test_approve_an_unknown_run_id_exits_2_naming_the_held_one(fake_steps, config_path) -> None:
    run_id = _plan_only(config_path)
    result = _cli("approve", "20200101T000000Z-run", "--config", str(config_path))
    assert result.exit_code == 2
    assert f"the held plan is {run_id}" in result.output
    assert "Traceback" not in result.output


def test_approve_under_full_automation_warns(fake_steps, config_path) -> None:
    run_id = _plan_only(config_path)
    result = _cli("approve", run_id, "--config", str(config_path))
    assert result.exit_code == 0
    assert 'policy.automation is "full"' in result.output


def test_approve_waits_for_no_running_job(fake_steps, config_path) -> None:
    run_id = _plan_only(config_path)
    with lock.hold(load_config(config_path).state_dir, "nightly run"):
        result = _cli("approve", run_id, "--config", str(config_path))
    assert result.exit_code == 1
    assert "another run holds" in result.output
    held = approval.load(load_config(config_path).state_dir)
    assert held is not None and held.status == "pending"


def test_approve_with_a_damaged_approval_file_exits_2(config_path) -> None:
    state = Path(load_config(config_path).state_dir)
    state.mkdir(parents=True)
    (state / "approval.json").write_text("{")
    result = _cli("approve", "x", "--config", str(config_path))
    assert result.exit_code == 2
    assert "not an approval file" in result.output
