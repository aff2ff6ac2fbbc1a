"""The guest boot images, built once per machine and shared by every lab: a Debian cloud kernel and a
busybox initramfs whose /init turns kernel command-line knobs into load.

Knobs (see `init_script`): `cpu=N` starts N busy loops, `cpu_pct=P` lets each loop burn only P% of every
second (100 = flat out), `dirty=MiB` rewrites that much of a tmpfs file in a loop (a real dirty-page rate), alternating zeros and
0xff so that every pass changes the pages' contents (libvirt's page-sampling dirty-rate estimate hashes
page contents; rewriting zeros with zeros would look clean to it), `disk=KiB` loads the virtio disk
driver and rewrites one KiB-sized chunk of a 16-chunk region at the start of /dev/vda every half second,
keeping a copy of the region in tmpfs: after each write it reads the region back from the disk itself
(O_DIRECT, so not from the page cache, which migrates with the memory) and prints
`virt-rebalance-disk: seq=N md5=X ok` when the disk holds exactly what was written, `BAD` otherwise.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from virt_rebalance.lab.errors import LabError
from virt_rebalance.lab.system import locked, run

CACHE = Path("/var/cache/virt-rebalance")
KERNEL_META_PACKAGE = "linux-image-cloud-amd64"
READY_MARKER = "virt-rebalance-guest: ready"
DISK_MARKER = "virt-rebalance-disk:"
#: the kernel modules a virtio disk needs, in load order (the cloud kernel builds them as modules)
DISK_MODULES = (
    "virtio_ring",
    "virtio",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
)

_INIT_TEMPLATE = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
cpu=0; cpu_pct=100; dirty=0; disk=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    cpu=*) cpu=${arg#cpu=} ;;
    cpu_pct=*) cpu_pct=${arg#cpu_pct=} ;;
    dirty=*) dirty=${arg#dirty=} ;;
    disk=*) disk=${arg#disk=} ;;
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
if [ "$disk" -gt 0 ]; then
  for m in MODULES; do insmod /lib/modules/$m.ko 2>/dev/null; done
  i=0; while [ ! -b /dev/vda ] && [ "$i" -lt 100 ]; do usleep 100000; i=$((i + 1)); done
  dd if=/dev/vda of=/tmp/region bs="$disk"k count=16 iflag=direct 2>/dev/null
  ( seq=0
    while :; do
      seq=$((seq + 1)); k=$((seq % 16))
      yes "seq=$seq" | head -c $((disk * 1024)) > /tmp/chunk
      dd if=/tmp/chunk of=/dev/vda bs="$disk"k seek="$k" count=1 oflag=direct conv=notrunc,fsync 2>/dev/null
      dd if=/tmp/chunk of=/tmp/region bs="$disk"k seek="$k" count=1 conv=notrunc 2>/dev/null
      want=$(md5sum < /tmp/region); want=${want%% *}
      got=$(dd if=/dev/vda bs="$disk"k count=16 iflag=direct 2>/dev/null | md5sum); got=${got%% *}
      if [ "$got" = "$want" ]; then verdict=ok; else verdict=BAD; fi
      echo "virt-rebalance-disk: seq=$seq md5=$got $verdict"
      usleep 500000
    done ) &
fi
echo "virt-rebalance-guest: ready cpu=$cpu cpu_pct=$cpu_pct dirty=$dirty disk=$disk"
while :; do sleep 3600; done
"""
INIT_SCRIPT = _INIT_TEMPLATE.replace("MODULES", " ".join(DISK_MODULES))


@dataclass(frozen=True)
class BootImages:
    kernel: Path
    initrd: Path


def ensure_images(cache: Path = CACHE) -> BootImages:
    """The kernel and initramfs, fetched or built on first use; safe to call from concurrent labs."""
    cache.mkdir(parents=True, exist_ok=True)
    with locked(cache / ".lock"):
        kernel, modules = _ensure_kernel(cache)
        return BootImages(kernel=kernel, initrd=_ensure_initramfs(cache, modules))


def _ensure_kernel(cache: Path) -> tuple[Path, Path]:
    """The kernel and a directory holding the DISK_MODULES built for it (both from the same package)."""
    cached = sorted(cache.glob("vmlinuz-*-cloud-amd64"))
    if cached and _modules_dir(cached[-1]).is_dir():
        return cached[-1], _modules_dir(cached[-1])
    package = kernel_package()
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        debs = sorted(Path("/var/cache/apt/archives").glob(f"{package}_*.deb"))
        if not debs:
            proc = run(["apt-get", "download", "-q", package], check=False, timeout=600, cwd=tmp)
            if proc.returncode != 0:
                raise LabError(
                    f"could not download {package}: {proc.stderr.strip()[-300:]}", "check the network"
                )
            debs = sorted(Path(tmp).glob("*.deb"))
        run(["dpkg-deb", "-x", str(debs[-1]), f"{tmp}/x"])
        vmlinuz = next(Path(tmp, "x", "boot").glob("vmlinuz-*"))
        target = cache / vmlinuz.name
        modules = Path(tmp, "modules")
        modules.mkdir()
        for name in DISK_MODULES:
            found = next(Path(tmp, "x", "lib", "modules").glob(f"*/kernel/drivers/*/{name}.ko"))
            shutil.copyfile(found, modules / found.name)
        shutil.copyfile(vmlinuz, target)
        shutil.rmtree(_modules_dir(target), ignore_errors=True)
        shutil.move(modules, _modules_dir(target))
    return target, _modules_dir(target)


def _modules_dir(kernel: Path) -> Path:
    return kernel.with_name(kernel.name.replace("vmlinuz-", "modules-", 1))


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


def _ensure_initramfs(cache: Path, modules: Path) -> Path:
    content = INIT_SCRIPT.encode() + Path("/bin/busybox").read_bytes()
    content += b"".join(p.read_bytes() for p in sorted(modules.glob("*.ko")))
    digest = hashlib.sha256(content).hexdigest()[:12]
    target = cache / f"initramfs-{digest}.cpio.gz"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        root = Path(tmp, "root")
        for d in ("bin", "proc", "sys", "dev", "tmp"):
            (root / d).mkdir(parents=True)
        shutil.copytree(modules, root / "lib" / "modules")
        shutil.copy2("/bin/busybox", root / "bin" / "busybox")
        (root / "init").write_text(INIT_SCRIPT)
        (root / "init").chmod(0o755)
        archive = Path(tmp, "initramfs.cpio.gz")
        run(["sh", "-c", f"cd {root} && find . | cpio -o -H newc --quiet | gzip -1 > {archive}"])
        shutil.move(archive, target)
    return target
