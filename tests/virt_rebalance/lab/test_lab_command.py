"""`virt-rebalance lab` without a lab: clear errors and exit codes, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from virt_rebalance.cli import main
from virt_rebalance.lab import system


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["lab", "status", "--name", "no-such-lab-xyz"], 1, "no lab named no-such-lab-xyz"),
        (["lab", "up", "--name", "Bad Name"], 1, "bad lab name"),
        (["lab", "up", "--hosts", "2", "--no-kvm-hosts", "3"], 2, "cannot exceed --hosts"),
        (["lab", "up", "--hosts", "0"], 2, "--hosts"),
    ],
    ids=["status-unknown", "bad-name", "too-many-no-kvm", "zero-hosts"],
)
def test_errors(args: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("sub", ["up", "down"])
def test_not_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, sub: str) -> None:
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    result = CliRunner().invoke(main, ["lab", sub, "--name", "x"])
    assert result.exit_code == 1
    assert "the lab needs root" in result.output
