"""Prometheus textfile metrics, read back with prometheus_client's own parser: the run's numbers, per-host
gauges, no `job` label, written atomically."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from planner.model import HostState
from tests.virt_rebalance.sample import plan_for, sample_cluster, sample_plan
from virt_rebalance.jobs import metrics
from virt_rebalance.jobs.summary import Outcome, build


def _summary(plan=None):
    outcomes = (
        Outcome("web-1", "h1", "h2", "done", 4096, bytes=5 * 2**30),
        Outcome("db-1", "h1", "h3", "failed", 8192, reason="stalled"),
    )
    return build("run", plan or sample_plan(), "partial", 4, datetime.now(UTC), outcomes=outcomes)


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample by (name, labels); a series twice would collapse, so count them too."""
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    by_series = {(s.name, frozenset(s.labels.items())): s.value for s in samples}
    assert len(by_series) == len(samples), "a series appears twice"
    return by_series


def _value(samples, name: str, **labels: str) -> float:
    return samples[(f"virt_rebalance_{name}", frozenset({"command": "run", **labels}.items()))]


def test_the_runs_numbers_parse_back() -> None:
    samples = _samples(metrics.render(_summary(), 1_800_000_000))
    assert _value(samples, "imbalance_pct", when="before", measure="peak") == 64
    assert _value(samples, "imbalance_pct", when="after", measure="spread") == 20
    assert _value(samples, "migrations", outcome="done") == 1
    assert _value(samples, "migration_failures") == 1
    assert _value(samples, "moved_bytes") == 5 * 2**30
    assert _value(samples, "exit_code") == 4
    assert _value(samples, "last_run_timestamp_seconds") == 1_800_000_000


def test_no_series_has_a_job_label() -> None:
    samples = _samples(metrics.render(_summary(), 1.0, sample_plan(), maintenance={"h3"}))
    assert all("job" not in dict(labels) for _, labels in samples)


def test_per_host_gauges() -> None:
    plan = sample_plan()
    samples = _samples(metrics.render(_summary(plan), 1.0, plan, maintenance={"h3"}))
    before = {load.host: load for load in plan.before}
    after = {load.host: load for load in plan.after}
    assert _value(samples, "host_cpu_share", host="h1", when="before") == round(before["h1"].cpu_pct / 100, 4)
    assert _value(samples, "host_memory_share", host="h2", when="after") == round(
        after["h2"].memory_pct / 100, 4
    )
    assert _value(samples, "host_guests", host="h1", when="before") == 4
    assert _value(samples, "host_guests", host="h1", when="after") == 2
    assert _value(samples, "host_in_maintenance", host="h3") == 1
    assert _value(samples, "host_in_maintenance", host="h1") == 0
    assert _value(samples, "host_reachable", host="h2") == 1


def test_an_unreachable_host_has_no_share() -> None:
    cluster = sample_cluster()
    hosts = tuple(replace(h, state=HostState.UNREACHABLE) if h.name == "h3" else h for h in cluster.hosts)
    plan = plan_for(replace(cluster, hosts=hosts), [])
    samples = _samples(metrics.render(_summary(plan), 1.0, plan))
    assert _value(samples, "host_reachable", host="h3") == 0
    assert (
        "virt_rebalance_host_cpu_share",
        frozenset({"command": "run", "host": "h3", "when": "before"}.items()),
    ) not in samples
    assert _value(samples, "host_cpu_share", host="h1", when="before") > 0


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path) -> None:
    path = tmp_path / "m" / "virt-rebalance-run.prom"
    metrics.write(path, _summary(), 1.0, sample_plan())
    assert path.read_text().startswith("# HELP")
    assert [p.name for p in path.parent.iterdir()] == [path.name]
