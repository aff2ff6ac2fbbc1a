"""From the execute settings to one libvirt migrate call: flags, typed parameters, which API.

Every option of libvirt's migrate API is reachable from config. LIVE, PERSIST_DEST and UNDEFINE_SOURCE are
always set: together they keep the promise that a guest runs exactly once, somewhere known, and stays
defined there. Invalid combinations raise ConfigError naming the key; risky ones return warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from collectors import constants as c
from executor.settings import Destination, ExecuteSettings
from planner.errors import ConfigError
from planner.plan import Migration
from planner.policy import Budgets

_ALWAYS: int = c.VIR_MIGRATE_LIVE | c.VIR_MIGRATE_PERSIST_DEST | c.VIR_MIGRATE_UNDEFINE_SOURCE

#: (setting, flag): a true boolean in the settings sets the flag (auto_converge is one of the plan's budgets).
FLAG_OPTIONS: tuple[tuple[str, int], ...] = (
    ("peer2peer", c.VIR_MIGRATE_PEER2PEER),
    ("postcopy", c.VIR_MIGRATE_POSTCOPY),
    ("tunnelled", c.VIR_MIGRATE_TUNNELLED),
    ("paused", c.VIR_MIGRATE_PAUSED),
    ("change_protection", c.VIR_MIGRATE_CHANGE_PROTECTION),
    ("unsafe", c.VIR_MIGRATE_UNSAFE),
    ("compressed", c.VIR_MIGRATE_COMPRESSED),
)


@dataclass(frozen=True, slots=True)
class MigrateCall:
    """What to call: `migrateToURI3(dconnuri, params, flags)` (peer2peer) or, client-managed,
    `migrate(dest_conn, flags, dname, uri, bandwidth)` with our own connection to the destination."""

    mode: Literal["peer2peer", "client"]
    dconnuri: str
    flags: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str | None:
        return self.params.get(c.VIR_MIGRATE_PARAM_URI)

    @property
    def dname(self) -> str | None:
        return self.params.get(c.VIR_MIGRATE_PARAM_DEST_NAME)

    @property
    def bandwidth_mibps(self) -> int:
        return int(self.params.get(c.VIR_MIGRATE_PARAM_BANDWIDTH, 0))


def check_options(execute: ExecuteSettings) -> list[str]:
    """Raise ConfigError for combinations libvirt refuses; return warnings for risky ones."""
    if execute.tunnelled and not execute.peer2peer:
        raise ConfigError("execute", "execute.tunnelled", "tunnelled migration requires peer2peer = true")
    if execute.tunnelled and execute.managed == "client":
        raise ConfigError("execute", "execute.tunnelled", "tunnelled migration cannot be client-managed")
    if execute.tunnelled and execute.parallel_connections:
        raise ConfigError(
            "execute", "execute.parallel_connections", "parallel connections do not work tunnelled"
        )
    if not execute.peer2peer and execute.managed == "peer2peer":
        raise ConfigError("execute", "execute.peer2peer", 'peer2peer = false needs managed = "client"')
    warnings = []
    if execute.unsafe:
        warnings.append(
            "execute.unsafe is set: libvirt will not refuse migrations it considers unsafe "
            "(e.g. disks with cache modes that can lose data)"
        )
    if execute.paused:
        warnings.append("execute.paused is set: guests will be left paused on their destination")
    return warnings


def migration_flags(execute: ExecuteSettings, budgets: Budgets) -> int:
    flags: int = _ALWAYS
    for key, flag in FLAG_OPTIONS:
        if getattr(execute, key):
            flags |= flag
    if budgets.auto_converge:
        flags |= c.VIR_MIGRATE_AUTO_CONVERGE
    if execute.managed == "client":
        flags &= ~c.VIR_MIGRATE_PEER2PEER
    if execute.parallel_connections:
        flags |= c.VIR_MIGRATE_PARALLEL
    return flags


def bandwidth_for(migration: Migration, budgets: Budgets) -> int:
    """The schedule's bandwidth, capped by the plan's per-migration cap; 0 means unlimited."""
    caps = [b for b in (migration.bandwidth_mibps, budgets.per_migration_mibps) if b > 0]
    return min(caps) if caps else 0


def migrate_call(
    migration: Migration, execute: ExecuteSettings, budgets: Budgets, destination: Destination
) -> MigrateCall:
    """The call that carries out `migration` towards `destination` under `execute` and the plan's `budgets`."""
    flags = migration_flags(execute, budgets)
    params: dict[str, Any] = {}
    if not execute.tunnelled:
        if not destination.migration_uri:
            raise ConfigError(
                "config",
                f"hosts[{destination.name}].migration_uri",
                "needed to migrate to this host (where its QEMU listens, e.g. tcp://10.0.0.5)",
            )
        params[c.VIR_MIGRATE_PARAM_URI] = destination.migration_uri
    if bandwidth := bandwidth_for(migration, budgets):
        params[c.VIR_MIGRATE_PARAM_BANDWIDTH] = bandwidth
    if execute.destination_name:
        params[c.VIR_MIGRATE_PARAM_DEST_NAME] = execute.destination_name.format(name=migration.vm_name)
    if execute.parallel_connections:
        params[c.VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS] = execute.parallel_connections
    if migration.disks:
        # Copy exactly the guest's local disks (shared ones stay); the bandwidth cap applies to the copy too.
        flags |= c.VIR_MIGRATE_NON_SHARED_DISK
        params[c.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = list(migration.disks)
    return MigrateCall(execute.managed, destination.uri, flags, params)
