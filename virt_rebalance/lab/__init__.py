"""The lab: real libvirt hosts on this machine, for tests, demos and trying the tool out.

Each host is its own libvirtd in its own network, mount and UTS namespaces (see host.py), joined to the
others by a bridge (network.py); guests are small real QEMU guests (guest.py, images.py). A lab has a name;
labs with different names run side by side (naming.py derives every system-wide name from it). Its state
lives under /var/lib/virt-rebalance-lab/NAME/: one directory per host, lab.json (state.py) and
cluster.toml, a config in the user format that every command accepts with --config.

The API tests use (all of it needs root; problems raise virt_rebalance.lab.errors.LabError)::

    from virt_rebalance.lab import Lab, GuestSpec

    lab = Lab("mytest").up(hosts=3, guests=0, no_kvm_hosts=1)   # h1, h2 with KVM; h3 without
    # up(guests=N, skewed=True) also starts g1..gN (128-512 MiB, 1-2 vCPUs) and waits until they booted
    lab.add_guest(GuestSpec("web", memory_mib=256, vcpus=1, cpu_burn=1, cpu_pct=50, dirty_mib=16,
                            kind="tcg", host="h1"))             # -> "h1"
    lab.wait_booted(["web"])                                   # its load runs once it has booted
    lab.hosts            # [LabHost(name, uri, migration_uri, address, dir, netns, kvm, ...)]
    lab.uri("h2")        # qemu+unix:///system?socket=/var/lib/virt-rebalance-lab/mytest/h2/run/libvirt-sock
    conn = lab.connect("h1")                                   # a libvirt.virConnect
    lab.where("web")     # ["h1"]: the hosts on which it is running
    lab.stop_libvirtd("h2"); lab.start_libvirtd("h2")          # its guests keep running meanwhile
    lab.config_path      # .../mytest/cluster.toml
    lab.status()         # LabStatus(hosts, domains)
    lab.down()           # kills what it started, removes namespaces, bridge, veths and files

Migrate between hosts with PEER2PEER to `lab.uri(dest)` and VIR_MIGRATE_PARAM_URI = the destination's
`migration_uri` (tcp://ADDRESS); without it the source cannot resolve the destination's hostname.
Guest kinds: "tcg" (default; runs on every host, real load from its knobs) and "kvm" (diskless, KVM hosts
only). tests/lab_fixture.py wraps all this in a pytest fixture that always tears the lab down.
"""

from virt_rebalance.lab.guest import GuestSpec
from virt_rebalance.lab.host import LabHost
from virt_rebalance.lab.lab import Lab
from virt_rebalance.lab.status import DomainState, HostStatus, LabStatus

__all__ = ["DomainState", "GuestSpec", "HostStatus", "Lab", "LabHost", "LabStatus"]
