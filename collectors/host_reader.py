"""A host's size and CPU, from nodeGetInfo, memory stats, capabilities and domain capabilities XML.

Four round trips per host. Parsing is separate from reading so recorded XML of real CPU generations can
be tested without a host.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from collectors import constants as c
from collectors.seam import Connection


@dataclass(frozen=True, slots=True)
class HostCpu:
    """The host CPU as libvirt names it (capabilities), and what QEMU's host-model gives guests there."""

    arch: str
    vendor: str | None
    model: str | None
    features: tuple[str, ...]
    host_model_xml: str | None = None  # domain capabilities' host-model, as a custom CPU (for baselines)

    @property
    def identity(self) -> str:
        """Equal for hosts with an identical CPU (the only hosts a host-passthrough guest may move between)."""
        text = f"{self.vendor}/{self.model}/{','.join(sorted(self.features))}"
        return hashlib.sha1(text.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class HostFacts:
    cpus: int
    memory_mib: int
    free_memory_mib: int | None
    domain_types: tuple[str, ...]
    cpu: HostCpu


def read_host(conn: Connection) -> HostFacts:
    info = conn.getInfo()  # [arch, memory MiB, CPUs, MHz, NUMA nodes, sockets, cores, threads]
    caps_cpu, domain_types = parse_capabilities(conn.getCapabilities())
    virttype = "kvm" if "kvm" in domain_types else (domain_types[0] if domain_types else None)
    host_model = None
    if virttype is not None:
        domcaps = conn.getDomainCapabilities(None, caps_cpu.arch, None, virttype, 0)
        host_model = parse_host_model(domcaps)
    mem = conn.getMemoryStats(c.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
    free_kib = sum(mem.get(k, 0) for k in ("free", "buffers", "cached")) if "free" in mem else None
    return HostFacts(
        cpus=int(info[2]),
        memory_mib=int(info[1]),
        free_memory_mib=None if free_kib is None else free_kib // 1024,
        domain_types=domain_types,
        cpu=HostCpu(caps_cpu.arch, caps_cpu.vendor, caps_cpu.model, caps_cpu.features, host_model),
    )


def parse_capabilities(xml: str) -> tuple[HostCpu, tuple[str, ...]]:
    """The host CPU and the domain types (kvm, qemu) offered for hvm guests of the host's architecture."""
    root = ET.fromstring(xml)
    cpu = root.find("host/cpu")
    host_cpu = parse_host_cpu(cpu) if cpu is not None else HostCpu("x86_64", None, None, ())
    types: list[str] = []
    for guest in root.findall("guest"):
        arch = guest.find("arch")
        if guest.findtext("os_type") != "hvm" or arch is None or arch.get("name") != host_cpu.arch:
            continue
        for dom in arch.findall("domain"):
            kind = dom.get("type")
            if kind and kind not in types:
                types.append(kind)
    return host_cpu, tuple(types)


def parse_host_cpu(cpu: ET.Element) -> HostCpu:
    """A <cpu> element as in capabilities' <host> (libvirt's cputestdata *-host.xml have this shape)."""
    return HostCpu(
        arch=(cpu.findtext("arch") or "x86_64").strip(),
        vendor=(cpu.findtext("vendor") or "").strip() or None,
        model=(cpu.findtext("model") or "").strip() or None,
        features=tuple(sorted(f.get("name", "") for f in cpu.findall("feature"))),
    )


def parse_host_model(xml: str) -> str | None:
    """Domain capabilities' host-model CPU as a custom CPU definition, or None when not supported."""
    mode = ET.fromstring(xml).find("cpu/mode[@name='host-model']")
    if mode is None or mode.get("supported") != "yes" or mode.find("model") is None:
        return None
    cpu = ET.Element("cpu", mode="custom", match="exact")
    ET.SubElement(cpu, "model", fallback="forbid").text = (mode.findtext("model") or "").strip()
    if vendor := (mode.findtext("vendor") or "").strip():
        ET.SubElement(cpu, "vendor").text = vendor
    for f in mode.findall("feature"):
        ET.SubElement(cpu, "feature", policy=f.get("policy", "require"), name=f.get("name", ""))
    return ET.tostring(cpu, encoding="unicode")
