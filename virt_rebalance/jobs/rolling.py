"""Rolling maintenance: every host in turn emptied, maintained, brought back, with every rule and budget.

Per host, in steps the journal records (so `rolling --resume` continues at the step it was at):

    evacuate   plan its evacuation (skip the host, with the reasons, when a guest cannot leave, unless
               forced), mark it in maintenance, carry the plan out with the executor (resumable)
    exec       run --exec with {host} substituted; a non-zero exit stops the round
    wait       until its libvirtd answers again and it is collected as healthy (or --wait-ready runs out)
    return     lift the maintenance mark
    rebalance  only when the next host could not be emptied as things stand and a move could fix that;
               and once when every host is through, so the round ends balanced

The round runs under the job lock; its journal is STATE_DIR/rolling/round.json (atomic writes), each
evacuation plan beside it, so a killed round resumes the executor's own journal of that very plan.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from executor.interrupt import Interrupt
from planner.errors import ExecutionError, InputError
from planner.model import Cluster, HostState
from planner.plan import Plan
from virt_rebalance import output
from virt_rebalance.config import Config
from virt_rebalance.jobs import lock, maintenance, readiness, steps
from virt_rebalance.jobs.exitcodes import ExitCode
from virt_rebalance.jobs.rolling_journal import HostTurn, Round, load_round, round_dir, save_round

REASON = "rolling maintenance"
POLL_S = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    hosts: tuple[str, ...] = ()  # empty: every host, in the order that moves least
    exec_command: str | None = None
    wait_ready_s: float = 600.0
    force: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRunHost:
    host: str
    plan: Plan | None
    skipped: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRun:
    """The whole round as planned now: each host's evacuation on the cluster the previous ones leave."""

    hosts: tuple[DryRunHost, ...]
    rebalance: Plan | None = None
    order_note: str = ""

    @property
    def plans(self) -> list[Plan]:
        return [p for p in (*(h.plan for h in self.hosts), self.rebalance) if p is not None]


@dataclass
class Context:
    config: Config
    say: Callable[[str], None] = output.info
    show: Callable[[Plan], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    events: list[str] = field(default_factory=list)
    interrupt: Interrupt | None = None  # SIGTERM/SIGINT: the round stops at the next step, resumable

    @property
    def interrupted(self) -> bool:
        return self.interrupt is not None and self.interrupt.requested


def order(config: Config, cluster: Cluster, wanted: Sequence[str]) -> tuple[tuple[str, ...], str]:
    """The given hosts in their order, or every host that runs guests least-moving first."""
    known = {h.name for h in config.hosts}
    if unknown := [h for h in wanted if h not in known]:
        raise InputError("rolling", "hosts", f"not in the config: {', '.join(unknown)}")
    if wanted:
        return tuple(dict.fromkeys(wanted)), "in the order given"
    closed = set(config.policy_value().exclude)
    ready = readiness.check(config, cluster)
    hosts = [h for h in ready.hosts if h.host not in closed and h.state is not HostState.UNREACHABLE]
    hosts.sort(key=lambda h: (not h.evacuable, h.moved_mib, h.migrations, h.host))
    return tuple(h.host for h in hosts), "least memory moved first"


def dry_run(config: Config, options: Options) -> DryRun:
    """Plan the whole round without moving anything: host by host on the cluster as planned so far."""
    cluster = steps.current(config, steps.collect(config))
    hosts, note = order(config, cluster, options.hosts)
    out = []
    for host in hosts:
        plan = steps.plan(cluster, config, "evacuate", (host,))
        stays = [s for s in plan.stays if s.host == host]
        if stays and not options.force:
            why = "; ".join(f"{s.vm_name} stays: {s.reason} ({s.rule})" for s in stays)
            out.append(DryRunHost(host=host, plan=None, skipped=why))
            continue
        out.append(DryRunHost(host=host, plan=plan))
        cluster = readiness.moved(cluster, {m.vm_name: m.destination for m in plan.migrations})
    final = steps.plan(cluster, config, "rebalance")
    return DryRun(hosts=tuple(out), rebalance=None if final.is_empty else final, order_note=note)


def run_rolling(
    config: Config, options: Options, *, resume: bool = False, ctx: Context | None = None
) -> Round:
    """The round under the job lock; returns its journal (status done, partial or failed)."""
    ctx = ctx or Context(config)
    with lock.hold(config.state_dir, "rolling maintenance"):
        journal = _start(config, options, resume)
        save_round(config.state_dir, journal)
        for turn in journal.turns:
            if turn.step in ("done", "skipped"):
                continue
            if not _turn(ctx, journal, turn):
                journal.status = "interrupted" if ctx.interrupted else "failed"
                break
        else:
            journal.rebalanced = _rebalance(ctx, "the round ends balanced")  # again on resume: a fresh plan
            journal.status = "partial" if any(t.step == "skipped" for t in journal.turns) else "done"
        journal.finished_at = _now()
        save_round(config.state_dir, journal)
        return journal


def exit_code(journal: Round) -> ExitCode:
    codes = {"done": ExitCode.DONE, "partial": ExitCode.PARTIAL, "interrupted": ExitCode.INTERRUPTED}
    return codes.get(journal.status, ExitCode.FAILED)


def _start(config: Config, options: Options, resume: bool) -> Round:
    earlier = load_round(config.state_dir)
    if resume:
        if earlier is None or earlier.status not in ("running", "failed", "interrupted"):
            raise ExecutionError("no interrupted or stopped rolling round to resume")
        earlier.status, earlier.finished_at = "running", ""
        return earlier
    if earlier is not None and earlier.status == "running":
        raise ExecutionError(
            f"an earlier rolling round is unfinished (started {earlier.started_at}); use --resume"
        )
    cluster = steps.current(config, steps.collect(config))
    hosts, _ = order(config, cluster, options.hosts)
    return Round(
        started_at=_now(),
        exec_command=options.exec_command,
        wait_ready_s=options.wait_ready_s,
        force=options.force,
        turns=[HostTurn(host=h) for h in hosts],
    )


def _turn(ctx: Context, journal: Round, turn: HostTurn) -> bool:
    """Carry one host through its remaining steps; False stops the round (also once interrupted: the
    journal keeps the step the host is at, so `--resume` goes on from there)."""
    config = ctx.config
    began = time.monotonic()
    while turn.step not in ("done", "skipped"):
        if ctx.interrupted:
            ctx.say(f"{turn.host}: {_stopped(ctx)} before its {turn.step} step")
            return False
        step = turn.step
        if step == "pending":
            turn.step = "evacuate"
        elif step == "evacuate":
            ok = _evacuate(ctx, journal, turn)
            if not ok:
                return False
        elif step == "exec":
            if not _exec(ctx, journal, turn):
                return False
            turn.step = "wait"
        elif step == "wait":
            if not _wait(ctx, journal, turn):
                return False
            turn.step = "return"
        elif step == "return":
            maintenance.end(config.state_dir, turn.host)
            ctx.say(f"{turn.host}: back in service")
            turn.step = "rebalance"
        elif step == "rebalance":
            _rebalance_if_needed(ctx, journal, turn)
            turn.step = "done"
        turn.seconds = round(turn.seconds + time.monotonic() - began, 1)
        began = time.monotonic()
        save_round(config.state_dir, journal)
    return True


def _evacuate(ctx: Context, journal: Round, turn: HostTurn) -> bool:
    config, host = ctx.config, turn.host
    plan_path = round_dir(config.state_dir) / f"{host}-evacuate.json"
    resuming = bool(turn.plan_file) and Path(turn.plan_file).exists()
    if resuming:
        plan = steps.load_plan(turn.plan_file)
        ctx.say(f"{host}: resuming its evacuation ({len(plan.migrations)} migration(s))")
    else:
        plan = steps.plan(steps.current(config, steps.collect(config)), config, "evacuate", (host,))
        if ctx.show:
            ctx.show(plan)
        stays = [s for s in plan.stays if s.host == host]
        if stays and not journal.force:
            turn.step, turn.reason = (
                "skipped",
                "; ".join(f"{s.vm_name} stays: {s.reason} ({s.rule})" for s in stays),
            )
            ctx.say(f"{host}: skipped: {turn.reason}")
            return True
        steps.save_plan(plan_path, plan)
        turn.plan_file, turn.migrations, turn.moved_mib = str(plan_path), len(plan.migrations), plan.moved_mib
        maintenance.mark(config.state_dir, (host,), REASON)
        save_round(config.state_dir, journal)  # the plan is on disk before the first migration starts
    if plan.migrations:
        report = steps.apply(plan, config, resume=resuming, interrupt=ctx.interrupt)
        if report.status == "interrupted":
            ctx.say(
                f"{host}: {_stopped(ctx)} mid-evacuation; `rolling --resume` carries out the rest of its plan"
            )
            return False
        failed = [o for o in report.outcomes if o.status != "done"]
        if failed:
            turn.reason = "; ".join(f"{o.vm_name}: {o.status} {o.reason}".strip() for o in failed)
            ctx.say(f"{host}: evacuation incomplete, the round stops: {turn.reason}")
            turn.plan_file = ""  # a resume plans again from what the hosts show
            return False
    ctx.say(f"{host}: empty ({len(plan.migrations)} migration(s)); in maintenance")
    turn.step = "exec"
    return True


def _exec(ctx: Context, journal: Round, turn: HostTurn) -> bool:
    if not journal.exec_command:
        return True
    command = journal.exec_command.replace("{host}", shlex.quote(turn.host))
    ctx.say(f"{turn.host}: running {command}")
    done = subprocess.run(["sh", "-c", command], check=False, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        turn.reason = f"--exec exited with {done.returncode}: {command}"
        ctx.say(f"{turn.host}: {turn.reason}; the round stops (the host stays in maintenance)")
        return False
    return True


def _wait(ctx: Context, journal: Round, turn: HostTurn) -> bool:
    deadline = time.monotonic() + journal.wait_ready_s
    while True:
        if ctx.interrupted:
            ctx.say(f"{turn.host}: {_stopped(ctx)} while waiting for it (it stays in maintenance)")
            return False
        problem = steps.probe(ctx.config, turn.host)
        if problem is None:
            ctx.say(f"{turn.host}: libvirtd answers and the host is healthy")
            return True
        if time.monotonic() >= deadline:
            turn.reason = f"not ready after {journal.wait_ready_s:.0f} s: {problem}"
            ctx.say(f"{turn.host}: {turn.reason}; the round stops (the host stays in maintenance)")
            return False
        ctx.sleep(POLL_S)


def _rebalance_if_needed(ctx: Context, journal: Round, turn: HostTurn) -> None:
    """Rebalance when the next host could not be emptied as things are, but another move could fix it
    (a guest that can run nowhere else is no reason to move others)."""
    following = [t for t in journal.turns if t.step == "pending"]
    if not following:
        return
    nxt = following[0].host
    config = ctx.config
    plan = steps.plan(steps.current(config, steps.collect(config)), config, "evacuate", (nxt,))
    stays = [s for s in plan.stays if s.host == nxt]
    if stays and any(s.resolvable for s in stays):
        turn.rebalanced = _rebalance(ctx, f"so that {nxt} can be emptied")


def _rebalance(ctx: Context, why: str) -> int:
    """A rebalance plan carried out; the number of migrations done."""
    config = ctx.config
    if ctx.interrupted:
        return 0
    plan = steps.plan(steps.current(config, steps.collect(config)), config, "rebalance")
    if plan.is_empty:
        return 0
    ctx.say(f"rebalancing {why}")
    if ctx.show:
        ctx.show(plan)
    report = steps.apply(plan, config, interrupt=ctx.interrupt)
    done = sum(1 for o in report.outcomes if o.status == "done")
    ctx.say(f"rebalanced: {done} of {len(plan.migrations)} migration(s)")
    return done


def _stopped(ctx: Context) -> str:
    return (ctx.interrupt.reason if ctx.interrupt else None) or "interrupted"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def to_dict(journal: Round) -> dict[str, Any]:
    return asdict(journal)
