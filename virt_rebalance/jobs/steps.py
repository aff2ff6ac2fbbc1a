"""The three steps every job takes — collect, plan, carry out — as one seam over the other packages
(and the small ones around them: snapshot and plan files, probing one host).

The jobs call these, never the packages directly, so a test can replace a step (monkeypatch) with
hand-made data; the imports are late so the CLI starts fast.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from files.safe_write import write_atomically
from planner.codec import cluster_from_json, plan_from_json, plan_to_json
from planner.errors import InputError, PlanFileError, SnapshotError
from planner.model import Cluster, HostState
from planner.plan import Plan
from virt_rebalance import calibration, output
from virt_rebalance.config import Config
from virt_rebalance.hints import with_next_step
from virt_rebalance.jobs import guest_rules, maintenance, sizing

if TYPE_CHECKING:
    from executor.interrupt import Interrupt
    from executor.report import ApplyReport, ProgressEvent


def collect(config: Config, *, window_hours: float | None = None) -> Cluster:
    """Read the hosts over libvirt (with the usage history of the last `window_hours` when given)."""
    from collectors.collect import collect_cluster

    cluster: Cluster = collect_cluster(config.collect_settings(), window_hours=window_hours)
    return cluster


def history_samples(config: Config, now: datetime) -> int:
    """The most usage samples any guest has in the history over collect.window_hours (0 without one)."""
    from collectors.history import History

    cfg = config.collect
    path = Path(cfg.history_path or Path(config.state_dir) / "history.sqlite")
    if not path.exists():
        return 0
    with History(path) as history:
        summary = history.summarise(now - timedelta(hours=cfg.window_hours), now)
    return max((s.samples for s in summary.values()), default=0)


def load_snapshot(path: str | Path) -> Cluster:
    return cluster_from_json(_read(path, SnapshotError), str(path))


def _read(path: str | Path, error: type[InputError]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise error(str(path), None, f"cannot read: {exc.strerror}") from None


def current(config: Config, snapshot: Cluster) -> Cluster:
    """The snapshot as the jobs plan with it: the maintenance marks applied, unreachable hosts and hosts
    whose reserves leave no room for guests reported."""
    for host in snapshot.hosts:
        if host.state is HostState.UNREACHABLE:
            output.warning(
                with_next_step(f"{host.name} is unreachable and left out: {host.error}"), host=host.name
            )
        for problem in sizing.no_room(host):
            output.warning(problem, host=host.name)
    cluster = guest_rules.resolve(config, snapshot)
    return maintenance.apply_to(cluster, maintenance.load(config.state_dir))


def plan(
    cluster: Cluster,
    config: Config,
    goal: Literal["rebalance", "evacuate"] = "rebalance",
    evacuate: tuple[str, ...] = (),
    *,
    time_limit_s: float | None = None,
) -> Plan:
    """Plan with the config's policy and budgets; `time_limit_s` shortens the solver's limit (readiness)."""
    from dataclasses import replace

    from planner.pipeline import make_plan

    policy = config.policy_value(evacuate)
    if time_limit_s is not None:
        policy = replace(policy, time_limit_s=min(policy.time_limit_s, time_limit_s))
    budgets = calibration.learned(config.budgets(), config.state_dir)
    result: Plan = make_plan(cluster, policy, budgets, goal=goal)
    if (budgets.links or budgets.apply_overhead_s) and result.migrations:
        learned = calibration.describe(budgets)
        result = replace(result, notes=(*result.notes, "estimates calibrated by the journal:", *learned))
    return result


def apply(
    plan: Plan,
    config: Config,
    *,
    deadline: datetime | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    resume: bool = False,
    interrupt: Interrupt | None = None,
    force: bool = False,
) -> ApplyReport:
    """Carry out `plan`; `force` runs it even when older than execute.max_plan_age_s (an approved plan)."""
    from executor.apply import apply_plan

    return apply_plan(
        plan,
        config.execute_settings(),
        deadline=deadline,
        progress=progress,
        resume=resume,
        interrupt=interrupt,
        force=force,
    )


def load_plan(path: str | Path) -> Plan:
    return plan_from_json(_read(path, PlanFileError), str(path))


def save_plan(path: str | Path, plan: Plan) -> None:
    write_atomically(path, plan_to_json(plan, indent=2))


def probe(config: Config, host: str) -> str | None:
    """None when `host` answers over libvirt and is collected as healthy; else what is wrong."""
    from collectors.collect import collect_cluster
    from planner.errors import CollectError

    only = config.model_copy(update={"hosts": tuple(h for h in config.hosts if h.name == host)})
    try:
        found = collect_cluster(only.collect_settings()).host_by_name.get(host)
    except CollectError as exc:
        return str(exc)
    if found is None:
        return "not collected"
    return None if found.state is HostState.ACTIVE else found.error or str(found.state)


def resume_hint(plan_file: str | Path) -> str:
    """What to run to carry out the rest of an interrupted plan."""
    return f"carry out the rest with `virt-rebalance apply --resume {plan_file}` (same --config)"
