"""A tiny smoke run of the planner benchmark and the generator (the real sizes stay out of the suite)."""

from __future__ import annotations

from benchmarks.generator import generate
from benchmarks.planner import run


def test_generator_is_seeded_and_consistent() -> None:
    a, b = generate(20, 200, seed=3), generate(20, 200, seed=3)
    assert a == b
    assert len(a.hosts) == 20 and len(a.vms) == 200
    assert all(vm.host in a.host_by_name for vm in a.vms)
    assert len(a.compatibility["sig-gen3"]) < len(a.compatibility["sig-gen1"]) == 20


def test_benchmark_runs_and_reports_both_kinds() -> None:
    rows = run(20, 200, seed=1, time_limit=1.0)
    assert [r["kind"] for r in rows] == ["optimizer", "greedy"]
    assert rows[0]["peak_after"] <= rows[0]["peak_before"]
    assert rows[0]["gap"] >= 0
