"""The nightly job over fake steps: what it records, which exit code, the window, the maintenance marks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from executor.interrupt import Interrupt
from planner.errors import CollectError, ShortHistoryError
from planner.model import HostState
from tests.virt_rebalance.fakes import write_config
from virt_rebalance.config import load_config
from virt_rebalance.jobs import maintenance
from virt_rebalance.jobs.exitcodes import ExitCode
from virt_rebalance.jobs.nightly import run_nightly


@pytest.mark.parametrize(
    ("moves", "outcome", "status", "code"),
    [
        ([("web-1", "h2"), ("db-1", "h3")], lambda mid: ("done", ""), "done", ExitCode.DONE),
        ([], lambda mid: ("done", ""), "nothing-to-do", ExitCode.NOTHING_TO_DO),
        (
            [("web-1", "h2"), ("db-1", "h3")],
            lambda mid: ("done", "") if mid == "m1" else ("failed", "stalled"),
            "partial",
            ExitCode.PARTIAL,
        ),
        ([("web-1", "h2")], lambda mid: ("failed", "link down"), "failed", ExitCode.FAILED),
    ],
    ids=["done", "nothing-to-do", "partial", "failed"],
)
def test_exit_code_follows_the_outcome(fake_steps, config, moves, outcome, status, code) -> None:
    fake_steps.moves, fake_steps.outcome = moves, outcome
    summary = run_nightly(config)
    assert (summary.status, summary.exit_code) == (status, code)
    assert len(fake_steps.applied) == (1 if moves else 0)


def test_records_plan_reports_summary_and_metrics(fake_steps, config) -> None:
    summary = run_nightly(config)
    state = Path(config.state_dir)
    last = json.loads((state / "last-run.json").read_text())
    assert last["status"] == "done" and last["planned"] == 2
    assert [o["status"] for o in last["outcomes"]] == ["done", "done"]
    run_dir = Path(summary.files["plan"]).parent
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "plan.json",
        "report.html",
        "report.txt",
        "summary.json",
    ]
    assert "web-1" in (run_dir / "report.txt").read_text()
    assert 'outcome="done"} 2.0' in (state / "metrics" / "virt-rebalance-run.prom").read_text()


def test_collects_with_the_history_window(fake_steps, tmp_path) -> None:
    config = load_config(write_config(tmp_path, "\n[collect]\nwindow_hours = 6\n"))
    run_nightly(config)
    assert fake_steps.collected == [6.0]


def test_outside_the_window_writes_the_plan_and_moves_nothing(fake_steps, tmp_path) -> None:
    config = load_config(write_config(tmp_path, '\n[policy]\nwindow = "22:00-05:00"\n'))
    summary = run_nightly(config, now=datetime(2026, 11, 26, 12, 0).astimezone())
    assert summary.exit_code == ExitCode.OUTSIDE_WINDOW
    assert fake_steps.applied == []
    assert Path(summary.files["plan"]).exists()
    assert {o.status for o in summary.outcomes} == {"not-started"}


def test_inside_the_window_the_deadline_is_its_end(fake_steps, tmp_path) -> None:
    config = load_config(write_config(tmp_path, '\n[policy]\nwindow = "22:00-05:00"\n'))
    run_nightly(config, now=datetime(2026, 11, 26, 23, 0).astimezone())
    assert fake_steps.applied[0]["deadline"] == datetime(2026, 11, 27, 5, 0).astimezone()


def test_hosts_in_maintenance_reach_the_planner_as_such(fake_steps, config) -> None:
    maintenance.mark(config.state_dir, ["h3"], "evacuate")
    run_nightly(config)
    assert fake_steps.planned[0].host_by_name["h3"].state is HostState.MAINTENANCE


def test_a_failed_run_is_recorded_and_raised(fake_steps, config, monkeypatch) -> None:
    def no_host(config, *, window_hours=None):
        raise CollectError({"h1": "refused"})

    monkeypatch.setattr("virt_rebalance.jobs.steps.collect", no_host)
    with pytest.raises(CollectError):
        run_nightly(config)
    last = json.loads((Path(config.state_dir) / "last-run.json").read_text())
    assert last["status"] == "failed" and "refused" in last["message"]


def test_old_run_directories_are_pruned(fake_steps, tmp_path) -> None:
    config = load_config(write_config(tmp_path, top="keep_runs = 2\n"))
    for hour in range(4):
        run_nightly(config, now=datetime(2026, 11, 26, hour, tzinfo=UTC))
    assert len(list((Path(config.state_dir) / "runs").iterdir())) == 2


@pytest.mark.parametrize(
    ("samples", "allow", "refused"),
    [(3, False, True), (12, False, False), (0, True, False)],
    ids=["too-few", "enough", "allowed"],
)
def test_refuses_to_plan_on_a_short_history(fake_steps, config, samples, allow, refused) -> None:
    fake_steps.history_samples = samples
    if not refused:
        assert run_nightly(config, allow_short_history=allow).status == "done"
        return
    with pytest.raises(ShortHistoryError, match=r"holds 3 sample.* fewer than collect.min_samples = 12"):
        run_nightly(config, allow_short_history=allow)
    assert fake_steps.collected == [] and fake_steps.applied == []
    last = json.loads((Path(config.state_dir) / "last-run.json").read_text())
    assert last["status"] == "failed" and "--allow-short-history" in last["message"]


def test_history_samples_reads_the_window(config) -> None:
    from collectors.history import History
    from tests.builders import make_vm
    from virt_rebalance.jobs import steps

    now = datetime.now(UTC)
    assert steps.history_samples(config, now) == 0
    Path(config.state_dir).mkdir(parents=True, exist_ok=True)
    with History(Path(config.state_dir) / "history.sqlite") as history:
        for minutes in (5, 10, 15):
            history.record(
                now - timedelta(minutes=minutes), [make_vm("a", "h1", uuid="u-a")], timedelta(days=1)
            )
    assert steps.history_samples(config, now) == 3


def test_an_interrupted_run_is_recorded_with_its_own_status_and_how_to_resume(fake_steps, config) -> None:
    interrupt = Interrupt()
    fake_steps.apply_hook = lambda: interrupt.stop("interrupted by SIGTERM")
    fake_steps.outcome = lambda mid: (
        ("done", "") if mid == "m1" else ("not-started", "interrupted by SIGTERM")
    )
    summary = run_nightly(config, interrupt=interrupt)
    assert (summary.status, summary.exit_code) == ("interrupted", ExitCode.INTERRUPTED)
    state = Path(config.state_dir)
    last = json.loads((state / "last-run.json").read_text())
    assert last["status"] == "interrupted" and last["exit_code"] == 7
    assert f"apply --resume {summary.files['plan']}" in last["message"]
    assert (
        'virt_rebalance_exit_code{command="run"} 7.0'
        in (state / "metrics" / "virt-rebalance-run.prom").read_text()
    )
