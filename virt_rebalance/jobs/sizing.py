"""A host whose reserves leave no room for guests: a config mistake the reports would otherwise show only
as negative capacities ("-10% (1.2/-12.3 GiB)") and absurd bounds. Said plainly, with the key to change."""

from __future__ import annotations

from planner.model import Host, HostState


def no_room(host: Host) -> list[str]:
    """Why the reserves of a reachable `host` leave it no memory or CPU for guests (none when they do not)."""
    if host.state is HostState.UNREACHABLE:
        return []
    out = []
    if host.memory_capacity_mib <= 0:
        out.append(
            f"{host.name}: its memory reserve ({host.reserved_memory_mib} MiB) is not below its memory "
            f"({host.memory_mib} MiB), so it has no room for guests; lower reserved_memory_mib "
            "([defaults] or its [[hosts]] entry)"
        )
    if host.cpu_capacity_millicores <= 0:
        out.append(
            f"{host.name}: its CPU reserve ({host.reserved_millicores} millicores) is not below its "
            f"{host.cpus} CPUs, so it has no CPU for guests; lower reserved_millicores "
            "([defaults] or its [[hosts]] entry)"
        )
    return out
