"""Prometheus textfile metrics of the last run, for node_exporter's textfile collector.

Built with prometheus_client and written through the project's atomic writer (files.safe_write:
0640, the directory's group; never half a file). The
job is the `command` label ("run", "evacuate"), not `job`, which Prometheus reserves for its scrape job
and would rename to exported_job. Per host: CPU and memory share of capacity before the run and as
planned after it, guests, whether the host is in maintenance, whether it could be emptied now
(`host_evacuable`, the nightly run's readiness); an unreachable host has no share samples
(its capacity is unknown), only `virt_rebalance_host_reachable 0`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from files.safe_write import write_atomically
from planner.model import HostState
from planner.plan import Plan
from virt_rebalance.jobs.summary import RunSummary

OUTCOMES = ("done", "failed", "skipped", "not-started")
PREFIX = "virt_rebalance_"


def render(
    summary: RunSummary, timestamp: float, plan: Plan | None = None, maintenance: Collection[str] = ()
) -> str:
    """The metrics of one run in the Prometheus text exposition format."""
    registry = CollectorRegistry(auto_describe=True)

    def gauge(name: str, help_text: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(PREFIX + name, help_text, ("command", *labels), registry=registry)

    command = summary.job
    imbalance = gauge(
        "imbalance_pct",
        "Host load imbalance (percentage points) before the run and as planned after it.",
        ("when", "measure"),
    )
    cv = gauge(
        "imbalance_cv", "Coefficient of variation of host load before and as planned after.", ("when",)
    )
    for when, balance in (("before", summary.balance_before), ("after", summary.balance_after)):
        for measure in ("peak", "spread"):
            imbalance.labels(command, when, measure).set(getattr(balance, f"{measure}_pct"))
        cv.labels(command, when).set(balance.cv)
    gauge("migrations_planned", "Migrations in the plan.").labels(command).set(summary.planned)
    by_outcome = gauge("migrations", "Planned migrations by outcome.", ("outcome",))
    for outcome in OUTCOMES:
        by_outcome.labels(command, outcome).set(summary.count(outcome))
    gauge("migration_failures", "Migrations that failed.").labels(command).set(summary.count("failed"))
    gauge("moved_bytes", "Bytes moved by finished migrations.").labels(command).set(summary.moved_bytes)
    gauge("duration_seconds", "Wall time of the run.").labels(command).set(round(summary.duration_s, 3))
    gauge("exit_code", "Exit code of the run (see the README).").labels(command).set(summary.exit_code)
    gauge("last_run_timestamp_seconds", "When the run finished (Unix time).").labels(command).set(
        round(timestamp)
    )
    if plan is not None:
        _hosts(plan, maintenance, command, gauge)
    if summary.evacuable:
        evacuable = gauge(
            "host_evacuable",
            "1 when every guest could leave the host now (jobs.readiness), else 0.",
            ("host",),
        )
        for host, ok in sorted(summary.evacuable.items()):
            evacuable.labels(command, host).set(1 if ok else 0)
    return generate_latest(registry).decode()


def _hosts(plan: Plan, maintenance: Collection[str], command: str, gauge: Callable[..., Gauge]) -> None:
    """Per-host gauges: shares before and planned after, guests, reachable, in maintenance."""
    cpu = gauge(
        "host_cpu_share", "Measured CPU use as a share (0-1) of the host's capacity.", ("host", "when")
    )
    memory = gauge(
        "host_memory_share", "Guest memory as a share (0-1) of the host's capacity.", ("host", "when")
    )
    guests = gauge("host_guests", "Guests on the host.", ("host", "when"))
    reachable = gauge("host_reachable", "1 when the host answered the collection.", ("host",))
    in_maintenance = gauge("host_in_maintenance", "1 when the host is in maintenance.", ("host",))
    states = {h.name: h.state for h in plan.snapshot.hosts}
    for when, loads in (("before", plan.before), ("after", plan.after)):
        for load in loads:
            guests.labels(command, load.host, when).set(load.guests)
            if states.get(load.host) is HostState.UNREACHABLE:
                continue
            cpu.labels(command, load.host, when).set(round(load.cpu_pct / 100, 4))
            memory.labels(command, load.host, when).set(round(load.memory_pct / 100, 4))
    for host, state in states.items():
        reachable.labels(command, host).set(0 if state is HostState.UNREACHABLE else 1)
        in_maintenance.labels(command, host).set(1 if host in maintenance else 0)


def write(
    path: Path,
    summary: RunSummary,
    timestamp: float,
    plan: Plan | None = None,
    maintenance: Collection[str] = (),
) -> None:
    write_atomically(path, render(summary, timestamp, plan, maintenance), kind="metrics")
