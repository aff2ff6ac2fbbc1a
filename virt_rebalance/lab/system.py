"""What the lab needs from the machine (root, binaries) and how it runs system commands.

Every failure here is a LabError that names what is missing and the Debian package that provides it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from virt_rebalance.lab.errors import LabError

#: binary -> the Debian package that provides it
REQUIRED_BINARIES: dict[str, str] = {
    "libvirtd": "libvirt-daemon",
    "virsh": "libvirt-clients",
    "qemu-system-x86_64": "qemu-system-x86",
    "ip": "iproute2",
    "unshare": "util-linux",
    "mount": "mount",
    "cpio": "cpio",
    "gzip": "gzip",
    "dpkg-deb": "dpkg",
    "apt-get": "apt",
    "qemu-img": "qemu-utils",
    "qemu-io": "qemu-utils",
    "qemu-nbd": "qemu-utils",
    "mountpoint": "util-linux",
}

#: files that only a package provides -> that package
REQUIRED_FILES: dict[str, str] = {
    "/bin/busybox": "busybox-static",
    "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so": "libvirt-daemon-driver-qemu",
}


def check_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root", "run as root: it creates network namespaces and libvirt daemons")


def check_packages() -> None:
    """Raise LabError naming the first missing binary or file and its apt package."""
    for binary, package in REQUIRED_BINARIES.items():
        if shutil.which(binary) is None:
            raise LabError(f"{binary} is not installed", f"apt-get install {package}")
    for path, package in REQUIRED_FILES.items():
        if not os.path.exists(path):
            raise LabError(f"{path} is missing", f"apt-get install {package}")
    if not _is_static("/bin/busybox"):
        raise LabError("/bin/busybox is not statically linked", "apt-get install busybox-static")


def _is_static(path: str) -> bool:
    """True when the ELF file has no program interpreter (a static binary runs in an empty initramfs)."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    return b"/lib64/ld-linux" not in head and b"/lib/ld-linux" not in head


def ensure_qemu_user() -> None:
    """libvirtd's QEMU driver resolves its built-in user and group (libvirt-qemu, groups kvm and
    libvirt-qemu) before it reads qemu.conf, and refuses to start when they are missing."""
    for group in ("kvm", "libvirt-qemu"):
        if run(["getent", "group", group], check=False).returncode != 0:
            run(["groupadd", "-r", group])
    if run(["id", "libvirt-qemu"], check=False).returncode != 0:
        run(["useradd", "-r", "-g", "kvm", "-s", "/usr/sbin/nologin", "libvirt-qemu"])


def preflight() -> None:
    check_root()
    check_packages()
    ensure_qemu_user()


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on the file, across processes: one operation at a time per lab (or cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run(
    argv: Sequence[str],
    check: bool = True,
    input: str | None = None,
    timeout: float = 120,
    cwd: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output; with check, a failure is a LabError quoting its stderr."""
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, input=input, timeout=timeout, check=False, cwd=cwd
        )
    except FileNotFoundError:
        raise LabError(f"{argv[0]} is not installed", _package_hint(argv[0])) from None
    except subprocess.TimeoutExpired:
        raise LabError(f"`{' '.join(argv)}` did not finish in {timeout:.0f} s") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise LabError(f"`{' '.join(argv)}` failed: {detail[-1] if detail else proc.returncode}")
    return proc


def _package_hint(binary: str) -> str:
    package = REQUIRED_BINARIES.get(os.path.basename(binary))
    return f"apt-get install {package}" if package else ""
