"""A host's libvirtd.conf, qemu.conf and the script that starts it in its namespaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from virt_rebalance.lab.host import LabHost, libvirtd_conf, qemu_conf, start_script


def host(kvm: bool = True) -> LabHost:
    return LabHost(
        name="h2", uri="qemu+unix:///system?socket=/l/h2/run/libvirt-sock", migration_uri="tcp://10.1.2.12",
        address="10.1.2.12", dir=Path("/l/h2"), netns="vrl-l-h2", kvm=kvm, host_uuid="u-2", hostname="l-h2",
    )  # fmt: skip


def test_libvirtd_conf_has_a_distinct_host_uuid_and_no_auth() -> None:
    text = libvirtd_conf("1234", Path("/l/h2/libvirtd.log"))
    for line in ('host_uuid = "1234"', 'auth_unix_rw = "none"', 'auth_unix_ro = "none"'):
        assert line in text.splitlines()
    assert "/l/h2/libvirtd.log" in text


@pytest.mark.parametrize(
    "line",
    [
        'user = "root"',
        'group = "root"',
        'security_driver = "none"',
        'stdio_handler = "file"',
        "cgroup_controllers = [ ]",
        "namespaces = [ ]",
        'migration_address = "10.1.2.12"',
    ],
)
def test_qemu_conf(line: str) -> None:
    assert line in qemu_conf("10.1.2.12").splitlines()


@pytest.mark.parametrize(
    "target", ["/run/libvirt", "/var/lib/libvirt", "/etc/libvirt", "/var/cache/libvirt", "/var/log/libvirt"]
)
def test_start_script_mounts_private_libvirt_dirs(target: str) -> None:
    assert any(
        line.startswith("mount --bind /l/h2/") and line.endswith(target)
        for line in start_script(host()).splitlines()
    )


def test_start_script_execs_libvirtd_with_its_config_and_hostname() -> None:
    lines = start_script(host()).splitlines()
    assert "hostname l-h2" in lines
    assert lines[-1] == "exec libvirtd --config /l/h2/etc/libvirtd.conf --pid-file /l/h2/libvirtd.pid"


@pytest.mark.parametrize(("kvm", "hidden"), [(True, False), (False, True)], ids=["kvm", "no-kvm"])
def test_kvm_is_hidden_read_only_only_on_hosts_without_it(kvm: bool, hidden: bool) -> None:
    script = start_script(host(kvm))
    assert ("mount --bind /l/h2/nokvm /dev/kvm" in script) is hidden
    assert ("remount,bind,ro /dev/kvm" in script) is hidden
