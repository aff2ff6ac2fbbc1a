"""Host maintenance evacuation: plan every movable guest off the hosts (with every rule and budget), say up
front what cannot leave and why, mark the hosts in maintenance, carry out the moves, record.

The hosts are marked before the first migration starts, so a nightly run (after this one releases the
lock) never brings guests back; `virt-rebalance maintenance end HOST` lifts the mark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from executor.interrupt import Interrupt
from planner.errors import InputError
from planner.plan import Plan, Stay
from virt_rebalance import output, progress
from virt_rebalance.config import Config
from virt_rebalance.jobs import lock, maintenance, record, steps
from virt_rebalance.jobs.exitcodes import ExitCode, for_status
from virt_rebalance.jobs.summary import Outcome, RunSummary, build, outcomes_from

JOB = "evacuate"


def staying_behind(plan: Plan, hosts: Sequence[str]) -> list[Stay]:
    """The guests that will not leave the hosts being emptied, with the reason."""
    return [s for s in plan.stays if s.host in hosts]


def outcome(plan: Plan, hosts: Sequence[str], status: str) -> tuple[str, ExitCode]:
    """The evacuation's status and exit code, given how its migrations went (`status`, the executor's).

    Guests that stay on a host being emptied make it "partial" (4) when something moved, and "failed" (1)
    when nothing did (evacuating every host, or a guest nowhere else can run): never "nothing to do"."""
    code = for_status(status)
    if not staying_behind(plan, hosts):
        return status, code
    if code is ExitCode.NOTHING_TO_DO or (code is ExitCode.FAILED and not plan.migrations):
        return "failed", ExitCode.FAILED
    if code is ExitCode.DONE:
        return "partial", ExitCode.PARTIAL
    return status, code


def plan_evacuation(config: Config, hosts: Sequence[str]) -> Plan:
    known = {h.name for h in config.hosts}
    if unknown := [h for h in hosts if h not in known]:
        raise InputError("--config", "hosts", f"not in the config: {', '.join(unknown)}")
    cluster = steps.current(config, steps.collect(config))
    return steps.plan(cluster, config, "evacuate", tuple(hosts))


def run_evacuation(
    config: Config,
    hosts: Sequence[str],
    *,
    dry_run: bool = False,
    show: Callable[[Plan], None] | None = None,
    interrupt: Interrupt | None = None,
) -> RunSummary:
    """Evacuate `hosts` (or, with `dry_run`, only plan and show it). Exit code PARTIAL when guests stay."""
    started = datetime.now(UTC)
    hosts = tuple(dict.fromkeys(hosts))
    if dry_run:  # nothing is written or moved: plan and show
        proposal = plan_evacuation(config, hosts)
        if show:
            show(proposal)
        _, code = outcome(proposal, hosts, "nothing-to-do" if proposal.is_empty else "done")
        return build(JOB, proposal, "planned", code, started)
    with (
        lock.hold(config.state_dir, f"evacuate {' '.join(hosts)}"),
        record.recorded(config, JOB, started) as run,
    ):
        plan = plan_evacuation(config, hosts)
        files = run.planned(plan)
        if show:
            show(plan)
        maintenance.mark(config.state_dir, hosts, "evacuate")
        outcomes: tuple[Outcome, ...] = ()
        status = "nothing-to-do"
        if not plan.is_empty:
            with progress.show(len(plan.migrations)) as on_event:
                report = steps.apply(plan, config, progress=on_event, interrupt=interrupt)
            for warning in report.warnings:
                output.warning(warning)
            status, outcomes = report.status, outcomes_from(report, plan)
        status, code = outcome(plan, hosts, status)
        stays = staying_behind(plan, hosts)
        message = "; ".join(f"{s.vm_name} stays on {s.host}: {s.reason}" for s in stays)
        if status == "interrupted" and interrupt is not None:
            message = "; ".join(
                m for m in (f"{interrupt.reason}; {steps.resume_hint(files['plan'])}", message) if m
            )
        return run.finish(run.summary(status, code, outcomes=outcomes, message=message))
