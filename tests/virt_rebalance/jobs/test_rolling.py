"""The rolling round over a small in-memory world: the real planner, fake collect/apply/probe steps whose
guests really move, and real --exec commands."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from executor.interrupt import Interrupt
from files.lock import LockedError
from planner.errors import ExecutionError
from planner.model import Cluster
from planner.plan import Plan
from tests.virt_rebalance.sample import sample_cluster
from virt_rebalance.cli import main
from virt_rebalance.config import Config
from virt_rebalance.jobs import lock, maintenance, rolling, steps
from virt_rebalance.jobs.rolling_journal import load_round


class Crash(BaseException):
    """Stands in for SIGKILL: nothing after it runs (not an Exception, so nothing catches it)."""


@dataclass
class World:
    """Where each guest runs; apply moves them (one at a time), probe answers from `down`."""

    cluster: Cluster = field(default_factory=sample_cluster)
    where: dict[str, str] = field(default_factory=dict)
    applied: list[tuple[str, bool, int]] = field(default_factory=list)  # goal, resume, migrations
    crash_after: int | None = None  # migrations done before the process "dies"
    down: dict[str, int] = field(default_factory=dict)  # host -> probes that still fail
    signal_after: int | None = None  # migrations done before SIGTERM arrives (the executor then stops)

    def collect(self, config: Config, *, window_hours: float | None = None) -> Cluster:
        vms = tuple(replace(v, host=self.where.get(v.name, v.host)) for v in self.cluster.vms)
        return replace(self.cluster, vms=vms)

    def apply(
        self, plan: Plan, config: Config, *, deadline=None, progress=None, resume=False, interrupt=None
    ):
        self.applied.append((plan.goal, resume, len(plan.migrations)))
        outcomes = []
        for m in plan.migrations:
            if self.signal_after == 0 and interrupt is not None:
                self.signal_after = None
                interrupt.stop("interrupted by SIGTERM")
            if interrupt is not None and interrupt.requested:
                outcomes.append(
                    SimpleNamespace(vm_name=m.vm_name, status="not-started", reason="interrupted")
                )
                continue
            if self.signal_after is not None:
                self.signal_after -= 1
            if self.where.get(m.vm_name, m.source) == m.source:
                if self.crash_after is not None and self.crash_after == 0:
                    self.crash_after = None
                    raise Crash()
                if self.crash_after is not None:
                    self.crash_after -= 1
                self.where[m.vm_name] = m.destination
            outcomes.append(SimpleNamespace(vm_name=m.vm_name, status="done", reason=""))
        status = "interrupted" if interrupt is not None and interrupt.requested else "done"
        return SimpleNamespace(status=status, outcomes=tuple(outcomes))

    def probe(self, config: Config, host: str) -> str | None:
        if self.down.get(host, 0) > 0:
            self.down[host] -= 1
            return "connection refused"
        return None

    def on(self, host: str) -> list[str]:
        return sorted(v.name for v in self.collect(None).vms if v.host == host)  # type: ignore[arg-type]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    w = World()
    monkeypatch.setattr(steps, "collect", w.collect)
    monkeypatch.setattr(steps, "apply", w.apply)
    monkeypatch.setattr(steps, "probe", w.probe)
    return w


def quiet(config: Config) -> rolling.Context:
    return rolling.Context(config, say=lambda line: None, sleep=lambda s: None)


def test_given_hosts_go_round_in_order_with_exec_and_end_back_in_service(world, config, tmp_path) -> None:
    log = tmp_path / "exec.log"
    world.down = {"h1": 2}  # h1's libvirtd takes two probes to answer again
    options = rolling.Options(hosts=("h2", "h1"), exec_command=f"echo {{host}} >> {log}", force=True)
    journal = rolling.run_rolling(config, options, ctx=quiet(config))
    assert journal.status == "done" and rolling.exit_code(journal) == 0
    assert [(t.host, t.step) for t in journal.turns] == [("h2", "done"), ("h1", "done")]
    assert log.read_text().split() == ["h2", "h1"]
    assert maintenance.load(config.state_dir) == {}
    assert world.down == {"h1": 0}
    assert "g-kvm" in world.on("h1")  # forced: it stayed while the others left
    # No rebalance between them (h1's g-kvm can run nowhere else: moving others would not help); one at the end.
    assert [goal for goal, *_ in world.applied] == ["evacuate", "evacuate", "rebalance"]
    assert load_round(config.state_dir) == journal


def test_all_skips_a_host_whose_guest_cannot_leave_with_the_reason(world, config) -> None:
    journal = rolling.run_rolling(config, rolling.Options(), ctx=quiet(config))
    by_host = {t.host: t for t in journal.turns}
    assert journal.status == "partial" and rolling.exit_code(journal) == 4
    assert by_host["h1"].step == "skipped" and "g-kvm stays" in by_host["h1"].reason
    assert {by_host["h2"].step, by_host["h3"].step} == {"done"}
    assert [t.host for t in journal.turns][-1] == "h1"  # it cannot be emptied: ordered last
    assert world.on("h1") != ["g-kvm"]  # nothing moved off h1


def test_a_failing_exec_stops_the_round_and_resume_runs_it_again(world, config, tmp_path) -> None:
    flag = tmp_path / "flag"
    command = f"test -e {flag} || {{ touch {flag}; exit 3; }}"
    options = rolling.Options(hosts=("h2", "h3"), exec_command=command)
    journal = rolling.run_rolling(config, options, ctx=quiet(config))
    assert journal.status == "failed" and rolling.exit_code(journal) == 1
    assert (journal.turns[0].step, journal.turns[1].step) == ("exec", "pending")
    assert "exited with 3" in journal.turns[0].reason
    assert set(maintenance.load(config.state_dir)) == {"h2"}  # left in maintenance for the operator
    resumed = rolling.run_rolling(config, rolling.Options(), resume=True, ctx=quiet(config))
    assert resumed.status == "done" and [t.step for t in resumed.turns] == ["done", "done"]
    assert maintenance.load(config.state_dir) == {}


def test_killed_mid_evacuation_resume_finishes_that_very_plan(world, config) -> None:
    world.crash_after = 1
    with pytest.raises(Crash):
        rolling.run_rolling(config, rolling.Options(hosts=("h1",), force=True), ctx=quiet(config))
    journal = load_round(config.state_dir)
    assert journal is not None and journal.status == "running" and journal.turns[0].step == "evacuate"
    assert Path(journal.turns[0].plan_file).exists()
    with pytest.raises(ExecutionError, match="--resume"):
        rolling.run_rolling(config, rolling.Options(hosts=("h2",)), ctx=quiet(config))
    resumed = rolling.run_rolling(config, rolling.Options(), resume=True, ctx=quiet(config))
    assert resumed.status == "done"
    first, again = world.applied[0], world.applied[1]
    assert first[:2] == ("evacuate", False) and again == ("evacuate", True, first[2])  # the same plan
    assert [goal for goal, *_ in world.applied] == ["evacuate", "evacuate", "rebalance"]  # then balance


def test_sigterm_mid_evacuation_stops_the_round_and_resume_finishes_that_plan(world, config) -> None:
    world.signal_after = 1
    ctx = quiet(config)
    ctx.interrupt = Interrupt()
    journal = rolling.run_rolling(config, rolling.Options(hosts=("h1", "h2"), force=True), ctx=ctx)
    assert journal.status == "interrupted" and rolling.exit_code(journal) == 7
    assert [t.step for t in journal.turns] == ["evacuate", "pending"]
    assert Path(journal.turns[0].plan_file).exists()  # kept: the executor's journal of it resumes
    assert load_round(config.state_dir) == journal
    resumed = rolling.run_rolling(config, rolling.Options(), resume=True, ctx=quiet(config))
    assert resumed.status == "done" and [t.step for t in resumed.turns] == ["done", "done"]
    assert world.applied[1][:2] == ("evacuate", True)  # the same plan, resumed
    assert [goal for goal, *_ in world.applied] == ["evacuate", "evacuate", "evacuate", "rebalance"]


def test_sigterm_while_waiting_for_a_host_stops_before_its_next_step(world, config) -> None:
    world.down = {"h2": 10**6}
    ctx = quiet(config)
    ctx.interrupt = Interrupt()
    ctx.sleep = lambda s: ctx.interrupt.stop("interrupted by SIGINT")  # type: ignore[union-attr]
    journal = rolling.run_rolling(config, rolling.Options(hosts=("h2", "h3")), ctx=ctx)
    assert journal.status == "interrupted" and [t.step for t in journal.turns] == ["wait", "pending"]
    assert set(maintenance.load(config.state_dir)) == {"h2"}  # still in maintenance: not back yet
    assert [goal for goal, *_ in world.applied] == ["evacuate"]  # no rebalance once interrupted


def test_a_host_that_does_not_come_back_stops_the_round(world, config) -> None:
    world.down = {"h2": 10**6}
    options = rolling.Options(hosts=("h2",), wait_ready_s=0)
    journal = rolling.run_rolling(config, options, ctx=quiet(config))
    assert journal.status == "failed" and journal.turns[0].step == "wait"
    assert "not ready after 0 s: connection refused" in journal.turns[0].reason


def test_the_lock_holds_a_round_off(world, config) -> None:
    with lock.hold(config.state_dir, "nightly run"), pytest.raises(LockedError):
        rolling.run_rolling(config, rolling.Options(hosts=("h2",)), ctx=quiet(config))


def test_resume_without_an_interrupted_round_is_an_error(world, config) -> None:
    with pytest.raises(ExecutionError, match="no interrupted or stopped rolling round"):
        rolling.run_rolling(config, rolling.Options(), resume=True, ctx=quiet(config))


def test_dry_run_prints_each_hosts_moves_and_the_total(world, config_path) -> None:
    result = CliRunner().invoke(main, ["rolling", "--all", "--dry-run", "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Rolling round of 3 host(s), least memory moved first:")
    assert "h1: skipped: g-kvm stays: " in out
    assert "    batch h2 -> " in out and "Total: " in out and "of memory, estimated" in out
    assert world.applied == []


def test_cli_round_and_usage_errors(world, config_path) -> None:
    ok = CliRunner().invoke(main, ["rolling", "h2", "--config", str(config_path)])
    assert ok.exit_code == 0, ok.output
    assert "h2: empty (" in ok.output and "rolling done (exit 0)" in ok.output
    for args in (["--all", "h2"], [], ["--resume", "h2"]):
        bad = CliRunner().invoke(main, ["rolling", *args, "--config", str(config_path)])
        assert bad.exit_code == 2, (args, bad.output)
    unknown = CliRunner().invoke(main, ["rolling", "h9", "--config", str(config_path)])
    assert unknown.exit_code == 2 and "h9" in unknown.output
