"""`virt-rebalance config check`: the file is validated and each host tried."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from virt_rebalance.cli import main
from virt_rebalance.commands import config_check


class _Conn:
    def getInfo(self):
        return ["x86_64", 16384, 8, 2400, 1, 1, 4, 2]

    def getHostname(self):
        return "node"

    def close(self):
        return 0


def _opener(down: set[str]):
    def open_host(uri: str):
        if any(d in uri for d in down):
            raise ConnectionError(f"Failed to connect socket to '{uri}': Connection refused")
        return _Conn()

    return open_host


@pytest.mark.parametrize(
    ("down", "code", "words"),
    [(set(), 0, "ok: node, 8 CPUs, 16.0 GiB"), ({"/tmp/h2"}, 1, "Connection refused")],
    ids=["all-answer", "one-down"],
)
def test_tries_every_host(monkeypatch, config_path, down, code, words) -> None:
    monkeypatch.setattr(config_check, "open_host", _opener(down))
    result = CliRunner().invoke(main, ["config", "check", "--config", str(config_path)])
    assert result.exit_code == code, result.output
    assert words in result.output
    assert result.output.count("  h") == 3


def test_no_connect_only_validates(monkeypatch, config_path) -> None:
    monkeypatch.setattr(config_check, "open_host", _opener({"/tmp/"}))
    result = CliRunner().invoke(main, ["config", "check", "--no-connect", "--config", str(config_path)])
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[[hosts]]\nname = "a"\nuri = "qemu:///system"\nnic_mibps = 0\n', ":4: hosts[0].nic_mibps"),
        ('[[hosts]]\nname = "a"\n', ":1: hosts[0].uri"),
        ('[[hosts]]\nname = "a"\nuri = "qemu:///system"\n[policy]\nwindow = "late"\n', ":5: policy.window"),
        ("[[hosts]\n", ":1"),
    ],
    ids=["out-of-range", "missing-key", "bad-window", "not-toml"],
)
def test_bad_file_names_file_line_and_key(tmp_path, text, where) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    assert f"{path}{where}" in result.output


def test_password_in_uri_is_never_shown(monkeypatch, tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        f'state_dir = "{tmp_path}"\n[[hosts]]\nname = "a"\nuri = "qemu+ssh://root:hunter2@a/system"\n'
    )
    monkeypatch.setattr(config_check, "open_host", _opener({"a/system"}))
    result = CliRunner().invoke(main, ["config", "check", "--config", str(path)])
    assert "hunter2" not in result.output
