"""A tiny smoke run of the planner benchmark and the generator (the real sizes stay out of the suite)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from benchmarks.generator import generate
from benchmarks.planner import main, run


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


def test_cli_prints_a_table_then_json() -> None:
    result = CliRunner().invoke(
        main, ["--hosts", "10", "--guests", "80", "--seed", "2", "--time-limit", "0.5"]
    )
    assert result.exit_code == 0, result.output
    header, *_ = result.output.splitlines()
    assert header.split()[:4] == ["kind", "hosts", "guests", "seconds"]
    rows = json.loads(result.output[result.output.index("[") :])
    assert {r["kind"] for r in rows} == {"optimizer", "greedy"}
    assert {"gap", "bound", "gib_moved", "peak_rss_mib", "cv_after"} <= set(rows[0])
