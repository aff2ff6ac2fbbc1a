"""Names and addresses derived from a lab's name: valid, short enough for Linux, distinct between labs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import lab_fixture
from tests.lab_fixture import lab_name
from virt_rebalance.lab import network
from virt_rebalance.lab.errors import LabError
from virt_rebalance.lab.naming import LabNames, check_name

NAMES = ["default", "demo", "exec", "collect", "a", "x" * 32, "apply-lab-123456-0"]


@pytest.mark.parametrize(
    "name",
    ["", "Demo", "with space", "-lead", "a" * 33, "dot.name", "slash/name", "under_score"],
    ids=["empty", "upper", "space", "leading-dash", "too-long", "dot", "slash", "underscore"],
)
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(LabError, match="bad lab name"):
        check_name(name)


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_interface_names_fit_linux_limit(name: str) -> None:
    names = LabNames(name)
    for ifname in (names.bridge, names.veth("h1"), names.veth("h64")):
        assert len(ifname) <= 15, ifname


def test_labs_get_distinct_names_and_subnets() -> None:
    all_names = [LabNames(n) for n in NAMES]
    for attr in ("bridge", "subnet", "dir", "netns_prefix"):
        values = [str(getattr(n, attr)) for n in all_names]
        assert len(set(values)) == len(values), attr


@pytest.mark.parametrize(
    ("host", "address", "veth_suffix"),
    [("h1", ".11", "v1"), ("h2", ".12", "v2"), ("h10", ".20", "v10")],
    ids=["h1", "h2", "h10"],
)
def test_host_names(host: str, address: str, veth_suffix: str) -> None:
    names = LabNames("demo")
    assert names.address(host) == names.subnet_prefix + address
    assert names.migration_uri(host) == f"tcp://{names.subnet_prefix}{address}"
    assert names.veth(host).endswith(veth_suffix)
    assert names.netns(host) == f"vrl-demo-{host}"
    assert names.uri(host) == (
        f"qemu+unix:///system?socket=/var/lib/virt-rebalance-lab/demo/{host}/run/libvirt-sock"
    )


def test_subnet_is_a_private_slash_24() -> None:
    for n in NAMES:
        a, b, c, d = LabNames(n).subnet.removesuffix("/24").split(".")
        assert (a, d) == ("10", "0") and 128 <= int(b) < 192 and 0 <= int(c) < 256


@pytest.mark.parametrize("host", ["h0", "x1", "h65", "1"], ids=["zero", "letter", "too-many", "digit"])
def test_unknown_host_names_are_refused(host: str) -> None:
    with pytest.raises(LabError, match="no host"):
        LabNames("demo").veth(host)


@pytest.mark.parametrize(
    ("module", "index", "expected"),
    [
        ("tests.virt_rebalance.lab.test_lab_lab", 0, "lab-lab-4242-0"),
        ("tests.executor.test_apply_lab", 3, "apply-lab-4242-3"),
        ("tests.x.test_" + "very_long_module_name" * 3, 1, "very-long-module-namevery-4242-1"),
    ],
    ids=["lab", "apply", "long"],
)
def test_fixture_lab_names_are_valid_and_unique_per_module(module: str, index: int, expected: str) -> None:
    name = lab_name(module, index, pid=4242)
    assert name == expected
    check_name(name)


def test_stale_labs_of_dead_test_runs_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    downed = []
    monkeypatch.setattr(lab_fixture.Lab, "down", lambda self: downed.append(self.name))
    module = "tests.x.test_demo_lab"
    dead_pid = 2**22 + 1  # above pid_max: no process has it
    for name in (
        lab_name(module, 0, dead_pid),
        lab_name(module, 1, os.getpid()),
        lab_name("tests.y.test_z", 0, dead_pid),
        "demo",
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "lab.json").write_text("{}")
    assert lab_fixture.remove_stale_labs(module, tmp_path) == [lab_name(module, 0, dead_pid)]
    assert downed == [lab_name(module, 0, dead_pid)]


def test_new_hosts_get_their_names_and_distinct_host_uuids() -> None:
    names = LabNames("demo")
    a, b = names.new_host(1, kvm=True), names.new_host(2, kvm=False)
    assert (a.name, a.address, a.uri, a.kvm) == ("h1", names.address("h1"), names.uri("h1"), True)
    assert (b.name, b.netns, b.hostname, b.kvm) == ("h2", "vrl-demo-h2", "demo-h2", False)
    assert a.host_uuid != b.host_uuid != names.new_host(2, kvm=False).host_uuid


def test_a_lab_finds_only_its_own_namespaces(tmp_path: Path) -> None:
    for ns in ("vrl-demo-h1", "vrl-demo-h12", "vrl-demo-h-h1", "vrl-demo2-h1", "vrl-demo-hx", "other"):
        (tmp_path / ns).touch()
    assert network.list_netns(LabNames("demo").netns_prefix, tmp_path) == ["vrl-demo-h1", "vrl-demo-h12"]
    assert network.list_netns(LabNames("demo-h").netns_prefix, tmp_path) == ["vrl-demo-h-h1"]
