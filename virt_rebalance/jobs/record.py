"""What a job leaves behind: a run directory with the plan, its reports and the summary, the last
summary at `STATE_DIR/last-<job>.json`, and Prometheus textfile metrics.

    STATE_DIR/runs/20261126T060000Z-run/{plan.json,report.txt,report.html,summary.json}
    STATE_DIR/last-run.json, STATE_DIR/last-evacuate.json
    METRICS_DIR/virt-rebalance-run.prom, METRICS_DIR/virt-rebalance-evacuate.prom
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from files.safe_write import make_directory, write_atomically
from planner.codec import plan_to_json
from planner.errors import FileWriteError, InputError, VirtRebalanceError
from planner.plan import Plan
from virt_rebalance import output
from virt_rebalance.config import Config
from virt_rebalance.jobs import approval, maintenance, metrics
from virt_rebalance.jobs.exitcodes import ExitCode
from virt_rebalance.jobs.summary import RunSummary, build
from virt_rebalance.report import html, text


@dataclass
class Run:
    """One job run being recorded: its directory, and its plan once there is one."""

    config: Config
    job: str
    started: datetime
    directory: Path
    plan: Plan | None = None
    files: dict[str, str] = field(default_factory=dict)

    def planned(self, plan: Plan) -> dict[str, str]:
        """Keep the plan and write it with its reports; returns the files by kind."""
        self.plan, self.files = plan, write_plan(self.directory, plan)
        return self.files

    def summary(self, status: str, code: ExitCode, **details: Any) -> RunSummary:
        return build(self.job, self.plan, status, code, self.started, files=self.files, **details)

    def finish(self, summary: RunSummary) -> RunSummary:
        """Record the summary; one that cannot be written (a full disk) is said, and a run that would have
        counted as a success (0, 3, 6) exits 1 so the scheduler sees it, as the metrics are missing too."""
        try:
            finish(self.config, self.directory, summary, self.plan)
        except FileWriteError as exc:
            output.error(f"{exc}; this run's summary and metrics are not written")
            code = ExitCode.FAILED if summary.exit_code in (0, 3, 6) else summary.exit_code
            return replace(summary, exit_code=int(code), message=f"{summary.message} {exc}".strip())
        return summary


@contextmanager
def recorded(config: Config, job: str, started: datetime) -> Iterator[Run]:
    """A run directory for the job; a job that raises is recorded as failed (summary, metrics) and re-raised."""
    run = Run(config, job, started, run_dir(config, job, started))
    try:
        yield run
    except VirtRebalanceError as exc:
        run.finish(run.summary("failed", ExitCode.FAILED, message=str(exc)))
        raise


def run_dir(config: Config, job: str, started: datetime) -> Path:
    stamp = started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = Path(config.state_dir) / "runs" / f"{stamp}-{job}"
    make_directory(Path(config.state_dir))
    make_directory(path)
    return path


def write_plan(directory: Path, plan: Plan) -> dict[str, str]:
    """The plan (JSON: what apply runs) and its text and HTML reports; returns the files by kind."""
    files = {
        "plan": directory / "plan.json",
        "report_text": directory / "report.txt",
        "report_html": directory / "report.html",
    }
    write_atomically(files["plan"], plan_to_json(plan, indent=2))
    write_atomically(files["report_text"], text.render(plan, plain=True))
    write_atomically(files["report_html"], html.render(plan))
    return {kind: str(path) for kind, path in files.items()}


def finish(config: Config, directory: Path, summary: RunSummary, plan: Plan | None = None) -> None:
    """Write the summary (run directory and last-<job>.json) and the metrics; prune old run directories."""
    state = Path(config.state_dir)
    write_atomically(directory / "summary.json", summary.to_json())
    write_atomically(state / f"last-{summary.job}.json", summary.to_json())
    metrics_dir = Path(config.metrics_dir) if config.metrics_dir else state / "metrics"
    metrics.write(
        metrics_dir / f"virt-rebalance-{summary.job}.prom",
        summary,
        time.time(),
        plan,
        maintenance=set(maintenance.load(state)),
    )
    held = _held_run(state)  # a plan awaiting approval (or approved) is kept until it is replaced
    runs = sorted(p for p in (state / "runs").iterdir() if p.is_dir() and p.name != held)
    for old in runs[: max(0, len(runs) - config.keep_runs)]:
        shutil.rmtree(old, ignore_errors=True)


def _held_run(state: Path) -> str | None:
    try:
        held = approval.load(state)
    except InputError:
        return None  # a damaged approval file is reported where it is used
    return held.run_id if held is not None and held.status != "carried-out" else None
