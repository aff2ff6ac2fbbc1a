"""`config check` on what the file cannot say by itself: a host that never answers, a state_dir that
cannot be created."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.tarpit import tarpit
from virt_rebalance.cli import main
from virt_rebalance.commands import config_check

REPO = Path(__file__).resolve().parents[3]


def _config(tmp_path: Path, state_dir: Path, timeout_s: float = 2.0) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(
        f'state_dir = "{state_dir}"\n[collect]\ntimeout_s = {timeout_s}\n'
        '[[hosts]]\nname = "a"\nuri = "qemu+ssh://a/system"\nmigration_uri = "tcp://a"\n'
    )
    return path


class _Conn:
    def getInfo(self) -> list[int]:
        return [0, 16384, 8, 2400, 1, 1, 4, 2]

    def getHostname(self) -> str:
        return "a"

    def close(self) -> int:
        return 0


def test_a_host_that_never_answers_is_reported_and_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    release = threading.Event()

    def hang(uri: str) -> _Conn:
        release.wait(5)
        return _Conn()

    monkeypatch.setattr(config_check, "open_host", hang)
    try:
        result = CliRunner().invoke(
            main, ["config", "check", "--config", str(_config(tmp_path, tmp_path, 0.6))]
        )
    finally:
        release.set()
    assert result.exit_code == 1
    assert "no answer within 0.6s" in result.output
    assert "1 of 1 host(s) did not answer" in result.output


def test_the_command_ends_within_its_timeout_on_a_host_that_accepts_and_never_answers(
    tmp_path: Path,
) -> None:
    with tarpit() as port:
        path = tmp_path / "c.toml"
        path.write_text(
            f'state_dir = "{tmp_path}"\n[collect]\ntimeout_s = 1\n[[hosts]]\nname = "a"\n'
            f'uri = "qemu+tcp://127.0.0.1:{port}/system"\nmigration_uri = "tcp://a"\n'
        )
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", "virt_rebalance", "config", "check", "--config", str(path)]
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=90)
        took = time.monotonic() - t0
    print(f"config check against a tarpit (timeout 1 s): exit {done.returncode} after {took:.1f}s")
    assert done.returncode == 1 and "no answer within 1s" in done.stdout, done.stdout + done.stderr
    assert took < 30  # the timeout plus starting Python on a busy machine; before, it never ended


@pytest.mark.parametrize(
    ("state_dir", "warned"),
    [
        ("state", False),
        ("file/state", True),
    ],
    ids=["new-dir-in-writable-parent", "below-a-regular-file"],
)
def test_state_dir_that_cannot_be_created_is_warned_about(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, state_dir: str, warned: bool
) -> None:
    (tmp_path / "file").write_text("not a directory")
    monkeypatch.setattr(config_check, "open_host", lambda uri: _Conn())
    path = _config(tmp_path, tmp_path / state_dir)
    result = CliRunner().invoke(main, ["config", "check", "--no-connect", "--config", str(path)])
    assert result.exit_code == 0
    assert ("is not writable" in result.output) is warned


def test_a_state_dir_every_user_may_write_is_named_with_the_reason(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    path = _config(tmp_path, state)
    result = CliRunner().invoke(main, ["config", "check", "--no-connect", "--config", str(path)])
    assert result.exit_code == 0
    assert "writable by every user (mode 0777)" in result.output
    assert "runs will stop there" in result.output
