"""The config's rules as they apply to one snapshot: guest-name wildcards expanded, `ignore` rules made
hard pins to where each guest runs now (never moved, not even off a host being emptied).

    [[rules]]                       [[rules]]
    kind = "anti-affinity"          kind = "ignore"
    name = "web-apart"              name = "hands-off"
    vms = ["web-*"]                 vms = ["db-*", "licence-server"]

Guests' own rules from their libvirt <metadata> are merged in too; the config wins (jobs.metadata_rules).

Wildcards are shell-style (`*`, `?`, `[...]`, matched with fnmatch against guest names); a name without
one is kept as written, so a rule naming a guest that is not there yet still reads as the operator wrote it.
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase

from planner.model import Cluster, PlacementRule
from virt_rebalance import output
from virt_rebalance.config import Config
from virt_rebalance.jobs import metadata_rules

WILDCARD = frozenset("*?[")


def resolve(config: Config, cluster: Cluster) -> Cluster:
    """`cluster` with its rules' wildcards expanded, the config's ignore rules added as pins and the rules
    guests carry in their <metadata> merged in (jobs.metadata_rules; each problem warned about)."""
    names = sorted(v.name for v in cluster.vms)
    rules = [replace(r, vms=expand(r.vms, names)) for r in cluster.rules]
    placed_by_config: dict[str, str] = {}
    for rule in config.rules:
        if rule.kind not in ("ignore", "pin"):
            continue
        for name in expand(rule.vms, names):
            placed_by_config.setdefault(name, rule.name)
            vm = cluster.vm_by_name.get(name)
            if vm is not None and rule.kind == "ignore":
                rules.append(PlacementRule("pin", f"ignore {rule.name}: {name}", (name,), (vm.host,), True))
    merged = metadata_rules.merge(cluster, rules, placed_by_config)
    for guest, message in merged.warnings:
        output.warning(message, vm=guest)
    return replace(cluster, rules=tuple(merged.rules))


def expand(patterns: tuple[str, ...], names: list[str]) -> tuple[str, ...]:
    """Each pattern's matching guest names (in name order), duplicates dropped, plain names as written."""
    out: list[str] = []
    for pattern in patterns:
        matched = [n for n in names if fnmatchcase(n, pattern)] if WILDCARD & set(pattern) else [pattern]
        out += [n for n in matched if n not in out]
    return tuple(out)
