"""Fixture builders: make_host(...), make_vm(...), make_cluster(...) with overrides; make_target(...) for a
hand-made optimizer answer."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from planner.load import balance, host_loads
from planner.model import Cluster, Host, PlacementRule, Vm
from planner.optimize.optimizer import Target
from planner.plan import Migration

_ids = itertools.count(1)


def make_host(name: str = "h1", **overrides: Any) -> Host:
    base = Host(name=name, uri=f"fake://{name}", cpus=16, memory_mib=65536, cpu_overcommit=4.0)
    return replace(base, **overrides)


def make_vm(name: str | None = None, host: str = "h1", **overrides: Any) -> Vm:
    n = next(_ids)
    name = name or f"vm{n}"
    base = Vm(
        uuid=overrides.pop("uuid", f"00000000-0000-0000-0000-{n:012d}"),
        name=name,
        host=host,
        vcpus=2,
        memory_mib=4096,
        cpu_millicores=500,
        cpu_signature="x86-generic",
    )
    return replace(base, **overrides)


def make_cluster(
    hosts: Iterable[Host], vms: Iterable[Vm], rules: Iterable[PlacementRule] = (), **overrides: Any
) -> Cluster:
    """A cluster; unless `compatibility` is given every signature in use runs on every host."""
    hosts, vms = tuple(hosts), tuple(vms)
    compat = overrides.pop("compatibility", None)
    if compat is None:
        compat = {sig: tuple(h.name for h in hosts) for sig in {v.cpu_signature for v in vms}}
    return Cluster(hosts=hosts, vms=vms, rules=tuple(rules), compatibility=compat, **overrides)


def make_migration(**overrides: Any) -> Migration:
    """m1: guest "web" (u1, 1 GiB) from h1 to h2, for "test"; any field overridden by keyword."""
    base = Migration(
        id="m1", vm_uuid="u1", vm_name="web", source="h1", destination="h2", memory_mib=1024, reason="test"
    )
    return replace(base, **overrides)


def make_target(cluster: Cluster, placement: dict[str, str]) -> Target:
    """An optimizer answer that moves the guests `placement` puts elsewhere (reason "test")."""
    before, after = host_loads(cluster, cluster.placement), host_loads(cluster, placement)
    return Target(
        placement=placement,
        reasons={u: "test" for u, h in placement.items() if h != cluster.vm_by_uuid[u].host},
        stays=(),
        before=before,
        after=after,
        balance_before=balance(before),
        balance_after=balance(after),
        peak_lower_bound_pct=0.0,
        status="optimal",
        solve_s=0.0,
        notes=(),
    )
