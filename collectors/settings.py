"""What collection needs to know: which hosts to read and how, how long to wait, where the history is.

Frozen values without defaults: virt_rebalance.config builds them from the TOML model (`collect_settings()`),
which holds every default, the way it builds the planner's Policy and Budgets.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.model import PlacementRule


@dataclass(frozen=True, slots=True, kw_only=True)
class HostSource:
    """One host to read: where libvirt answers, and the operator's sizing of it (defaults applied)."""

    name: str
    uri: str
    migration_uri: str | None
    reserved_memory_mib: int
    reserved_millicores: int
    cpu_overcommit: float
    memory_overcommit: float
    cpu_ceiling_pct: int
    nic_mibps: int
    reserved_storage_mib: int
    excluded: bool
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectSettings:
    """`interval_s` between the two CPU readings; `timeout_s` per host; `dirty_rate_s` of measurement (0
    skips it); the history at `history_path` (None: STATE_DIR/history.sqlite, kept only when asked)."""

    hosts: tuple[HostSource, ...]
    rules: tuple[PlacementRule, ...]
    state_dir: str
    interval_s: float
    timeout_s: float
    dirty_rate_s: int
    history_path: str | None
    retention_days: int
    storage_migration: bool
    shared_paths: tuple[str, ...]
    storage_pool: str
