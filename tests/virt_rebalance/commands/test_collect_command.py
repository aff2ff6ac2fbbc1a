"""`virt-rebalance collect` over the fake seam: the snapshot file, stderr reports, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.codec import cluster_from_json
from tests.fakes.world import FakeWorld
from virt_rebalance.cli import main


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> FakeWorld:
    w = FakeWorld()
    w.add_host("h1")
    w.add_host("h2", alive=False)
    w.hosts["h2"].uri = "qemu+ssh://root:hunter2@h2.example/system"
    w.add_domain("h1", "g1", memory_mib=512)
    monkeypatch.setattr("collectors.collect.open_connection", w.open)
    return w


def write_config(tmp_path: Path, world: FakeWorld, hosts: tuple[str, ...] = ("h1", "h2")) -> Path:
    lines = [f'state_dir = "{tmp_path}"', "[collect]", "interval_s = 0.1", "dirty_rate_s = 0"]
    for name in hosts:
        lines += ["[[hosts]]", f'name = "{name}"', f'uri = "{world.hosts[name].uri}"']
    path = tmp_path / "cluster.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_writes_the_snapshot_and_reports_unreachable_hosts(world: FakeWorld, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    result = CliRunner().invoke(
        main, ["collect", "--config", str(write_config(tmp_path, world)), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    cluster = cluster_from_json(out.read_text())
    assert [v.name for v in cluster.vms] == ["g1"]
    assert "h2 is unreachable: Cannot recv data" in result.stderr
    assert "collected 1 of 2 hosts, 1 guests" in result.stderr
    assert "hunter2" not in result.output + result.stderr + out.read_text()


def test_record_then_window(world: FakeWorld, tmp_path: Path) -> None:
    cfg = str(write_config(tmp_path, world))
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["collect", "--config", cfg, "-o", str(tmp_path / "a.json"), "--record"]
        ).exit_code
        == 0
    )
    result = runner.invoke(
        main, ["collect", "--config", cfg, "-o", str(tmp_path / "b.json"), "--window", "1"]
    )
    assert result.exit_code == 0, result.output
    assert cluster_from_json((tmp_path / "b.json").read_text()).window.startswith(
        "CPU mean and p95 of the last 1 h"
    )


def test_fails_when_no_host_answers(world: FakeWorld, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["collect", "--config", str(write_config(tmp_path, world, ("h2",)))])
    assert result.exit_code == 1
    assert "no host answered: h2: Cannot recv data" in result.stderr
    assert "hunter2" not in result.stderr


def test_a_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("hosts = 3\n")
    result = CliRunner().invoke(main, ["collect", "--config", str(tmp_path / "bad.toml")])
    assert result.exit_code == 2


def test_record_alone_writes_no_snapshot(world: FakeWorld, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["collect", "--config", str(write_config(tmp_path, world)), "--record"])
    assert result.exit_code == 0 and result.stdout == ""
    assert "(recorded)" in result.stderr and (tmp_path / "history.sqlite").exists()


def test_snapshot_to_stdout_by_default(world: FakeWorld, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["collect", "--config", str(write_config(tmp_path, world))])
    assert result.exit_code == 0
    assert cluster_from_json(result.stdout).vm_by_name["g1"].host == "h1"


def test_an_unreachable_hosts_guests_come_from_the_history(world: FakeWorld, tmp_path: Path) -> None:
    cfg = str(write_config(tmp_path, world))
    runner = CliRunner()
    first = runner.invoke(main, ["collect", "--config", cfg])
    assert "h2 unreachable: its guests could not be listed (no history" in first.stderr
    world.hosts["h2"].alive = True
    world.add_domain("h2", "g2")
    assert runner.invoke(main, ["collect", "--config", cfg, "--record"]).exit_code == 0
    world.hosts["h2"].alive = False
    result = runner.invoke(main, ["collect", "--config", cfg])
    assert result.exit_code == 0, result.output
    assert "h2 unreachable: 1 guests last seen there at" in result.stderr
    assert "g2 on h2: host h2 unreachable: Cannot recv data" in result.stderr
    assert cluster_from_json(result.stdout).vm_by_name["g2"].state == "unknown"
    assert "hunter2" not in result.output + result.stderr
