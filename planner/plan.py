"""The Plan: a value that dry-run prints and apply runs, exactly.

It carries the snapshot it came from, the ordered migrations with their dependencies and estimates, the
budgets the schedule assumed (apply keeps them: the executor reads them here, not from the config), the
predicted per-host load, what stays and why, and how close it is to the bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from planner.model import SCHEMA_VERSION, Cluster
from planner.policy import Budgets


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    """One live migration. `depends_on` lists migration ids that must finish before this one starts.

        `start_s`/`estimated_s` place it on the schedule's timeline (seconds from the plan's start);
        `temporary` marks a hop through a host with room that breaks a cycle (a swap). `disks` are the guest's
        local disks (targets) the migration copies, `disk_mib` their allocation; shared disks are not copied.
    `estimated_s`/`estimated_mib` use the link's calibration (Budgets.links); `model_mib` is the model's bytes
    before it, what the journal learns the next calibration against.
    """

    id: str
    vm_uuid: str
    vm_name: str
    source: str
    destination: str
    memory_mib: int
    reason: str
    depends_on: tuple[str, ...] = ()
    bandwidth_mibps: int = 0
    start_s: float = 0.0
    estimated_s: float = 0.0
    estimated_mib: int = 0
    dirty_rate_mibps: int = 0
    temporary: bool = False
    warnings: tuple[str, ...] = ()
    disks: tuple[str, ...] = ()
    disk_mib: int = 0
    model_mib: int = 0  # the pre-copy model's bytes before calibration (estimated_mib is after)


@dataclass(frozen=True, slots=True, kw_only=True)
class HostLoad:
    """A host's load under one placement, with its capacities (the report's before -> after)."""

    host: str
    cpu_millicores: int
    cpu_capacity_millicores: int
    memory_mib: int
    memory_capacity_mib: int
    vcpus: int
    vcpu_capacity: int
    guests: int

    @property
    def cpu_pct(self) -> float:
        return (
            100.0 * self.cpu_millicores / self.cpu_capacity_millicores
            if self.cpu_capacity_millicores
            else 0.0
        )

    @property
    def memory_pct(self) -> float:
        return 100.0 * self.memory_mib / self.memory_capacity_mib if self.memory_capacity_mib else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Stay:
    """A guest that will not move, and why (kube-scheduler's unschedulable vs unresolvable)."""

    vm_uuid: str
    vm_name: str
    host: str
    rule: str
    reason: str
    resolvable: bool = False


@dataclass(frozen=True, slots=True)
class Balance:
    """How balanced a placement is: the peak, spread and coefficient of variation of host load (%)."""

    peak_pct: float
    spread_pct: float
    cv: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A plan and everything needed to print it, check it and run it."""

    snapshot: Cluster
    goal: Literal["rebalance", "evacuate"]
    created_at: str
    migrations: tuple[Migration, ...]
    target: Mapping[str, str]
    before: tuple[HostLoad, ...]
    after: tuple[HostLoad, ...]
    balance_before: Balance
    balance_after: Balance
    stays: tuple[Stay, ...] = ()
    evacuate: tuple[str, ...] = ()
    peak_lower_bound_pct: float = 0.0
    makespan_s: float = 0.0
    makespan_lower_bound_s: float = 0.0
    solver_status: str = ""
    solve_s: float = 0.0
    notes: tuple[str, ...] = ()
    policy: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    budgets: Budgets = field(default_factory=Budgets)  # what the schedule assumed; apply keeps them

    @property
    def moved_mib(self) -> int:
        return sum(m.memory_mib for m in self.migrations)

    @property
    def disk_copied_mib(self) -> int:
        return sum(m.disk_mib for m in self.migrations)

    @property
    def is_empty(self) -> bool:
        return not self.migrations
