"""`virt-rebalance lab` without a lab: clear errors and exit codes, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from virt_rebalance.cli import main
from virt_rebalance.commands import lab as lab_command
from virt_rebalance.lab import GuestSpec, system


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["lab", "status", "--name", "no-such-lab-xyz"], 1, "no lab named no-such-lab-xyz"),
        (["lab", "up", "--name", "Bad Name"], 1, "bad lab name"),
        (["lab", "up", "--hosts", "2", "--no-kvm-hosts", "3"], 2, "cannot exceed --hosts"),
        (["lab", "up", "--hosts", "0"], 2, "--hosts"),
        (
            ["lab", "up", "--hosts", "2", "--no-kvm-hosts", "2", "--kvm-guests", "1"],
            2,
            "needs a host with KVM",
        ),
    ],
    ids=["status-unknown", "bad-name", "too-many-no-kvm", "zero-hosts", "kvm-guest-without-kvm"],
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


class _FakeLab:
    """Records what `lab up` asks of the lab."""

    def __init__(self, name: str) -> None:
        self.name, self.guests, self.added = name, [], []
        self.config_path = f"/tmp/{name}/cluster.toml"

    def up(self, **kwargs):
        self.guests = [GuestSpec("kvm1", kind="kvm", host="h1")] if kwargs["hosts"] == 9 else []
        return self

    def add_guest(self, spec: GuestSpec) -> str:
        self.added.append(spec)
        return spec.host or ""


@pytest.mark.parametrize(
    ("hosts", "added"), [(3, ["kvm1", "kvm2"]), (9, ["kvm2"])], ids=["new", "idempotent"]
)
def test_kvm_guests_start_on_h1(monkeypatch: pytest.MonkeyPatch, hosts: int, added: list[str]) -> None:
    labs: list[_FakeLab] = []
    monkeypatch.setattr(lab_command, "Lab", lambda name: labs.append(_FakeLab(name)) or labs[-1])
    args = ["lab", "up", "--name", "evac", "--hosts", str(hosts), "--no-kvm-hosts", "2", "--kvm-guests", "2"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert [(g.name, g.kind, g.host) for g in labs[0].added] == [(n, "kvm", "h1") for n in added]
