"""A small world for executor tests: fake hosts and guests, the matching config, and hand-built plans."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from executor.apply import apply_plan
from executor.report import ApplyReport, ProgressEvent
from executor.settings import ExecuteSettings
from planner.model import Cluster
from planner.plan import Balance, Migration, Plan
from planner.policy import Budgets
from tests.builders import make_cluster, make_host, make_vm
from tests.fakes.world import FakeDomain, FakeWorld
from virt_rebalance.config import Config, ExecuteConfig, HostConfig

FAST = {"poll_interval_s": 0.01, "stall_timeout_s": 2.0}


@dataclass
class Lab:
    """Fake hosts h1..hN (memory `host_mib`, 16 CPUs) and the guests placed on them."""

    tmp: Path
    hosts: int = 3
    host_mib: int = 4096
    world: FakeWorld = field(default_factory=FakeWorld)
    guests: dict[str, FakeDomain] = field(default_factory=dict)
    events: list[ProgressEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i in range(1, self.hosts + 1):
            self.world.add_host(f"h{i}", cpus=16, memory_mib=self.host_mib)

    def guest(self, name: str, host: str, memory_mib: int = 100, **fields: Any) -> FakeDomain:
        dom = self.world.add_domain(host, name, memory_mib=memory_mib, **fields)
        self.guests[name] = dom
        return dom

    def where(self, name: str) -> list[str]:
        uuid = self.guests[name].vm_uuid
        return [h.name for h in self.world.hosts.values() if uuid in h.domains]

    def snapshot(self) -> Cluster:
        hosts = [make_host(n, memory_mib=h.memory_mib, cpus=h.cpus) for n, h in self.world.hosts.items()]
        vms = [
            make_vm(d.vm_name, d.host.name if d.host else "", uuid=d.vm_uuid, memory_mib=d.memory_mib)
            for d in self.guests.values()
        ]
        return make_cluster(hosts, vms, collected_at=_iso(datetime.now(UTC)))

    def move(self, mid: str, name: str, src: str, dst: str, **fields: Any) -> Migration:
        dom = self.guests[name]
        fields.setdefault("bandwidth_mibps", 200)
        return Migration(
            id=mid,
            vm_uuid=dom.vm_uuid,
            vm_name=name,
            source=src,
            destination=dst,
            memory_mib=dom.memory_mib,
            reason="test",
            **fields,
        )

    def plan(
        self, *migrations: Migration, age_s: float = 0.0, nic_mibps: int | None = None, **budgets: Any
    ) -> Plan:
        """A plan of `migrations` carrying these budgets (Budgets' fields) and every host's NIC at
        `nic_mibps` (when given), as a plan made with a config with those [execute] keys would."""
        flat = Balance(0.0, 0.0, 0.0)
        created = _iso(datetime.now(UTC) - timedelta(seconds=age_s))
        target = {m.vm_uuid: m.destination for m in migrations}
        nics = {} if nic_mibps is None else dict.fromkeys(self.world.hosts, nic_mibps)
        return Plan(
            snapshot=self.snapshot(),
            goal="rebalance",
            created_at=created,
            migrations=tuple(migrations),
            target=target,
            before=(),
            after=(),
            balance_before=flat,
            balance_after=flat,
            budgets=Budgets(**budgets, host_nic_mibps=nics),
        )

    def config(self, **execute: Any) -> ExecuteSettings:
        """The executor's settings from a config with these [execute] keys (FAST polling unless given).
        The budgets are the plan's: give them to `plan()`."""
        if budgets := set(execute) & {f.name for f in fields(Budgets)}:
            raise TypeError(f"{', '.join(sorted(budgets))}: budgets travel in the plan; give them to plan()")
        hosts = tuple(
            HostConfig(name=n, uri=h.uri, migration_uri=f"tcp://{n}") for n, h in self.world.hosts.items()
        )
        config = Config(
            state_dir=str(self.tmp / "state"), hosts=hosts, execute=ExecuteConfig(**{**FAST, **execute})
        )
        return config.execute_settings()

    def apply(self, plan: Plan, config: ExecuteSettings | None = None, **kwargs: Any) -> ApplyReport:
        return apply_plan(
            plan, config or self.config(), opener=self.world.open, progress=self.events.append, **kwargs
        )


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def statuses(report: ApplyReport) -> dict[str, str]:
    return {o.migration_id: o.status for o in report.outcomes}


def two_guest_lab(tmp: Path) -> Lab:
    """Guest a on h1 and guest b on h2."""
    lab = Lab(tmp)
    lab.guest("a", "h1")
    lab.guest("b", "h2")
    return lab


def two_moves(lab: Lab) -> Plan:
    """a h1 -> h2, then b h2 -> h3 (which waits for it)."""
    return lab.plan(lab.move("m1", "a", "h1", "h2"), lab.move("m2", "b", "h2", "h3", depends_on=("m1",)))
