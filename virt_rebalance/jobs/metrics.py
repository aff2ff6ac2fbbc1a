"""Prometheus textfile metrics of the last run, for node_exporter's textfile collector.

Written atomically (virt_rebalance.safe_write: 0640, the directory's group) so the collector never reads
half a file.
"""

from __future__ import annotations

from pathlib import Path

from virt_rebalance.jobs.summary import RunSummary
from virt_rebalance.safe_write import write_atomically

OUTCOMES = ("done", "failed", "skipped", "not-started")


def render(summary: RunSummary, timestamp: float) -> str:
    """The metrics of one run in the Prometheus text exposition format."""
    job = summary.job
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP virt_rebalance_{name} {help_text}")
        lines.append(f"# TYPE virt_rebalance_{name} {kind}")
        for labels, value in samples:
            label_text = f'job="{job}"' + (f",{labels}" if labels else "")
            lines.append(f"virt_rebalance_{name}{{{label_text}}} {_number(value)}")

    metric(
        "imbalance_pct",
        "gauge",
        "Host load imbalance (percentage points) before the run and as planned after it.",
        [
            (f'when="{when}",measure="{measure}"', getattr(balance, f"{measure}_pct"))
            for when, balance in (("before", summary.balance_before), ("after", summary.balance_after))
            for measure in ("peak", "spread")
        ],
    )
    metric(
        "imbalance_cv",
        "gauge",
        "Coefficient of variation of host load before the run and as planned after it.",
        [
            ('when="before"', summary.balance_before.cv),
            ('when="after"', summary.balance_after.cv),
        ],
    )
    metric("migrations_planned", "gauge", "Migrations in the plan.", [("", summary.planned)])
    metric(
        "migrations",
        "gauge",
        "Planned migrations by outcome.",
        [(f'outcome="{o}"', summary.count(o)) for o in OUTCOMES],
    )
    metric("migration_failures", "gauge", "Migrations that failed.", [("", summary.count("failed"))])
    metric("moved_bytes", "gauge", "Bytes moved by finished migrations.", [("", summary.moved_bytes)])
    metric("duration_seconds", "gauge", "Wall time of the run.", [("", round(summary.duration_s, 3))])
    metric("exit_code", "gauge", "Exit code of the run (see the README).", [("", summary.exit_code)])
    metric(
        "last_run_timestamp_seconds", "gauge", "When the run finished (Unix time).", [("", round(timestamp))]
    )
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    """Integers in full (bytes, timestamps), other values to four decimals."""
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}".rstrip("0")


def write(path: Path, summary: RunSummary, timestamp: float) -> None:
    write_atomically(path, render(summary, timestamp), kind="metrics")
