"""Preflight: not root, or a missing package, is a LabError naming it and the apt package."""

from __future__ import annotations

import pytest

from virt_rebalance.lab import system
from virt_rebalance.lab.errors import LabError


def test_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    with pytest.raises(LabError, match="needs root"):
        system.check_root()


@pytest.mark.parametrize(
    ("binary", "package"),
    [("libvirtd", "libvirt-daemon"), ("virsh", "libvirt-clients"), ("qemu-system-x86_64", "qemu-system-x86"),
     ("ip", "iproute2"), ("cpio", "cpio")],
    ids=["libvirtd", "virsh", "qemu", "ip", "cpio"],
)  # fmt: skip
def test_missing_binary_names_its_package(monkeypatch: pytest.MonkeyPatch, binary: str, package: str) -> None:
    real_which = system.shutil.which
    monkeypatch.setattr(system.shutil, "which", lambda b: None if b == binary else real_which(b))
    with pytest.raises(LabError) as caught:
        system.check_packages()
    assert caught.value.what == f"{binary} is not installed"
    assert caught.value.hint == f"apt-get install {package}"


@pytest.mark.parametrize(
    ("path", "package"),
    [("/bin/busybox", "busybox-static"), ("libvirt_driver_qemu.so", "libvirt-daemon-driver-qemu")],
    ids=["busybox", "qemu-driver"],
)
def test_missing_file_names_its_package(monkeypatch: pytest.MonkeyPatch, path: str, package: str) -> None:
    real_exists = system.os.path.exists
    monkeypatch.setattr(system.os.path, "exists", lambda p: not p.endswith(path) and real_exists(p))
    with pytest.raises(LabError, match=f"apt-get install {package}"):
        system.check_packages()


def test_failed_command_quotes_its_error() -> None:
    with pytest.raises(LabError, match="failed: boom"):
        system.run(["sh", "-c", "echo boom >&2; exit 3"])


def test_unknown_binary() -> None:
    with pytest.raises(LabError, match="no-such-binary-xyz is not installed"):
        system.run(["no-such-binary-xyz"])
