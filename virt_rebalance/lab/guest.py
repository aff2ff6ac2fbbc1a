"""A lab guest: its spec and its libvirt domain XML.

Two kinds. "tcg" guests (domain type 'qemu', custom qemu64 CPU) boot the Debian cloud kernel with the
busybox initramfs and run the load their knobs ask for; they run on every lab host. "kvm" guests are
diskless domains of type 'kvm' (SeaBIOS, nothing to boot) with no <cpu> element, i.e. QEMU's default
model: they need /dev/kvm, so they only run on KVM hosts, which is what placement tests need. Under the
nested KVM of this machine a Linux kernel hangs early (hence no kernel), and host-model or host-passthrough
CPUs crash QEMU 7.2 at start (kvm_buf_set_msrs assertion), hence no <cpu>.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

from planner.errors import LabError

GuestKind = Literal["tcg", "kvm"]
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
        ]
        bad = [text for failed, text in problems if failed]
        if bad:
            raise LabError(f"bad guest spec {self.name!r}: {'; '.join(bad)}")

    @property
    def cmdline(self) -> str:
        """The load knobs read by the initramfs /init, after options that shorten a TCG boot a little."""
        knobs = f"cpu={self.cpu_burn} cpu_pct={self.cpu_pct} dirty={self.dirty_mib}"
        return f"console=ttyS0 quiet panic=-1 mitigations=off nokaslr no_timer_check {knobs}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GuestSpec:
        return cls(**data)


def guest_uuid(lab: str, guest: str) -> str:
    """Stable per lab and guest name, so a re-run of `lab up` recognises its guests."""
    return str(uuid.uuid5(_UUID_NAMESPACE, f"{lab}/{guest}"))


def domain_xml(spec: GuestSpec, lab: str, kernel: Path, initrd: Path, console: Path) -> str:
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
    <serial type='file'>
      <source path='{escape(str(console / (spec.name + ".log")))}' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='virtio'/>
  </devices>
</domain>
"""


def default_guests(count: int, hosts: list[str], kvm_hosts: list[str], skewed: bool) -> list[GuestSpec]:
    """The guests `lab up --guests N` starts: mixed sizes (128-512 MiB, 1-2 vCPUs), idle.

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
        specs.append(
            GuestSpec(f"g{i + 1}", memory, vcpus, cpu_burn=burn, cpu_pct=30 if burn else 100, host=host)
        )
    return specs
