"""The rules guests carry in their libvirt <metadata> (collectors.guest_metadata), merged with the config's.

The config wins, and says so: where the two disagree the config's rule holds and a warning names the guest
and the rule.

- ignore / pin: a guest that a config `pin` or `ignore` rule names runs where the config says; its own
  ignore or pin is not used. Otherwise ignore pins it to the host it runs on now, and pin keeps it on the
  hosts of the named host groups (any of them).
- affinity / anti-affinity NAME: the guests naming NAME form one hard rule called NAME. When the config has
  a rule of that name and kind, the guests join it (with its hardness and weight); a config rule of that name
  but another kind keeps the name, and the guest's entry is not used.
- A guest whose metadata cannot be read (an unknown element, an empty or unprintable name, a group both
  affinity and anti-affinity), or whose pin names only host groups no host belongs to, is not moved:
  it is pinned where it runs, with a warning naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from planner.model import Cluster, PlacementRule, Vm

GroupKind = Literal["affinity", "anti-affinity"]


@dataclass
class Merged:
    """The rules after merging, and what a person should hear about (each warning names its guest)."""

    rules: list[PlacementRule]
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (guest, message)

    def warn(self, vm: Vm, message: str) -> None:
        self.warnings.append((vm.name, f"{vm.name}: {message}"))


def merge(cluster: Cluster, rules: list[PlacementRule], placed_by_config: dict[str, str]) -> Merged:
    """`rules` (the config's, expanded) with every guest's metadata rules added as the module says.

    `placed_by_config` maps a guest's name to the config rule (pin or ignore) that decides its hosts.
    """
    merged = Merged(list(rules))
    groups: dict[tuple[GroupKind, str], list[Vm]] = {}
    for vm in cluster.vms:
        carried = vm.rules
        if carried is None:
            continue
        if carried.problems:
            merged.warn(vm, f"its <metadata> rules cannot be read ({'; '.join(carried.problems)})")
            _stay(merged, vm, "unreadable metadata")
            continue
        if carried.ignore or carried.pin:
            _where(merged, cluster, vm, placed_by_config.get(vm.name))
        for group in carried.affinity:
            groups.setdefault(("affinity", group), []).append(vm)
        for group in carried.anti_affinity:
            groups.setdefault(("anti-affinity", group), []).append(vm)
    for (kind, name), members in sorted(groups.items()):
        _join(merged, kind, name, members)
    return merged


def _where(merged: Merged, cluster: Cluster, vm: Vm, config_rule: str | None) -> None:
    """The guest's ignore or pin, unless a config rule already decides where it runs."""
    carried = vm.rules
    assert carried is not None
    what = "ignore" if carried.ignore else "pin"
    if config_rule is not None:
        merged.warn(
            vm, f"the config's rule {config_rule!r} decides where it runs; its metadata {what} is not used"
        )
        return
    if carried.ignore:
        _stay(merged, vm, "metadata ignore")
        return
    known = {g for h in cluster.hosts for g in h.groups}
    if unknown := [g for g in carried.pin if g not in known]:
        merged.warn(vm, f"its metadata pins it to unknown host groups: {', '.join(map(repr, unknown))}")
    hosts = tuple(sorted(h.name for h in cluster.hosts if set(h.groups) & set(carried.pin)))
    if not hosts:
        _stay(merged, vm, "metadata pin to no known host group")
        merged.warn(vm, f"no host is in the groups it is pinned to; it stays on {vm.host}")
        return
    name = f"metadata pin {vm.name}: {', '.join(carried.pin)}"
    merged.rules.append(PlacementRule("pin", name, (vm.name,), hosts))


def _stay(merged: Merged, vm: Vm, why: str) -> None:
    merged.rules.append(PlacementRule("pin", f"{why}: {vm.name}", (vm.name,), (vm.host,)))


def _join(merged: Merged, kind: GroupKind, name: str, members: list[Vm]) -> None:
    """The guests naming group `name` join the config's rule of that name, or form a new one."""
    names = tuple(vm.name for vm in members)
    for i, rule in enumerate(merged.rules):
        if rule.name != name:
            continue
        if rule.kind != kind:
            for vm in members:
                merged.warn(vm, f"its metadata puts it in {kind} group {name!r}, but rule {name!r} is "
                                f"{rule.kind}; the rule holds and the entry is not used")  # fmt: skip
            return
        merged.rules[i] = replace(rule, vms=rule.vms + tuple(n for n in names if n not in rule.vms))
        return
    merged.rules.append(PlacementRule(kind, name, names))
