"""lab.json: what a lab started (hosts with their namespaces, addresses and libvirtd pids; guests), so
that `lab status` and `lab down` act on exactly that and nothing else."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from files.safe_write import write_atomically
from virt_rebalance.lab.errors import LabError
from virt_rebalance.lab.guest import GuestSpec
from virt_rebalance.lab.host import LabHost

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class HostRecord:
    host: LabHost
    libvirtd_pid: int | None = None


@dataclass(frozen=True)
class LabState:
    name: str
    bridge: str
    subnet: str
    nic_mibps: int
    hosts: tuple[HostRecord, ...] = ()
    guests: tuple[GuestSpec, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self, host: str) -> HostRecord:
        for r in self.hosts:
            if r.host.name == host:
                return r
        raise LabError(f"no host {host!r} in lab {self.name}", f"hosts: {', '.join(self.host_names)}")

    @property
    def host_names(self) -> list[str]:
        return [r.host.name for r in self.hosts]

    def pick_host(self, spec: GuestSpec) -> str:
        """spec.host, or else the host with the fewest guests that can run the guest's kind."""
        if spec.host:
            return self.record(spec.host).host.name
        fitting = [r.host.name for r in self.hosts if r.host.kvm or spec.kind == "tcg"]
        if not fitting:
            raise LabError(f"no host of lab {self.name} can run kvm guest {spec.name}")
        load = {h: sum(1 for g in self.guests if g.host == h) for h in fitting}
        return min(fitting, key=lambda h: (load[h], fitting.index(h)))

    def with_pid(self, host: str, pid: int | None) -> LabState:
        hosts = tuple(replace(r, libvirtd_pid=pid) if r.host.name == host else r for r in self.hosts)
        return replace(self, hosts=hosts)

    def with_extra(self, key: str, value: Any) -> LabState:
        return replace(self, extra={**self.extra, key: value})

    def with_guest(self, spec: GuestSpec) -> LabState:
        others = tuple(g for g in self.guests if g.name != spec.name)
        return replace(self, guests=(*others, spec))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for record in data["hosts"]:
            record["host"]["dir"] = str(record["host"]["dir"])
        return {"schema_version": SCHEMA_VERSION, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabState:
        hosts = tuple(
            HostRecord(LabHost(**{**r["host"], "dir": Path(r["host"]["dir"])}), r["libvirtd_pid"])
            for r in data["hosts"]
        )
        guests = tuple(GuestSpec.from_json(g) for g in data["guests"])
        return cls(
            data["name"], data["bridge"], data["subnet"], data["nic_mibps"], hosts, guests, data["extra"]
        )


def load(path: Path) -> LabState | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        if data.get("schema_version") != SCHEMA_VERSION:
            raise LabError(f"{path}: schema_version {data.get('schema_version')} is not {SCHEMA_VERSION}")
        return LabState.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise LabError(f"{path} is damaged: {exc}", "remove the lab with `virt-rebalance lab down`") from None


def save(path: Path, state: LabState) -> None:
    """Atomic: a reader never sees half a file."""
    write_atomically(path, json.dumps(state.to_json(), indent=2) + "\n")
