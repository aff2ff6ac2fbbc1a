"""Lab storage: each host's own images directory and storage pool, and the lab's NBD server.

Local disks: every host has a size-limited tmpfs (its "local storage"), mounted in the root namespace at
HOSTDIR/images and bind-mounted over /var/lib/libvirt/images inside the host's mount namespace, where a
directory storage pool named "default" covers it. So a local disk has the same path on every host but is a
different file on each, as on real hosts, and the pool's free space is the host's real free space.

Shared disks: one qemu-nbd process per shared guest, in the lab's storage namespace (on the lab's bridge at
address .2), exports the guest's qcow2 image from the lab directory. Every host reaches it at the same
address, and libvirt treats a network disk as shared: a live migration does not copy it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from virt_rebalance.lab.errors import LabError
from virt_rebalance.lab.guest import DiskSource, GuestSpec
from virt_rebalance.lab.host import IMAGES_IN_HOST, LabHost
from virt_rebalance.lab.system import run

DEFAULT_STORAGE_MIB = 512
NBD_FIRST_PORT = 10809
FILL_PATTERN = "0xab"


def images_dir(host: LabHost) -> Path:
    """The host's local storage as the root namespace sees it."""
    return host.dir / "images"


def ensure_host_storage(host: LabHost, size_mib: int) -> None:
    """The host's tmpfs of size_mib (idempotent; mounted before its libvirtd starts)."""
    target = images_dir(host)
    target.mkdir(parents=True, exist_ok=True)
    if not os.path.ismount(target):
        run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0711", "tmpfs", str(target)])


def remove_host_storage(host_dir: Path) -> None:
    target = host_dir / "images"
    if os.path.ismount(target):
        run(["umount", "-l", str(target)], check=False)


def create_image(path: Path, spec: GuestSpec) -> None:
    """A qcow2 image of spec.disk_mib with its first disk_fill_mib written (a real allocation)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    run(["qemu-img", "create", "-q", "-f", "qcow2", str(tmp), f"{spec.disk_mib}M"])
    if spec.disk_fill_mib:
        write = f"write -P {FILL_PATTERN} 0 {spec.disk_fill_mib}M"
        run(["qemu-io", "-f", "qcow2", "-c", write, str(tmp)], timeout=120)
    tmp.rename(path)


def local_disk(host: LabHost, spec: GuestSpec) -> DiskSource:
    create_image(images_dir(host) / f"{spec.name}.qcow2", spec)
    return DiskSource(path=f"{IMAGES_IN_HOST}/{spec.name}.qcow2")


def shared_disk(
    image: Path, spec: GuestSpec, netns: str, address: str, port: int, pid_file: Path
) -> DiskSource:
    """Create the image if needed and make sure a qemu-nbd serves it on address:port in netns."""
    create_image(image, spec)
    if not _serving(pid_file, image):
        pid_file.unlink(missing_ok=True)
        run(
            [
                *("ip", "netns", "exec", netns, "qemu-nbd", "--fork", "--persistent", "--shared=8"),
                *("--format=qcow2", f"--bind={address}", f"--port={port}", f"--export-name={spec.name}"),
                *(f"--pid-file={pid_file}", str(image)),
            ],
            timeout=30,
        )
        if not _serving(pid_file, image):
            raise LabError(f"qemu-nbd did not start for {spec.name} on {address}:{port}")
    return DiskSource(nbd_address=address, nbd_port=port, nbd_export=spec.name)


def _serving(pid_file: Path, image: Path) -> bool:
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        return "qemu-nbd" in cmdline and str(image) in cmdline
    return False
