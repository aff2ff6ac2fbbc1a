"""The guest boot images, built once per machine and shared by every lab: a Debian cloud kernel and a
busybox initramfs whose /init turns kernel command-line knobs into load.

Knobs (see `init_script`): `cpu=N` starts N busy loops, `cpu_pct=P` lets each loop burn only P% of every
second (100 = flat out), `dirty=MiB` rewrites that much of a tmpfs file in a loop (a real dirty-page rate), alternating zeros and
0xff so that every pass changes the pages' contents (libvirt's page-sampling dirty-rate estimate hashes
page contents; rewriting zeros with zeros would look clean to it).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from planner.errors import LabError
from virt_rebalance.lab.system import locked, run

CACHE = Path("/var/cache/virt-rebalance")
KERNEL_META_PACKAGE = "linux-image-cloud-amd64"
READY_MARKER = "virt-rebalance-guest: ready"

INIT_SCRIPT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
cpu=0; cpu_pct=100; dirty=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    cpu=*) cpu=${arg#cpu=} ;;
    cpu_pct=*) cpu_pct=${arg#cpu_pct=} ;;
    dirty=*) dirty=${arg#dirty=} ;;
  esac
done
now_cs() { read up rest < /proc/uptime; echo $(( ${up%.*} * 100 + 1${up#*.} - 100 )); }
burn() {
  if [ "$cpu_pct" -ge 100 ]; then while :; do :; done; fi
  while :; do
    end=$(( $(now_cs) + cpu_pct ))
    while [ "$(now_cs)" -lt "$end" ]; do :; done
    usleep $(( (100 - cpu_pct) * 10000 ))
  done
}
i=0; while [ "$i" -lt "$cpu" ]; do burn & i=$((i + 1)); done
if [ "$dirty" -gt 0 ]; then
  yes | head -c 1048576 | tr y '\377' > /tmp/ones
  set --; i=0; while [ "$i" -lt "$dirty" ]; do set -- "$@" /tmp/ones; i=$((i + 1)); done
  ( while :; do
      dd if=/dev/zero of=/tmp/dirty bs=1M count="$dirty" conv=notrunc 2>/dev/null
      cat "$@" 1<> /tmp/dirty
    done ) &
fi
echo "virt-rebalance-guest: ready cpu=$cpu cpu_pct=$cpu_pct dirty=$dirty"
while :; do sleep 3600; done
"""


@dataclass(frozen=True)
class BootImages:
    kernel: Path
    initrd: Path


def ensure_images(cache: Path = CACHE) -> BootImages:
    """The kernel and initramfs, fetched or built on first use; safe to call from concurrent labs."""
    cache.mkdir(parents=True, exist_ok=True)
    with locked(cache / ".lock"):
        return BootImages(kernel=_ensure_kernel(cache), initrd=_ensure_initramfs(cache))


def _ensure_kernel(cache: Path) -> Path:
    cached = sorted(cache.glob("vmlinuz-*-cloud-amd64"))
    if cached:
        return cached[-1]
    package = kernel_package()
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        proc = run(["apt-get", "download", "-q", package], check=False, timeout=600, cwd=tmp)
        if proc.returncode != 0:
            raise LabError(f"could not download {package}: {proc.stderr.strip()[-300:]}", "check the network")
        deb = next(Path(tmp).glob("*.deb"))
        run(["dpkg-deb", "-x", str(deb), f"{tmp}/x"])
        vmlinuz = next(Path(tmp, "x", "boot").glob("vmlinuz-*"))
        target = cache / vmlinuz.name
        shutil.copyfile(vmlinuz, target)
    return target


def kernel_package() -> str:
    """The versioned package that linux-image-cloud-amd64 depends on, e.g. linux-image-6.1.0-28-cloud-amd64."""
    for attempt in ("cached", "updated"):
        if attempt == "updated":  # a fresh machine may have no package lists yet
            run(["apt-get", "update", "-qq"], check=False, timeout=600)
        proc = run(["apt-cache", "depends", KERNEL_META_PACKAGE], check=False)
        match = re.search(r"Depends:\s*(linux-image-\S+-cloud-amd64)", proc.stdout)
        if match:
            return match.group(1)
    raise LabError(f"apt knows no {KERNEL_META_PACKAGE}", "check /etc/apt/sources.list and the network")


def _ensure_initramfs(cache: Path) -> Path:
    digest = hashlib.sha256(INIT_SCRIPT.encode() + Path("/bin/busybox").read_bytes()).hexdigest()[:12]
    target = cache / f"initramfs-{digest}.cpio.gz"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        root = Path(tmp, "root")
        for d in ("bin", "proc", "sys", "dev", "tmp"):
            (root / d).mkdir(parents=True)
        shutil.copy2("/bin/busybox", root / "bin" / "busybox")
        (root / "init").write_text(INIT_SCRIPT)
        (root / "init").chmod(0o755)
        archive = Path(tmp, "initramfs.cpio.gz")
        run(["sh", "-c", f"cd {root} && find . | cpio -o -H newc --quiet | gzip -1 > {archive}"])
        shutil.move(archive, target)
    return target
