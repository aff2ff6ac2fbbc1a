"""What `lab status` reports: the hosts (is their libvirtd up?) and the domains each one holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virt_rebalance.lab.host import LabHost


@dataclass(frozen=True)
class DomainState:
    name: str
    host: str
    state: str  # virsh's words: running, paused, shut off, ...


@dataclass(frozen=True)
class HostStatus:
    host: LabHost
    libvirtd_pid: int | None
    up: bool


@dataclass(frozen=True)
class LabStatus:
    name: str
    config_path: Path
    hosts: tuple[HostStatus, ...]
    domains: tuple[DomainState, ...]
