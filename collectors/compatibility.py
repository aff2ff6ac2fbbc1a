"""Which hosts can run which guest CPU, as libvirt decides it, and the cluster's baseline CPU.

Each distinct guest CPU definition under a domain type is one signature. For every signature with a named
model, every host is asked once with compareHypervisorCPU (identical or superset = can run it), so the
calls grow with hosts x distinct signatures, never with guests. A host-passthrough guest (or a host-model
one libvirt has not expanded) can only go to hosts whose CPU is identical to its own host's, offering the
same domain type: no call needed. A signature always runs where a guest with it runs now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from collectors import constants as c
from collectors.domain_xml import GuestCpu
from collectors.host_reader import HostCpu
from collectors.parallel import run_each
from collectors.seam import Connection, VirtError
from planner.model import CpuSignature


@dataclass(frozen=True, slots=True)
class SignatureCase:
    """A signature with what deciding it needs: the XML to compare, or the host CPU it must equal."""

    signature: CpuSignature
    compare_xml: str | None
    host_identity: str | None = None


def signature_of(cpu: GuestCpu, domain_type: str, host: HostCpu) -> SignatureCase:
    if cpu.comparable:
        key = f"{domain_type}:{cpu.mode}:{cpu.model}"
        if cpu.vendor or cpu.features:
            key += "+" + _digest(f"{cpu.vendor}/{','.join(cpu.features)}")
        sig = CpuSignature(key, domain_type, cpu.mode, cpu.model, cpu.vendor, cpu.features)
        return SignatureCase(sig, cpu.compare_xml())
    key = f"{domain_type}:{cpu.mode}:{host.model}+{host.identity}"
    sig = CpuSignature(key, domain_type, cpu.mode, host.model, host.vendor)
    return SignatureCase(sig, None, host.identity)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class Reachable:
    """A host that answered: its connection, CPU and domain types."""

    name: str
    conn: Connection
    cpu: HostCpu
    domain_types: tuple[str, ...]


def decide(
    hosts: Sequence[Reachable],
    cases: Sequence[SignatureCase],
    running_on: Mapping[str, set[str]],
    timeout_s: float,
) -> dict[str, tuple[str, ...]]:
    """signature key -> names of the hosts that can run it (sorted)."""
    comparable = [case for case in cases if case.compare_xml is not None]

    def ask(host: Reachable) -> set[str]:
        return {case.signature.key for case in comparable if _runs(host, case)}

    answers = run_each(hosts, ask, timeout_s)
    out: dict[str, set[str]] = {case.signature.key: set() for case in cases}
    for host, outcome in zip(hosts, answers, strict=True):
        for key in outcome.value or ():
            out[key].add(host.name)
        for case in cases:
            if case.host_identity is not None and _same_cpu(host, case):
                out[case.signature.key].add(host.name)
    for key, names in running_on.items():
        out.setdefault(key, set()).update(names)
    return {key: tuple(sorted(names)) for key, names in sorted(out.items())}


def _runs(host: Reachable, case: SignatureCase) -> bool:
    sig = case.signature
    try:
        verdict = host.conn.compareHypervisorCPU(
            None, host.cpu.arch, None, sig.domain_type, case.compare_xml or "", 0
        )
    except VirtError:  # e.g. "the accel 'kvm' is not supported": this host cannot run it
        return False
    return verdict in (c.VIR_CPU_COMPARE_IDENTICAL, c.VIR_CPU_COMPARE_SUPERSET)


def _same_cpu(host: Reachable, case: SignatureCase) -> bool:
    return host.cpu.identity == case.host_identity and case.signature.domain_type in host.domain_types


def baseline(hosts: Sequence[Reachable]) -> str | None:
    """The most capable CPU every reachable host can give guests (baselineHypervisorCPU over their
    host-model CPUs), as libvirt's XML; None when libvirt cannot compute one."""
    xmls = sorted({h.cpu.host_model_xml for h in hosts if h.cpu.host_model_xml})
    if not hosts or not xmls:
        return None
    virttype = "kvm" if all("kvm" in h.domain_types for h in hosts) else "qemu"
    try:
        return hosts[0].conn.baselineHypervisorCPU(None, hosts[0].cpu.arch, None, virttype, xmls, 0).strip()
    except VirtError:  # an old libvirt or mixed architectures: no baseline to report
        return None
