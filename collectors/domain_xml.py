"""A guest's domain XML -> its size, its CPU definition and what in it prevents live migration.

Pure parsing: no libvirt calls. Reasons are sentences a person can act on ("PCI device 0000:3b:00.0 is
passed through"). State-based reasons (not running, transient, a job in progress) are added by
`collectors.guests`, which knows the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

from collectors.disks import parse_disks
from collectors.guest_metadata import parse_rules
from planner.model import Disk, GuestRules

_MIB_PER_UNIT = {
    "b": 1 / 2**20,
    "bytes": 1 / 2**20,
    "kb": 1000 / 2**20,
    "k": 1 / 1024,
    "kib": 1 / 1024,
    "mb": 10**6 / 2**20,
    "m": 1,
    "mib": 1,
    "gb": 10**9 / 2**20,
    "g": 1024,
    "gib": 1024,
    "tb": 10**12 / 2**20,
    "t": 2**20,
    "tib": 2**20,
}

#: QEMU's CPU for x86 guests that define none (pc and q35 machines).
DEFAULT_MODEL = "qemu64"
_ENABLED = ("require", "force", "optional")


@dataclass(frozen=True, slots=True)
class GuestCpu:
    """The guest CPU definition. `features` are '+name' (required) or '-name' (disabled), sorted."""

    mode: str
    model: str | None = None
    vendor: str | None = None
    features: tuple[str, ...] = ()

    @property
    def comparable(self) -> bool:
        """Whether compareHypervisorCPU can judge it: a named model (custom, or host-model as expanded)."""
        return self.mode in ("custom", "host-model") and self.model is not None

    def compare_xml(self) -> str:
        """The definition as a custom CPU, the form compareHypervisorCPU takes."""
        cpu = ET.Element("cpu", mode="custom", match="exact")
        ET.SubElement(cpu, "model", fallback="forbid").text = self.model
        if self.vendor:
            ET.SubElement(cpu, "vendor").text = self.vendor
        for f in self.features:
            policy = "require" if f[0] == "+" else "disable"
            ET.SubElement(cpu, "feature", policy=policy, name=f[1:])
        return ET.tostring(cpu, encoding="unicode")


@dataclass(frozen=True, slots=True)
class DomainDef:
    name: str
    uuid: str
    domain_type: str
    vcpus: int
    memory_mib: int
    cpu: GuestCpu
    blockers: tuple[str, ...] = ()  # reasons found in the XML that forbid a live migration
    disks: tuple[Disk, ...] = ()
    rules: GuestRules | None = None  # the operator's rules in its <metadata> (collectors.guest_metadata)


def parse_domain(xml: str, storage_migration: bool = False, shared_paths: tuple[str, ...] = ()) -> DomainDef:
    """Parse live domain XML. Local disks block migration unless storage is migrated too."""
    root = ET.fromstring(xml)
    vcpu = root.find("vcpu")
    vcpus = int(vcpu.get("current") or vcpu.text or 1) if vcpu is not None else 1
    mem = root.find("memory")  # the most it can use (a balloon can give back what it holds any time)
    if mem is None:
        mem = root.find("currentMemory")
    blockers = list(_passthrough(root))
    disks = parse_disks(root, shared_paths)
    if not storage_migration:
        blockers += _local_disks(disks)
    return DomainDef(
        name=root.findtext("name", ""),
        uuid=root.findtext("uuid", ""),
        domain_type=root.get("type", "kvm"),
        vcpus=vcpus,
        memory_mib=_mib(mem) if mem is not None else 0,
        cpu=parse_cpu(root.find("cpu")),
        blockers=tuple(blockers),
        disks=disks,
        rules=parse_rules(root),
    )


def parse_cpu(cpu: ET.Element | None) -> GuestCpu:
    if cpu is None:
        return GuestCpu("custom", DEFAULT_MODEL)
    mode = cpu.get("mode", "custom")
    model = (cpu.findtext("model") or "").strip() or None
    if mode == "custom" and model is None:
        model = DEFAULT_MODEL
    features = sorted(
        ("+" if f.get("policy", "require") in _ENABLED else "-") + f.get("name", "")
        for f in cpu.findall("feature")
    )
    return GuestCpu(mode, model, (cpu.findtext("vendor") or "").strip() or None, tuple(features))


def _mib(elem: ET.Element) -> int:
    unit = elem.get("unit", "KiB").lower()
    return int(int(elem.text or 0) * _MIB_PER_UNIT.get(unit, 1 / 1024))


def _pci(addr: ET.Element | None) -> str:
    if addr is None:
        return "?"
    parts = [int(addr.get(k, "0"), 0) for k in ("domain", "bus", "slot", "function")]
    return "{:04x}:{:02x}:{:02x}.{:x}".format(*parts)


def _passthrough(root: ET.Element) -> list[str]:
    out = []
    for dev in root.findall("devices/hostdev"):
        kind = dev.get("type", "")
        if kind == "pci":
            out.append(f"PCI device {_pci(dev.find('source/address'))} is passed through")
        elif kind == "usb":
            vendor, product = dev.find("source/vendor"), dev.find("source/product")
            ident = f"{_hex(vendor)}:{_hex(product)}" if vendor is not None else _usb_address(dev)
            out.append(f"USB device {ident} is passed through")
        elif kind == "mdev":
            addr = dev.find("source/address")
            ident = addr.get("uuid", "?") if addr is not None else "?"
            out.append(f"mediated device {ident} ({dev.get('model', 'mdev')}) is passed through")
        else:
            out.append(f"host device of type {kind or dev.get('mode', '?')} is passed through")
    for nic in root.findall("devices/interface[@type='hostdev']"):
        out.append(f"SR-IOV network function {_pci(nic.find('source/address'))} is passed through")
    for fs in root.findall("devices/filesystem"):
        target = fs.find("target")
        where = target.get("dir", "?") if target is not None else "?"
        out.append(f"host directory is shared into the guest as {where} (filesystem passthrough)")
    return out


def _hex(elem: ET.Element | None) -> str:
    return (elem.get("id", "?") if elem is not None else "?").removeprefix("0x")


def _usb_address(dev: ET.Element) -> str:
    addr = dev.find("source/address")
    return f"bus {addr.get('bus')} device {addr.get('device')}" if addr is not None else "?"


def _local_disks(disks: tuple[Disk, ...]) -> list[str]:
    return [
        f"disk {d.target} ({d.source}) is on local storage; list its path under collect.shared_paths "
        "if every host mounts it, or enable collect.storage_migration"
        for d in disks
        if not d.shared
    ]
