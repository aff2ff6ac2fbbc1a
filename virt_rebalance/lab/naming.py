"""Names and addresses derived from a lab's name, so that labs with different names never collide.

Network namespace names may be long, but Linux interface names are at most 15 characters, so bridges and
veths use a short hash of the lab name. Each lab gets its own /24 in 10.128.0.0/10, also from the hash.
The bridge has no address in the root namespace, so two labs' subnets could even overlap safely; distinct
subnets just keep addresses unambiguous in logs.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from virt_rebalance.lab.errors import LabError
from virt_rebalance.lab.host import LabHost

LAB_ROOT = Path("/var/lib/virt-rebalance-lab")
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
FIRST_HOST_OCTET = 11  # h1 gets .11, h2 .12, ...
MAX_HOSTS = 64


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise LabError(f"bad lab name {name!r}", "use 1-32 characters: lower-case letters, digits and '-'")
    return name


@dataclass(frozen=True)
class LabNames:
    """Every system-wide name a lab uses. Pure: no I/O."""

    lab: str
    root: Path = LAB_ROOT

    def __post_init__(self) -> None:
        check_name(self.lab)

    @property
    def tag(self) -> str:
        """Six hex digits from the lab name, for interface names."""
        return hashlib.sha256(self.lab.encode()).hexdigest()[:6]

    @property
    def dir(self) -> Path:
        return self.root / self.lab

    @property
    def bridge(self) -> str:
        return f"vrl{self.tag}br"

    @property
    def subnet_prefix(self) -> str:
        """The first three octets of the lab's /24, e.g. '10.163.7'."""
        h = int(self.tag, 16)
        return f"10.{128 + (h >> 8) % 64}.{h % 256}"

    @property
    def subnet(self) -> str:
        return f"{self.subnet_prefix}.0/24"

    def host_name(self, index: int) -> str:
        """Hosts are h1, h2, ... (index from 1)."""
        return f"h{index}"

    def new_host(self, index: int, kvm: bool) -> LabHost:
        """A host's names and addresses, with a fresh host_uuid (libvirt refuses to migrate between hosts
        that share one)."""
        name = self.host_name(index)
        return LabHost(
            name=name,
            uri=self.uri(name),
            migration_uri=self.migration_uri(name),
            address=self.address(name),
            dir=self.host_dir(name),
            netns=self.netns(name),
            kvm=kvm,
            host_uuid=str(uuid.uuid4()),
            hostname=self.hostname(name),
        )

    def host_index(self, host: str) -> int:
        if not re.fullmatch(r"h[1-9][0-9]*", host) or int(host[1:]) > MAX_HOSTS:
            raise LabError(f"no host {host!r} in lab {self.lab}")
        return int(host[1:])

    def netns(self, host: str) -> str:
        return f"vrl-{self.lab}-{host}"

    @property
    def netns_prefix(self) -> str:
        return f"vrl-{self.lab}-h"

    def veth(self, host: str) -> str:
        """The root-namespace end of the host's veth pair (the other end is eth0 in its namespace)."""
        return f"vrl{self.tag}v{self.host_index(host)}"

    @property
    def storage_netns(self) -> str:
        """The namespace of the lab's NBD server (shared disks), on the bridge like a host."""
        return f"vrl-{self.lab}-nbd"

    @property
    def storage_veth(self) -> str:
        return f"vrl{self.tag}vs"

    @property
    def storage_address(self) -> str:
        return f"{self.subnet_prefix}.2"

    @property
    def shared_dir(self) -> Path:
        """The shared disks' images, served by the NBD server."""
        return self.dir / "shared"

    def address(self, host: str) -> str:
        return f"{self.subnet_prefix}.{FIRST_HOST_OCTET - 1 + self.host_index(host)}"

    def hostname(self, host: str) -> str:
        """The UTS hostname of a host's libvirtd."""
        return f"{self.lab}-{host}"

    def host_dir(self, host: str) -> Path:
        return self.dir / host

    def socket(self, host: str) -> Path:
        return self.host_dir(host) / "run" / "libvirt-sock"

    def uri(self, host: str) -> str:
        return f"qemu+unix:///system?socket={self.socket(host)}"

    def migration_uri(self, host: str) -> str:
        return f"tcp://{self.address(host)}"

    @property
    def state_file(self) -> Path:
        return self.dir / "lab.json"

    @property
    def config_path(self) -> Path:
        return self.dir / "cluster.toml"

    @property
    def console_dir(self) -> Path:
        """Guest serial consoles live here, outside every host's private mounts, so a migrated guest's
        console file stays the same path; it also puts the lab's directory on each qemu command line."""
        return self.dir / "console"

    @property
    def lock_file(self) -> Path:
        return self.root / f".{self.lab}.lock"
