"""Approval mode over fake steps: plan-only holds, approve marks, a run carries out only what holds."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from planner.errors import InputError
from tests.virt_rebalance.fakes import write_config
from virt_rebalance.config import Config, load_config
from virt_rebalance.jobs import approval
from virt_rebalance.jobs.exitcodes import ExitCode
from virt_rebalance.jobs.nightly import run_nightly

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def approved_config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path, '\n[policy]\nautomation = "approved"\n'))


def _plan_only(config: Config, now: datetime = NOW) -> str:
    summary = run_nightly(config, now=now, plan_only=True)
    assert (summary.job, summary.status, summary.exit_code) == ("plan-only", "held-for-approval", 0)
    return Path(summary.files["plan"]).parent.name


def test_plan_only_holds_the_plan_and_moves_nothing(fake_steps, config) -> None:
    run_id = _plan_only(config)
    held = approval.load(config.state_dir)
    assert held is not None
    assert (held.run_id, held.status, held.migrations) == (run_id, "pending", 2)
    assert fake_steps.applied == []
    state = Path(config.state_dir)
    assert not (state / "last-run.json").exists(), "a plan-only run must not count as tonight's run"
    last = json.loads((state / "last-plan-only.json").read_text())
    assert f"virt-rebalance approve {run_id}" in last["message"]
    assert {o["status"] for o in last["outcomes"]} == {"not-started"}


def test_approved_plan_is_carried_out_once(fake_steps, approved_config) -> None:
    run_id = _plan_only(approved_config)
    approval.approve(approved_config.state_dir, run_id, "alice", NOW)
    fake_steps.moves = [("web-2", "h3")]  # what a new plan would do tonight
    summary = run_nightly(approved_config, now=NOW + timedelta(hours=8))
    assert (summary.status, summary.exit_code) == ("done", ExitCode.DONE)
    carried = [m.vm_name for m in fake_steps.applied[0]["plan"].migrations]
    assert carried == ["web-1", "db-1"], "the run carries out the approved plan, not a new one"
    assert fake_steps.applied[0]["force"] is True  # older than max_plan_age_s by design
    held = approval.load(approved_config.state_dir)
    assert held is not None and held.status == "carried-out"
    assert held.carried_out_by == Path(summary.files["plan"]).parent.name
    again = run_nightly(approved_config, now=NOW + timedelta(hours=9))
    assert (again.status, again.exit_code) == ("held-for-approval", ExitCode.AWAITING_APPROVAL)
    assert "already carried out" in again.message
    assert len(fake_steps.applied) == 1


def test_without_an_approved_plan_a_new_one_is_held(fake_steps, approved_config) -> None:
    summary = run_nightly(approved_config, now=NOW)
    assert (summary.status, summary.exit_code) == ("held-for-approval", ExitCode.AWAITING_APPROVAL)
    assert "no plan was approved (none was held)" in summary.message
    run_id = Path(summary.files["plan"]).parent.name
    assert f"virt-rebalance approve {run_id}" in summary.message
    assert fake_steps.applied == []
    pending = run_nightly(approved_config, now=NOW + timedelta(hours=1))
    assert f"plan {run_id} is not approved yet" in pending.message


def test_a_stale_approved_plan_is_held_again(fake_steps, approved_config) -> None:
    run_id = _plan_only(approved_config)
    approval.approve(approved_config.state_dir, run_id, "alice", NOW)
    cluster = fake_steps.cluster  # web-1 moved by hand since the plan was made
    fake_steps.cluster = replace(
        cluster, vms=tuple(replace(v, host="h3") if v.name == "web-1" else v for v in cluster.vms)
    )
    summary = run_nightly(approved_config, now=NOW + timedelta(hours=8))
    assert (summary.status, summary.exit_code) == ("held-for-approval", ExitCode.AWAITING_APPROVAL)
    assert f"the approved plan {run_id} no longer holds: web-1 is on h3 now" in summary.message
    assert fake_steps.applied == []
    held = approval.load(approved_config.state_dir)
    assert held is not None and held.status == "pending" and held.run_id != run_id


def test_a_plan_file_changed_after_approval_is_not_run(fake_steps, approved_config) -> None:
    run_id = _plan_only(approved_config)
    approval.approve(approved_config.state_dir, run_id, "alice", NOW)
    held = approval.load(approved_config.state_dir)
    assert held is not None
    Path(held.plan).write_text(Path(held.plan).read_text().replace('"h2"', '"h3"'))
    summary = run_nightly(approved_config, now=NOW + timedelta(hours=8))
    assert summary.exit_code == ExitCode.AWAITING_APPROVAL
    assert "was changed after it was held" in summary.message
    assert fake_steps.applied == []


def test_outside_the_window_the_approval_waits(fake_steps, tmp_path) -> None:
    config = load_config(
        write_config(tmp_path, '\n[policy]\nautomation = "approved"\nwindow = "22:00-05:00"\n')
    )
    run_id = _plan_only(config, datetime(2026, 12, 2, 12, 0).astimezone())
    approval.approve(config.state_dir, run_id, "alice", NOW)
    closed = run_nightly(config, now=datetime(2026, 12, 2, 13, 0).astimezone())
    assert closed.exit_code == ExitCode.OUTSIDE_WINDOW
    held = approval.load(config.state_dir)
    assert held is not None and held.status == "approved"
    opened = run_nightly(config, now=datetime(2026, 12, 2, 23, 0).astimezone())
    assert opened.exit_code == ExitCode.DONE


def test_full_automation_ignores_approvals(fake_steps, config) -> None:
    summary = run_nightly(config, now=NOW)
    assert summary.exit_code == ExitCode.DONE
    assert approval.load(config.state_dir) is None


@pytest.mark.parametrize(
    ("run_id", "words"),
    [("20261202T140000Z-plan-only", ""), ("20261201T000000Z-plan-only", "the held plan is")],
    ids=["held", "another"],
)
def test_approve_names_the_held_plan(fake_steps, config, run_id: str, words: str) -> None:
    held_id = _plan_only(config)
    assert held_id == "20261202T140000Z-plan-only"
    if not words:
        assert approval.approve(config.state_dir, run_id, "bob", NOW).status == "approved"
        assert approval.approve(config.state_dir, run_id, "bob", NOW).approved_by == "bob"  # idempotent
        return
    with pytest.raises(InputError, match=f"{words} {held_id}"):
        approval.approve(config.state_dir, run_id, "bob", NOW)


def test_approve_with_nothing_held(config) -> None:
    with pytest.raises(InputError, match="no plan is held for approval"):
        approval.approve(config.state_dir, "x", "bob", NOW)


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"run_id": "x"}', '{"run_id": 1, "plan": "p", "sha256": "s", "status": "odd", '
     '"held_at": "", "migrations": 0}'],
    ids=["text", "list", "missing", "status"],
)  # fmt: skip
def test_a_damaged_approval_file_is_an_input_error(config, content: str) -> None:
    path = approval.path_in(config.state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    with pytest.raises(InputError, match=r"approval\.json"):
        approval.load(config.state_dir)


def test_the_held_plan_outlives_the_pruning_of_old_runs(fake_steps, tmp_path) -> None:
    config = load_config(write_config(tmp_path, top="keep_runs = 1\n"))
    run_id = _plan_only(config)
    for hour in range(1, 4):
        run_nightly(config, now=NOW + timedelta(hours=hour))
    runs = sorted(p.name for p in (Path(config.state_dir) / "runs").iterdir())
    assert runs == [run_id, "20261202T170000Z-run"]
