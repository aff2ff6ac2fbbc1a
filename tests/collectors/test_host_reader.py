"""Host CPU and domain types from recorded capabilities of real Intel and AMD server CPUs."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from collectors.host_reader import parse_capabilities, parse_host_model, read_host
from tests.collectors.recorded import DATA, capabilities
from tests.fakes.world import FakeWorld


@pytest.mark.parametrize(
    ("cpu_file", "vendor", "model", "n_features", "has"),
    [
        ("cpu-haswell-xeon-e5-2650-v3.xml", "Intel", "Haswell-v2", 28, "invtsc"),
        ("cpu-skylake-xeon-gold-6148.xml", "Intel", "Skylake-Client", 31, "avx512f"),
        ("cpu-cascadelake-xeon-platinum-8268.xml", "Intel", "Cascadelake-Server", 29, "md-clear"),
        ("cpu-icelake-server.xml", "Intel", "Icelake-Server-v1", 40, "sha-ni"),
        ("cpu-epyc-naples-7601.xml", "AMD", "EPYC-v1", 30, "clzero"),
        ("cpu-epyc-rome-7502.xml", "AMD", "EPYC-Rome", 30, "amd-ssbd"),
    ],
    ids=["haswell", "skylake", "cascadelake", "icelake", "epyc-naples", "epyc-rome"],
)
def test_real_cpu_generations(cpu_file: str, vendor: str, model: str, n_features: int, has: str) -> None:
    cpu, types = parse_capabilities(capabilities(cpu_file))
    assert (cpu.arch, cpu.vendor, cpu.model, len(cpu.features)) == ("x86_64", vendor, model, n_features)
    assert has in cpu.features and list(cpu.features) == sorted(cpu.features)
    assert types == ("qemu", "kvm")


def test_generations_have_distinct_identities() -> None:
    files = sorted(p.name for p in DATA.glob("cpu-*.xml"))
    identities = {parse_capabilities(capabilities(f))[0].identity for f in files}
    assert len(identities) == len(files) == 6


def test_same_cpu_same_identity_whatever_the_feature_order() -> None:
    a, _ = parse_capabilities(capabilities("cpu-epyc-rome-7502.xml"))
    shuffled = (DATA / "cpu-epyc-rome-7502.xml").read_text().splitlines()
    shuffled = shuffled[:4] + list(reversed(shuffled[4:-1])) + shuffled[-1:]
    root = ET.fromstring(f"<capabilities><host>{''.join(shuffled)}</host></capabilities>")
    b, _ = parse_capabilities(ET.tostring(root, encoding="unicode"))
    assert a.identity == b.identity


@pytest.mark.parametrize(
    ("types", "expected"),
    [(("qemu", "kvm"), ("qemu", "kvm")), (("qemu",), ("qemu",))],
    ids=["kvm-host", "host-without-kvm"],
)
def test_domain_types_of_the_host_arch(types: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert parse_capabilities(capabilities("cpu-haswell-xeon-e5-2650-v3.xml", types))[1] == expected


def test_host_model_from_recorded_domain_capabilities() -> None:
    xml = parse_host_model((DATA / "domcaps-qemu-7.2-epyc-rome.xml").read_text())
    assert xml is not None
    cpu = ET.fromstring(xml)
    assert (cpu.get("mode"), cpu.findtext("model"), cpu.findtext("vendor")) == ("custom", "EPYC-Rome", "AMD")
    assert len(cpu.findall("feature")) == 24
    assert all(f.get("policy") == "require" for f in cpu.findall("feature"))


def test_host_model_unsupported() -> None:
    xml = "<domainCapabilities><cpu><mode name='host-model' supported='no'/></cpu></domainCapabilities>"
    assert parse_host_model(xml) is None


def test_read_host_uses_four_round_trips() -> None:
    world = FakeWorld()
    world.add_host(
        "rome",
        cpus=128,
        memory_mib=524288,
        free_mib=100000,
        capabilities_xml=capabilities("cpu-epyc-rome-7502.xml"),
        domcaps_xml=(DATA / "domcaps-qemu-7.2-epyc-rome.xml").read_text(),
    )
    facts = read_host(world.open(world.hosts["rome"].uri))
    assert (facts.cpus, facts.memory_mib, facts.free_memory_mib) == (128, 524288, 100000)
    assert facts.cpu.model == "EPYC-Rome" and facts.cpu.host_model_xml is not None
    assert world.round_trips == 1 + 4
