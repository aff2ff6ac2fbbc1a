"""Prometheus textfile metrics: well formed, one sample per series, the numbers of the run."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.virt_rebalance.sample import sample_plan
from virt_rebalance.jobs import metrics
from virt_rebalance.jobs.summary import Outcome, build

SAMPLE = re.compile(r'^virt_rebalance_[a-z_]+\{job="run"(,[a-z]+="[a-z-]+")*\} -?[0-9.e+]+$')


def _summary():
    outcomes = (
        Outcome("web-1", "h1", "h2", "done", 4096, bytes=5 * 2**30),
        Outcome("db-1", "h1", "h3", "failed", 8192, reason="stalled"),
    )
    return build("run", sample_plan(), "partial", 4, datetime.now(UTC), outcomes=outcomes)


def test_every_line_is_a_comment_or_a_sample() -> None:
    text = metrics.render(_summary(), 1_800_000_000)
    for line in text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line
    series = [line.split(" ")[0] for line in text.splitlines() if not line.startswith("#")]
    assert len(series) == len(set(series))


def test_values_are_the_runs() -> None:
    text = metrics.render(_summary(), 1_800_000_000)
    assert 'virt_rebalance_imbalance_pct{job="run",when="before",measure="peak"} 64' in text
    assert 'virt_rebalance_imbalance_pct{job="run",when="after",measure="spread"} 20' in text
    assert 'virt_rebalance_migrations{job="run",outcome="done"} 1' in text
    assert 'virt_rebalance_migration_failures{job="run"} 1' in text
    assert f'virt_rebalance_moved_bytes{{job="run"}} {5 * 2**30}' in text
    assert 'virt_rebalance_exit_code{job="run"} 4' in text


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path) -> None:
    path = tmp_path / "m" / "virt-rebalance-run.prom"
    metrics.write(path, _summary(), 1.0)
    assert path.read_text().startswith("# HELP")
    assert [p.name for p in path.parent.iterdir()] == [path.name]
