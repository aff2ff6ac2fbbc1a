"""Signatures, the compatibility relation (hosts x distinct signatures calls) and the baseline."""

from __future__ import annotations

import pytest

from collectors.compatibility import Reachable, baseline, decide, signature_of
from collectors.domain_xml import GuestCpu
from collectors.host_reader import HostCpu, parse_capabilities, parse_host_model
from tests.collectors.recorded import DATA, capabilities
from tests.fakes.world import FakeWorld

HASWELL = HostCpu("x86_64", "Intel", "Haswell-v2", ("abm", "vmx"))
ROME = HostCpu("x86_64", "AMD", "EPYC-Rome", ("ibrs", "svm"))


@pytest.mark.parametrize(
    ("cpu", "domain_type", "host", "key"),
    [
        (GuestCpu("custom", "qemu64"), "qemu", HASWELL, "qemu:custom:qemu64"),
        (GuestCpu("custom", "Haswell-noTSX", "Intel"), "kvm", HASWELL, "kvm:custom:Haswell-noTSX+"),
        (GuestCpu("host-model", "EPYC-Rome", "AMD", ("+x2apic",)), "kvm", ROME, "kvm:host-model:EPYC-Rome+"),
        (GuestCpu("host-passthrough"), "kvm", ROME, f"kvm:host-passthrough:EPYC-Rome+{ROME.identity}"),
        (GuestCpu("host-model"), "kvm", HASWELL, f"kvm:host-model:Haswell-v2+{HASWELL.identity}"),
    ],
    ids=["tcg-default", "custom-with-vendor", "host-model-expanded", "passthrough", "host-model-unexpanded"],
)
def test_signature_keys(cpu: GuestCpu, domain_type: str, host: HostCpu, key: str) -> None:
    case = signature_of(cpu, domain_type, host)
    assert case.signature.key.startswith(key)
    assert (case.compare_xml is None) is (not cpu.comparable)


def test_same_definition_same_key_different_features_different_key() -> None:
    a = signature_of(GuestCpu("custom", "Broadwell", None, ("+aes",)), "kvm", HASWELL).signature.key
    b = signature_of(GuestCpu("custom", "Broadwell", None, ("+aes",)), "kvm", ROME).signature.key
    c = signature_of(GuestCpu("custom", "Broadwell", None, ("-aes",)), "kvm", HASWELL).signature.key
    assert a == b != c


@pytest.fixture
def fleet() -> tuple[FakeWorld, list[Reachable]]:
    """Four hosts of real CPU generations: what each can run follows its recorded model and features."""
    world = FakeWorld()
    specs = {
        "haswell": ("cpu-haswell-xeon-e5-2650-v3.xml", ("qemu64", "Haswell-noTSX")),
        "cascadelake": (
            "cpu-cascadelake-xeon-platinum-8268.xml",
            ("qemu64", "Haswell-noTSX", "Skylake-Server"),
        ),
        "naples": ("cpu-epyc-naples-7601.xml", ("qemu64",)),
        "rome": ("cpu-epyc-rome-7502.xml", ("qemu64", "EPYC-v1")),
    }
    reachable = []
    for name, (cpu_file, runs) in specs.items():
        cpu, types = parse_capabilities(capabilities(cpu_file))
        host = world.add_host(
            name, cpu_model=cpu.model, cpu_vendor=cpu.vendor, cpu_features=cpu.features, runs_models=runs
        )
        reachable.append(Reachable(name, world.open(host.uri), cpu, types))
    return world, reachable


def test_relation_from_compare_and_identical_cpus(fleet: tuple[FakeWorld, list[Reachable]]) -> None:
    world, hosts = fleet
    rome_cpu = hosts[3].cpu
    cases = [
        signature_of(GuestCpu("custom", "qemu64"), "kvm", rome_cpu),
        signature_of(GuestCpu("custom", "Haswell-noTSX"), "kvm", rome_cpu),
        signature_of(GuestCpu("custom", "EPYC-v1", None, ("+clzero",)), "kvm", rome_cpu),
        signature_of(GuestCpu("host-passthrough"), "kvm", rome_cpu),
    ]
    world.calls.clear()
    relation = decide(hosts, cases, {cases[3].signature.key: {"rome"}}, timeout_s=5)
    assert [relation[c.signature.key] for c in cases] == [
        ("cascadelake", "haswell", "naples", "rome"),
        ("cascadelake", "haswell"),
        ("naples",),  # Rome's recorded CPU lacks clzero
        ("rome",),
    ]
    assert world.calls["Connection.compareHypervisorCPU"] == len(hosts) * 3  # passthrough needs no call


def test_a_signature_runs_where_it_runs_now(fleet: tuple[FakeWorld, list[Reachable]]) -> None:
    _, hosts = fleet
    case = signature_of(GuestCpu("custom", "Icelake-Server"), "kvm", hosts[0].cpu)
    assert decide(hosts, [case], {case.signature.key: {"haswell"}}, timeout_s=5)[case.signature.key] == (
        "haswell",
    )


def test_a_failing_compare_means_incompatible(fleet: tuple[FakeWorld, list[Reachable]]) -> None:
    world, hosts = fleet
    world.hosts["naples"].alive = False
    case = signature_of(GuestCpu("custom", "qemu64"), "kvm", hosts[0].cpu)
    assert decide(hosts, [case], {}, timeout_s=5)[case.signature.key] == ("cascadelake", "haswell", "rome")


def test_baseline_over_host_models(fleet: tuple[FakeWorld, list[Reachable]]) -> None:
    world, hosts = fleet
    rome_model = parse_host_model((DATA / "domcaps-qemu-7.2-epyc-rome.xml").read_text())
    with_models = [
        Reachable(
            h.name,
            h.conn,
            HostCpu(h.cpu.arch, h.cpu.vendor, h.cpu.model, h.cpu.features, rome_model),
            h.domain_types,
        )
        for h in hosts
    ]
    world.calls.clear()
    xml = baseline(with_models)
    assert xml is not None and "<model fallback='forbid'>EPYC-Rome</model>" in xml
    assert world.calls["Connection.baselineHypervisorCPU"] == 1
    assert baseline(hosts) is None  # no host-model CPUs known: nothing to ask


def test_decide_with_no_cases() -> None:
    assert decide([], [], {}, timeout_s=1) == {}
