"""A lab guest: its spec and its libvirt domain XML.

Two kinds. "tcg" guests (domain type 'qemu', custom qemu64 CPU) boot the Debian cloud kernel with the
busybox initramfs and run the load their knobs ask for; they run on every lab host. "kvm" guests are
diskless domains of type 'kvm' (SeaBIOS, nothing to boot) with no <cpu> element, i.e. QEMU's default
model: they need /dev/kvm, so they only run on KVM hosts, which is what placement tests need. Under the
nested KVM of this machine a Linux kernel hangs early (hence no kernel), and host-model or host-passthrough
CPUs crash QEMU 7.2 at start (kvm_buf_set_msrs assertion), hence no <cpu>.

A tcg guest may have one virtio disk (vda, see disks.py): "local", a qcow2 file in its host's own images
directory, or "shared", an NBD export of the lab's storage server, which every host reaches at the same
address and libvirt treats as shared. Its init writes to the disk and checks what it reads back.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

from virt_rebalance.lab.errors import LabError

GuestKind = Literal["tcg", "kvm"]
DiskKind = Literal["none", "shared", "local"]
DISK_KINDS: tuple[DiskKind, ...] = ("none", "shared", "local")
_UUID_NAMESPACE = uuid.UUID("6f0d1c2e-9a8b-4c53-a1de-5b7e0c4d2f10")


@dataclass(frozen=True)
class GuestSpec:
    """What a lab guest looks like. host=None lets the lab pick one (round robin)."""

    name: str
    memory_mib: int = 128
    vcpus: int = 1
    cpu_burn: int = 0  # busy loops in the guest (tcg only)
    cpu_pct: int = 100  # share of each second every busy loop burns
    dirty_mib: int = 0  # MiB of tmpfs rewritten in a loop (tcg only)
    kind: GuestKind = "tcg"
    host: str | None = None
    disk: DiskKind = "none"
    disk_mib: int = 64  # capacity of its disk
    disk_fill_mib: int = 24  # written before it boots, so its allocation is real
    disk_write_kib: int = 32  # what its init rewrites on the disk every half second (16 chunks in turn)

    def __post_init__(self) -> None:
        problems = [
            (not self.name.replace("-", "").replace("_", "").isalnum(), "name: letters, digits, - and _"),
            (not 64 <= self.memory_mib <= 4096, "memory_mib: 64-4096"),
            (not 1 <= self.vcpus <= 4, "vcpus: 1-4"),
            (not 0 <= self.cpu_burn <= 4, "cpu_burn: 0-4"),
            (not 1 <= self.cpu_pct <= 100, "cpu_pct: 1-100"),
            (not 0 <= self.dirty_mib < self.memory_mib // 2, "dirty_mib: 0 to half the memory"),
            (self.kind not in ("tcg", "kvm"), "kind: 'tcg' or 'kvm'"),
            (self.kind == "kvm" and (self.cpu_burn or self.dirty_mib), "kvm guests run no load"),
            (self.disk not in DISK_KINDS, "disk: 'none', 'shared' or 'local'"),
            (self.kind == "kvm" and self.disk != "none", "kvm guests have no disk"),
            (not 16 <= self.disk_mib <= 4096, "disk_mib: 16-4096"),
            (not 0 <= self.disk_fill_mib <= self.disk_mib, "disk_fill_mib: 0 to disk_mib"),
            (not 4 <= self.disk_write_kib <= 1024, "disk_write_kib: 4-1024"),
        ]
        bad = [text for failed, text in problems if failed]
        if bad:
            raise LabError(f"bad guest spec {self.name!r}: {'; '.join(bad)}")

    @property
    def cmdline(self) -> str:
        """The load knobs read by the initramfs /init, after options that shorten a TCG boot a little."""
        disk = self.disk_write_kib if self.disk != "none" else 0
        knobs = f"cpu={self.cpu_burn} cpu_pct={self.cpu_pct} dirty={self.dirty_mib} disk={disk}"
        return f"console=ttyS0 quiet panic=-1 mitigations=off nokaslr no_timer_check {knobs}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GuestSpec:
        return cls(**data)


def guest_uuid(lab: str, guest: str) -> str:
    """Stable per lab and guest name, so a re-run of `lab up` recognises its guests."""
    return str(uuid.uuid5(_UUID_NAMESPACE, f"{lab}/{guest}"))


@dataclass(frozen=True)
class DiskSource:
    """Where a guest's disk lives: a qcow2 file as its host sees it, or an NBD export (raw over the wire)."""

    path: str | None = None
    nbd_address: str = ""
    nbd_port: int = 0
    nbd_export: str = ""

    def xml(self) -> str:
        if self.path is not None:
            driver, source = "qcow2", f"<source file='{escape(self.path)}'/>"
            kind = "file"
        else:
            driver, kind = "raw", "network"
            source = (
                f"<source protocol='nbd' name='{escape(self.nbd_export)}'>"
                f"<host name='{escape(self.nbd_address)}' port='{self.nbd_port}'/></source>"
            )
        return (
            f"<disk type='{kind}' device='disk'>\n      <driver name='qemu' type='{driver}'/>\n"
            f"      {source}\n      <target dev='vda' bus='virtio'/>\n    </disk>"
        )


def domain_xml(
    spec: GuestSpec, lab: str, kernel: Path, initrd: Path, console: Path, disk: DiskSource | None = None
) -> str:
    """The persistent domain definition of a guest."""
    if spec.kind == "tcg":
        domain_type = "qemu"
        os_xml = (
            f"<kernel>{escape(str(kernel))}</kernel>\n    <initrd>{escape(str(initrd))}</initrd>\n"
            f"    <cmdline>{escape(spec.cmdline)}</cmdline>"
        )
        cpu_xml = "<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>"
    else:
        domain_type = "kvm"
        os_xml = "<boot dev='hd'/>"
        cpu_xml = "<!-- QEMU's default CPU model -->"
    return f"""<domain type='{domain_type}'>
  <name>{escape(spec.name)}</name>
  <uuid>{guest_uuid(lab, spec.name)}</uuid>
  <description>virt-rebalance lab {escape(lab)}</description>
  <memory unit='MiB'>{spec.memory_mib}</memory>
  <currentMemory unit='MiB'>{spec.memory_mib}</currentMemory>
  <vcpu>{spec.vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    {os_xml}
  </os>
  {cpu_xml}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    {disk.xml() if disk else ""}
    <serial type='file'>
      <source path='{escape(str(console / (spec.name + ".log")))}' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='virtio'/>
  </devices>
</domain>
"""


def default_guests(
    count: int, hosts: list[str], kvm_hosts: list[str], skewed: bool, disks: str = "none"
) -> list[GuestSpec]:
    """The guests `lab up --guests N` starts: mixed sizes (128-512 MiB, 1-2 vCPUs), idle.

    disks: "none", "shared" or "local" for every guest, or "mixed" (odd guests local, even ones shared).

    Spread round robin over the hosts; with skewed, two thirds of them (and two CPU burners at 30%) sit
    on the first host, so a rebalance has real work to do. All are tcg guests so that any host can run them.
    """
    sizes = [(128, 1), (256, 1), (192, 2), (384, 1), (128, 2), (512, 1)]
    del kvm_hosts  # every default guest is tcg
    specs = []
    on_first = -(-2 * count // 3) if skewed and len(hosts) > 1 else 0
    others = hosts[1:] if on_first else hosts
    for i in range(count):
        memory, vcpus = sizes[i % len(sizes)]
        host = hosts[0] if i < on_first else others[(i - on_first) % len(others)]
        burn = 1 if skewed and i < min(2, on_first) else 0
        disk = disk_kind(disks, i)
        specs.append(
            GuestSpec(
                f"g{i + 1}", memory, vcpus, cpu_burn=burn, cpu_pct=30 if burn else 100, host=host, disk=disk
            )
        )
    return specs


def disk_kind(disks: str, index: int) -> DiskKind:
    """The disk of the guest at index (from 0) for `lab up --disks`: mixed alternates local and shared."""
    if disks == "mixed":
        return "local" if index % 2 == 0 else "shared"
    for kind in DISK_KINDS:
        if kind == disks:
            return kind
    raise LabError(f"bad disks {disks!r}", "use none, shared, local or mixed")
