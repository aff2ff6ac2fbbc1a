"""What a snapshot or plan file must hold beyond its types, checked when it is read.

The types say "an int"; these checks say which ints make sense, so a hostile or damaged file ends in an
error naming the file and the field, never in a traceback, a hang (10^30 MiB of memory) or a quietly
disabled safeguard (a NaN estimate, a negative bandwidth).

    check_cluster(cluster, source, error)   hosts and guests unique, every guest on one known host
    check_plan(plan, source)                 the snapshot, then ids, guests, hosts and dependencies
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import fields, is_dataclass
from typing import Any

from planner.errors import InputError, PlanFileError
from planner.model import Cluster, HostState
from planner.plan import Plan

MAX_INT = 2**32  # MiB, millicores, MiB/s, counts: 4 PiB of memory is beyond any host
MAX_FLOAT = 1e9  # seconds, percentages, ratios: 31 years is beyond any schedule


def check_cluster(cluster: Cluster, source: str, error: type[InputError], prefix: str = "") -> None:
    """Raise `error` naming the first field of `cluster` that no real cluster has."""
    check_numbers(cluster, source, error, prefix.rstrip("."))
    _unique([h.name for h in cluster.hosts], source, error, f"{prefix}hosts", "host name")
    known = {h.name for h in cluster.hosts}
    where: dict[str, str] = {}
    for i, vm in enumerate(cluster.vms):
        field = f"{prefix}vms[{i}]"
        if vm.host not in known:
            raise error(source, f"{field}.host", f"{vm.name} is on {vm.host!r}, which is not among the hosts")
        if vm.uuid in where:
            raise error(
                source, f"{field}.uuid", f"{vm.name} ({vm.uuid}) is on both {where[vm.uuid]} and {vm.host}"
            )
        where[vm.uuid] = vm.host
    for i, host in enumerate(cluster.hosts):
        if host.state is not HostState.UNREACHABLE and (host.cpus < 1 or host.memory_mib < 1):
            raise error(source, f"{prefix}hosts[{i}]", f"{host.name} has no CPUs or no memory")
        if host.cpu_overcommit <= 0 or host.memory_overcommit <= 0:
            raise error(source, f"{prefix}hosts[{i}]", f"{host.name}: overcommit ratios must be above 0")


def check_plan(plan: Plan, source: str) -> None:
    """Raise PlanFileError naming the first field of `plan` that cannot be carried out as written."""
    check_cluster(plan.snapshot, source, PlanFileError, "snapshot.")
    check_numbers(plan, source, PlanFileError)
    ids = [m.id for m in plan.migrations]
    _unique(ids, source, PlanFileError, "migrations", "migration id")
    _unique(
        [m.vm_uuid for m in plan.migrations if not m.temporary], source, PlanFileError, "migrations", "guest"
    )
    hosts = {h.name for h in plan.snapshot.hosts}
    guests = {vm.uuid for vm in plan.snapshot.vms}
    for i, m in enumerate(plan.migrations):
        field = f"migrations[{i}]"
        if m.source == m.destination:
            raise PlanFileError(source, field, f"{m.id} moves {m.vm_name} from {m.source} to itself")
        if unknown := {m.source, m.destination} - hosts:
            raise PlanFileError(
                source, field, f"{m.id} names hosts not in the snapshot: {', '.join(sorted(unknown))}"
            )
        if m.vm_uuid not in guests:
            raise PlanFileError(source, f"{field}.vm_uuid", f"{m.id}: {m.vm_name} is not in the snapshot")
        if unknown := set(m.depends_on) - set(ids):
            raise PlanFileError(
                source, f"{field}.depends_on", f"{m.id} waits for unknown {', '.join(sorted(unknown))}"
            )
    if cycle := _cycle({m.id: m.depends_on for m in plan.migrations}):
        raise PlanFileError(source, "migrations", f"dependencies go round in a circle: {' -> '.join(cycle)}")


def check_numbers(value: Any, source: str, error: type[InputError], path: str = "") -> None:
    """Every number in `value` (dataclasses, tuples, dicts, nested) finite, not negative and within bounds."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if not 0 <= value <= MAX_INT:
            raise error(source, path or None, f"{value} is out of range (0 to {MAX_INT})")
    elif isinstance(value, float):
        if not math.isfinite(value) or not 0 <= value <= MAX_FLOAT:
            raise error(source, path or None, f"{value} is out of range (0 to {MAX_FLOAT:g}, finite)")
    elif is_dataclass(value):
        for f in fields(value):
            check_numbers(getattr(value, f.name), source, error, f"{path}.{f.name}" if path else f.name)
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            check_numbers(item, source, error, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_numbers(item, source, error, f"{path}.{key}" if path else str(key))


def _unique(values: list[str], source: str, error: type[InputError], field: str, what: str) -> None:
    if twice := sorted(v for v, n in Counter(values).items() if n > 1):
        raise error(source, field, f"each {what} must appear once: {', '.join(twice[:5])} more than once")


def _cycle(depends_on: dict[str, tuple[str, ...]]) -> list[str] | None:
    """One dependency cycle (as a path that returns to its start), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in depends_on:
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                if state.get(node) == 2:
                    continue
                state[node] = 1
                path.append(node)
            deps = depends_on.get(node, ())
            if i < len(deps):
                stack.append((node, i + 1))
                nxt = deps[i]
                if state.get(nxt) == 1:
                    return [*path[path.index(nxt) :], nxt]
                if state.get(nxt) != 2:
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
    return None
