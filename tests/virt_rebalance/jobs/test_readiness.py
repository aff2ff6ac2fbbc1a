"""Readiness with the real planner on hand-made clusters (only collecting is faked)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from executor.interrupt import Interrupt
from planner.errors import InfeasibleError
from planner.load import host_loads
from planner.model import HostState
from tests.builders import make_cluster, make_host, make_vm
from tests.virt_rebalance.fakes import write_config
from tests.virt_rebalance.sample import sample_cluster
from virt_rebalance.cli import main
from virt_rebalance.config import load_config
from virt_rebalance.jobs import readiness, steps
from virt_rebalance.jobs.evacuation import plan_evacuation, staying_behind
from virt_rebalance.jobs.nightly import run_nightly


@pytest.fixture
def collected(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """steps.collect returns the sample cluster (h1 busy, g-kvm only on h1, h3 empty); counts the calls."""
    calls: list[int] = []

    def collect(config, *, window_hours=None):
        calls.append(1)
        return sample_cluster()

    monkeypatch.setattr(steps, "collect", collect)
    return calls


def test_one_snapshot_one_short_plan_per_host_with_guests(collected, config, monkeypatch) -> None:
    planned: list[tuple[tuple[str, ...], float | None]] = []
    real = steps.plan

    def plan(cluster, config, goal="rebalance", evacuate=(), *, time_limit_s=None):
        planned.append((evacuate, time_limit_s))
        return real(cluster, config, goal, evacuate, time_limit_s=time_limit_s)

    monkeypatch.setattr(steps, "plan", plan)
    result = readiness.check(config)
    assert len(collected) == 1
    assert planned == [(("h1",), readiness.PER_HOST_TIME_LIMIT_S), (("h2",), readiness.PER_HOST_TIME_LIMIT_S)]
    assert [h.host for h in result.hosts] == ["h1", "h2", "h3"]
    assert result.hosts[2].evacuable and result.hosts[2].migrations == 0  # h3: empty, nothing planned


def test_a_guest_that_cannot_leave_blocks_its_host_with_the_evacuate_reason(collected, config) -> None:
    by_host = {h.host: h for h in readiness.check(config).hosts}
    h1 = by_host["h1"]
    assert not h1.evacuable
    expected = staying_behind(plan_evacuation(config, ("h1",)), ("h1",))
    assert [(s.vm_name, s.rule, s.reason) for s in h1.stays] == [
        (s.vm_name, s.rule, s.reason) for s in expected
    ]
    assert h1.stays[0].vm_name == "g-kvm" and "g-kvm stays" in h1.why_not
    assert h1.migrations == 3 and h1.moved_mib == 4096 + 2048 + 8192
    assert 0 < h1.lower_bound_s <= h1.estimate_s
    assert by_host["h2"].evacuable and by_host["h2"].migrations >= 1  # batch leaves (others may rebalance)


def test_the_summary_line_names_the_blocked_hosts_and_n_plus_1(collected, config) -> None:
    line = readiness.check(config).summary_line()
    assert line.startswith("readiness: 2 of 3 hosts can be emptied now (not h1: g-kvm stays (")
    assert line.endswith("N+1 holds for cpu, memory, vcpus")


def test_planning_errors_and_unreachable_hosts_are_not_evacuable() -> None:
    cluster = make_cluster(
        [make_host("a"), make_host("b"), make_host("c", state=HostState.UNREACHABLE, error="timed out")],
        [make_vm("x", "a"), make_vm("y", "b")],
    )

    def plan_one(host: str):
        raise InfeasibleError(["x and y must share a host"])

    result = readiness.assess(cluster, plan_one)
    assert [(h.host, h.evacuable) for h in result.hosts] == [("a", False), ("b", False), ("c", False)]
    assert "x and y must share a host" in result.hosts[0].why_not
    assert result.hosts[2].why_not == "unreachable: not planned"  # its guests are unknown


# N+1, per resource: (host memory MiB, guests' memory per host) -> (worst host, its load, others free, ok)
HEADROOM = [
    pytest.param((8192, [[4096], [2048], []]), ("h1", 4096, 6144 + 8192, True), id="room-for-the-biggest"),
    pytest.param((8192, [[6144], [6144], [6144]]), ("h1", 6144, 4096, False), id="no-room-for-any"),
    pytest.param((8192, [[7168], [1024], [1024]]), ("h1", 7168, 14336, True), id="uneven-but-fits"),
]


@pytest.mark.parametrize(("setup", "expected"), HEADROOM)
def test_n_plus_1_headroom_per_resource(setup, expected) -> None:
    memory, per_host = setup
    hosts = [make_host(f"h{i}", memory_mib=memory) for i in (1, 2, 3)]
    vms = [make_vm(host=f"h{i}", memory_mib=m) for i, ms in enumerate(per_host, 1) for m in ms]
    cluster = make_cluster(hosts, vms)
    rows = {x.resource: x for x in readiness.headroom(cluster, host_loads(cluster, cluster.placement))}
    mem = rows["memory"]
    assert (mem.worst_host, mem.load, mem.others_free, mem.ok) == expected
    assert set(rows) == {"cpu", "memory", "vcpus"}


def test_closed_and_maintenance_hosts_offer_no_headroom() -> None:
    hosts = [
        make_host("h1", memory_mib=8192),
        make_host("h2", memory_mib=8192),
        make_host("h3", memory_mib=8192),
    ]
    hosts[2] = replace(hosts[2], state=HostState.MAINTENANCE)
    cluster = make_cluster(hosts, [make_vm(host="h1", memory_mib=4096)])
    loads = host_loads(cluster, cluster.placement)
    assert readiness.headroom(cluster, loads)[1].others_free == 8192
    assert readiness.headroom(cluster, loads, closed={"h2"})[1].others_free == 0


def test_the_nightly_run_prints_readiness_and_writes_a_gauge_per_host(fake_steps, config_path) -> None:
    result = CliRunner().invoke(main, ["run", "--ignore-window", "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    assert "readiness: 2 of 3 hosts can be emptied now (not h1: g-kvm stays (" in result.output
    state = Path(load_config(config_path).state_dir)
    metrics = (state / "metrics" / "virt-rebalance-run.prom").read_text()
    assert "# TYPE virt_rebalance_host_evacuable gauge" in metrics
    for host, value in (("h1", 0), ("h2", 1), ("h3", 1)):
        assert f'virt_rebalance_host_evacuable{{command="run",host="{host}"}} {value}.0' in metrics
    assert json.loads((state / "last-run.json").read_text())["evacuable"] == {
        "h1": False,
        "h2": True,
        "h3": True,
    }


@pytest.mark.parametrize(
    ("limit", "said"),
    [(2, "not checked (3 hosts > readiness_max_hosts 2; `virt-rebalance readiness` checks it)"),
     (0, "not checked (readiness_max_hosts = 0; `virt-rebalance readiness` checks it)")],
)  # fmt: skip
def test_the_nightly_run_skips_readiness_above_its_host_limit(fake_steps, tmp_path, limit, said) -> None:
    config = load_config(write_config(tmp_path, top=f"readiness_max_hosts = {limit}\n"))
    summary = run_nightly(config, ignore_window=True)
    assert summary.readiness == f"readiness: {said}" and summary.evacuable == {}
    assert fake_steps.planned_goals.count("evacuate") == 0  # not one evacuation planned for it


def test_an_interrupted_nightly_run_does_not_check_readiness(fake_steps, config) -> None:
    interrupt = Interrupt()
    fake_steps.apply_hook = lambda: interrupt.stop("interrupted by SIGTERM")
    fake_steps.outcome = lambda mid: ("done", "") if mid == "m1" else ("not-started", "interrupted")
    summary = run_nightly(config, ignore_window=True, interrupt=interrupt)
    assert summary.status == "interrupted" and summary.readiness == "readiness: not checked (interrupted)"
    assert fake_steps.planned_goals.count("evacuate") == 0


def test_readiness_is_judged_after_the_moves_that_finished(fake_steps, config) -> None:
    fake_steps.cluster = sample_cluster()
    moved = readiness.moved(fake_steps.cluster, {"db-1": "h3"})
    assert moved.vm_by_name["db-1"].host == "h3" and moved.vm_by_name["web-1"].host == "h1"
    assert readiness.moved(fake_steps.cluster, {}) is fake_steps.cluster


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_readiness_command_formats(collected, config_path, fmt, tmp_path) -> None:
    out = tmp_path / f"r.{fmt}"
    result = CliRunner().invoke(
        main, ["readiness", "--config", str(config_path), "--format", fmt, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    shown = out.read_text()
    if fmt == "json":
        data = json.loads(shown)
        assert data["evacuable"] == ["h2", "h3"]
        assert data["hosts"][0]["stays"][0]["vm"] == "g-kvm"
        assert {x["resource"] for x in data["headroom"]} == {"cpu", "memory", "vcpus"}
    else:
        assert "g-kvm" in shown and "N+1" in shown
        assert ("<table>" in shown) == (fmt == "html")


def test_readiness_command_text_on_stdout(collected, config_path) -> None:
    result = CliRunner().invoke(main, ["readiness", "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Readiness: 2 of 3 host(s) can be emptied now")
    assert any(line.split()[:4] == ["h1", "active", "4", "no"] for line in lines)
    assert "Staying, and why" in result.output and "N+1 headroom" in result.output
