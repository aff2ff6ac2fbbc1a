"""Evacuation over fake steps: stays reported, hosts marked, partly done when a guest cannot leave."""

from __future__ import annotations

import pytest

from planner.errors import InputError
from virt_rebalance.jobs import maintenance
from virt_rebalance.jobs.evacuation import run_evacuation, staying_behind
from virt_rebalance.jobs.exitcodes import ExitCode


def test_guest_that_cannot_leave_makes_it_partial_and_is_named(fake_steps, config) -> None:
    summary = run_evacuation(config, ["h1"])
    assert (summary.status, summary.exit_code) == ("partial", ExitCode.PARTIAL)
    assert "g-kvm stays on h1" in summary.message
    assert set(maintenance.load(config.state_dir)) == {"h1"}


def test_everything_leaves_is_done(fake_steps, config) -> None:
    # g-kvm stays on h1, not on h2
    summary = run_evacuation(config, ["h2"])
    assert summary.exit_code == ExitCode.DONE
    assert set(maintenance.load(config.state_dir)) == {"h2"}


def test_dry_run_marks_nothing_and_moves_nothing(fake_steps, config) -> None:
    shown = []
    summary = run_evacuation(config, ["h1"], dry_run=True, show=shown.append)
    assert summary.status == "planned"
    assert fake_steps.applied == [] and maintenance.load(config.state_dir) == {}
    assert [s.vm_name for s in staying_behind(shown[0], ["h1"])] == ["g-kvm"]


def test_unknown_host_is_bad_input(fake_steps, config) -> None:
    with pytest.raises(InputError, match="nope"):
        run_evacuation(config, ["nope"])
