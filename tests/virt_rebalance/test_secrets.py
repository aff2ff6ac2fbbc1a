"""Secrets in host URIs (a password, password=, keyfile=) never reach any output, snapshot or plan file;
apply still connects, taking each host's URI from the config by its name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from collectors.uri import redact_text, redact_uri, scrub
from tests.executor.harness import Lab, statuses
from tests.fakes.world import FakeWorld
from virt_rebalance.cli import main
from virt_rebalance.commands import config_check

SECRETS = ("hunter2", "s3cret-pw", "/root/.ssh/id_private", "tok-123")
URI = "qemu+ssh://root:hunter2@{host}.example/system?keyfile=/root/.ssh/id_private&password=s3cret-pw&token=tok-123&socket=/run/s"


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize(
    ("uri", "redacted"),
    [
        ("qemu+ssh://root:pw@h/system", "qemu+ssh://root@h/system"),
        ("qemu+ssh://h/system?keyfile=/root/k&no_verify=1", "qemu+ssh://h/system?keyfile=***&no_verify=1"),
        ("qemu+tls://h/system?pkipath=/etc/pki/x", "qemu+tls://h/system?pkipath=***"),
        ("qemu+unix:///system?socket=/run/s", "qemu+unix:///system?socket=/run/s"),
        ("qemu+ssh://h/system?Password=x&known_hosts=/k", "qemu+ssh://h/system?Password=***&known_hosts=***"),
        ("qemu+ssh://[::1/system", "<unparseable uri>"),
    ],
    ids=["password", "keyfile", "pkipath", "socket-kept", "any-case", "unparseable"],
)
def test_redact_uri(uri: str, redacted: str) -> None:
    assert redact_uri(uri) == redacted


def test_scrub_and_text() -> None:
    uri = URI.format(host="h1")
    message = f"cannot connect to {uri}: auth failed for s3cret-pw (tried /root/.ssh/id_private)"
    _clean(scrub(message, uri))
    _clean(redact_text(f"error at {uri}, and again at '{uri}'"))


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> FakeWorld:
    w = FakeWorld()
    w.add_host("h1")
    w.add_host("h2", alive=False)
    for name in ("h1", "h2"):
        w.hosts[name].uri = URI.format(host=name)
    w.add_domain("h1", "g1", memory_mib=512)
    monkeypatch.setattr("collectors.collect.open_connection", w.open)
    return w


def _config(tmp_path: Path, world: FakeWorld) -> Path:
    lines = [f'state_dir = "{tmp_path / "state"}"', "[collect]", "interval_s = 0.1", "dirty_rate_s = 0"]
    for name in ("h1", "h2"):
        lines += ["[[hosts]]", f'name = "{name}"', f'uri = "{world.hosts[name].uri}"']
    path = tmp_path / "cluster.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("log_json", [[], ["--log-json"]], ids=["plain", "json"])
def test_no_secret_in_collect_plan_and_their_files(
    world: FakeWorld, tmp_path: Path, log_json: list[str]
) -> None:
    config = str(_config(tmp_path, world))
    snapshot, plan = tmp_path / "snap.json", tmp_path / "plan.json"
    runner = CliRunner()
    collected = runner.invoke(main, [*log_json, "collect", "--config", config, "-o", str(snapshot)])
    assert collected.exit_code == 0, collected.output
    assert "h2" in collected.stderr  # the unreachable host is reported, without its secrets
    planned = runner.invoke(
        main,
        [
            *log_json,
            "plan",
            "--config",
            config,
            "--snapshot",
            str(snapshot),
            "--format",
            "json",
            "-o",
            str(plan),
        ],
    )
    assert planned.exit_code in (0, 3), planned.output
    hosts = json.loads(plan.read_text())["snapshot"]["hosts"]
    assert (
        hosts[0]["uri"]
        == "qemu+ssh://root@h1.example/system?keyfile=***&password=***&token=***&socket=/run/s"
    )
    for text in (collected.output, collected.stderr, planned.output, snapshot.read_text(), plan.read_text()):
        _clean(text)


def test_no_secret_in_config_check(world: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(uri: str) -> None:
        raise OSError(f"cannot connect to {uri}: Permission denied")

    monkeypatch.setattr(config_check, "open_host", refuse)
    result = CliRunner().invoke(
        main, ["--log-json", "config", "check", "--config", str(_config(tmp_path, world))]
    )
    assert result.exit_code == 1
    assert "qemu+ssh://root@h1.example/system?keyfile=***" in result.output
    _clean(result.output)


def test_apply_connects_with_the_configs_uri_by_host_name(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    for name, host in lab.world.hosts.items():
        host.uri = URI.format(host=name)
    lab.guest("a", "h1")
    report = lab.apply(lab.plan(lab.move("m1", "a", "h1", "h2")))
    assert statuses(report) == {"m1": "done"} and lab.where("a") == ["h2"]
