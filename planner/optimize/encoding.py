"""The CP-SAT encoding: the only module in planner/ that imports ortools.

Variables: x[(vm, host)] is 1 when guest `vm` (UUID) ends on `host`, one per candidate pair; a guest
with a single candidate is a constant. Rules add constraints through the methods here (`forbid`,
`require_at_most`, `penalize`, ...) and never see ortools. When `explain` is set, each hard rule's
constraints are enforced only under one assumption literal, so an infeasible model names the rules that
conflict (CP-SAT's sufficient assumptions for infeasibility).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ortools.sat.python import cp_model

from planner.model import Cluster, Vm

Resource = Literal["cpu", "memory", "vcpus"]
#: Percentages in the objective are integers in basis points (1/100 of a percentage point).
BP = 100
#: The share of a solve's time given as CP-SAT's deterministic time (the rest covers loading the model).
DETERMINISTIC_SHARE = 0.6


class Named(Protocol):
    """What the encoding needs of a rule: its name (for variable names) and words for conflicts."""

    @property
    def name(self) -> str: ...

    def describe(self) -> str: ...


def demand(vm: Vm, resource: Resource) -> int:
    if resource == "cpu":
        return vm.cpu_demand_millicores
    if resource == "memory":
        return vm.memory_mib
    return vm.vcpus


def share_bp(load: int, cap: int) -> int:
    """`load` as a share of `cap`, in basis points of a percent, rounded up (a peak term's value)."""
    return -(-load * 100 * BP // max(1, cap))


def excess_units(load: int, cap: int, level_bp: int) -> int:
    """How far `load` rises above `level_bp` of `cap`, in the load's own unit, rounded up; zero below
    (an excess term's value)."""
    return max(0, -(-(load * 100 * BP - level_bp * max(1, cap)) // (100 * BP)))


def capacity(cluster: Cluster, host: str, resource: Resource) -> int:
    h = cluster.host_by_name[host]
    if resource == "cpu":
        return h.cpu_capacity_millicores
    if resource == "memory":
        return h.memory_capacity_mib
    return h.vcpu_capacity


@dataclass(frozen=True)
class Solution:
    status: Literal["optimal", "feasible", "infeasible", "unknown"]
    placement: dict[str, str]
    conflicts: tuple[Named, ...]
    wall_s: float


class Encoding:
    """Assignment variables over candidate pairs, load expressions, penalties and guards."""

    def __init__(
        self,
        cluster: Cluster,
        domains: Mapping[str, Sequence[str]],
        explain: bool = False,
        stays: frozenset[str] = frozenset(),
    ):
        self.cluster = cluster
        self.stays = stays  # guests (UUIDs) a hard rule would move but that may stay, at a cost
        self.model = cp_model.CpModel()
        self.explain = explain
        self.domains = domains
        self.x: dict[tuple[str, str], cp_model.IntVar] = {}
        self.fixed: dict[str, str] = {}
        self.free_on: dict[str, list[tuple[Vm, cp_model.IntVar]]] = {h.name: [] for h in cluster.hosts}
        self.fixed_on: dict[str, list[Vm]] = {h.name: [] for h in cluster.hosts}
        self.penalties: list[tuple[int, cp_model.LinearExprT]] = []
        self._guards: dict[int, tuple[Named, cp_model.IntVar]] = {}
        self._peaks: list[tuple[cp_model.IntVar, Resource, Sequence[str]]] = []
        self._excess: list[tuple[cp_model.IntVar, Resource, str, int]] = []
        self._above: list[tuple[cp_model.IntVar, cp_model.IntVar, int]] = []
        self._derived: list[tuple[cp_model.IntVar, Sequence[tuple[str, str]], int, bool]] = []
        # Each guest ends on exactly one of its candidate hosts.
        for vm in cluster.vms:
            hosts = domains[vm.uuid]
            if len(hosts) == 1:
                self.fixed[vm.uuid] = hosts[0]
                self.fixed_on[hosts[0]].append(vm)
                continue
            row = []
            for host in hosts:
                var = self.model.new_bool_var(f"x[{vm.name},{host}]")
                self.x[(vm.uuid, host)] = var
                self.free_on[host].append((vm, var))
                row.append(var)
            self.model.add_exactly_one(row)

    # -- reading the variables -------------------------------------------------------------------

    def on(self, vm: str, host: str) -> cp_model.LinearExprT:
        """1 when guest `vm` ends on `host` (a constant when that is already decided)."""
        var = self.x.get((vm, host))
        if var is not None:
            return var
        return int(self.fixed.get(vm) == host)

    def moved(self, vm: Vm) -> cp_model.LinearExprT:
        """1 when the guest leaves its current host."""
        return 1 - self.on(vm.uuid, vm.host)

    def load(self, host: str, resource: Resource) -> cp_model.LinearExprT:
        """What the guests ending on `host` use of `resource`."""
        base = sum(demand(vm, resource) for vm in self.fixed_on[host])
        free = self.free_on[host]
        if not free:
            return base
        return (
            cp_model.LinearExpr.weighted_sum([v for _, v in free], [demand(vm, resource) for vm, _ in free])
            + base
        )

    def receives(self, host: str) -> bool:
        """Whether any guest from elsewhere may end on `host`."""
        return any(vm.host != host for vm, _ in self.free_on[host]) or any(
            vm.host != host for vm in self.fixed_on[host]
        )

    # -- adding constraints ----------------------------------------------------------------------

    def _guard(self, rule: Named) -> list[cp_model.IntVar]:
        if not self.explain:
            return []
        entry = self._guards.get(id(rule))
        if entry is None:
            entry = (rule, self.model.new_bool_var(f"holds[{rule.name}]"))
            self._guards[id(rule)] = entry
        return [entry[1]]

    def require(self, rule: Named, constraint: Any) -> None:
        """Add a hard constraint (a comparison of expressions, or a plain truth) on behalf of `rule`."""
        if not isinstance(constraint, cp_model.BoundedLinearExpression):
            if bool(constraint):
                return
            constraint = self.model.new_constant(0) == 1
        self.model.add(constraint).only_enforce_if(self._guard(rule))

    def forbid(self, rule: Named, vm: str, host: str) -> None:
        """Guest `vm` may not end on `host`."""
        on = self.on(vm, host)
        if isinstance(on, int):
            if on:
                self.require(rule, False)
            return
        self.require(rule, on == 0)

    def same_host(self, rule: Named, vms: Sequence[str]) -> None:
        """All of `vms` end on one host."""
        hosts = sorted({h for vm in vms for h in self.domains[vm]})
        for host in hosts:
            first = self.on(vms[0], host)
            for other in vms[1:]:
                self.require(rule, self.on(other, host) == first)

    def any_of(self, name: str, pairs: Sequence[tuple[str, str]]) -> cp_model.IntVar:
        """A 0/1 variable that is 1 when any guest ends on its host in `pairs` ((vm, host) each)."""
        var = self.model.new_bool_var(name)
        for vm, host in pairs:
            self.model.add(var >= self.on(vm, host))
        self._derived.append((var, pairs, 0, True))
        return var

    def beyond(self, name: str, pairs: Sequence[tuple[str, str]], allowed: int) -> cp_model.IntVar:
        """How many of `pairs` ((vm, host) each) hold beyond the first `allowed` (zero if fewer)."""
        var = self.model.new_int_var(0, len(pairs), name)
        self.model.add(var >= sum(self.on(vm, host) for vm, host in pairs) - allowed)
        self._derived.append((var, pairs, allowed, False))
        return var

    def penalize(self, weight: int, expr: cp_model.LinearExprT) -> None:
        """Add `weight * expr` to the objective (soft rules, in objective units)."""
        self.penalties.append((weight, expr))

    # -- solving ---------------------------------------------------------------------------------

    def hint(self, placement: Mapping[str, str]) -> None:
        """Start from `placement`: the assignment and every term it implies (a complete hint lets CP-SAT
        take it as its first solution at once)."""
        for (vm, host), var in self.x.items():
            self.model.add_hint(var, placement.get(vm) == host)
        used: dict[tuple[str, Resource], int] = {}
        resources: tuple[Resource, ...] = ("cpu", "memory", "vcpus")
        for guest in self.cluster.vms:
            on = placement.get(guest.uuid, guest.host)
            for r in resources:
                used[(on, r)] = used.get((on, r), 0) + demand(guest, r)

        def share(host: str, r: Resource) -> int:
            return share_bp(used.get((host, r), 0), capacity(self.cluster, host, r))

        hinted: dict[int, int] = {}
        for var, r, hosts in self._peaks:
            low = self.model.proto.variables[var.index].domain[0]
            hinted[var.index] = max([low] + [share(h, r) for h in hosts])
            self.model.add_hint(var, hinted[var.index])
        for var, of, level in self._above:
            self.model.add_hint(var, max(0, hinted[of.index] - level))
        for var, r, host, level in self._excess:
            cap = capacity(self.cluster, host, r)
            self.model.add_hint(var, excess_units(used.get((host, r), 0), cap, level))
        for var, pairs, allowed, flag in self._derived:
            held = sum(placement.get(vm) == host for vm, host in pairs)
            self.model.add_hint(var, min(1, held) if flag else max(0, held - allowed))

    def minimize(self, terms: Iterable[tuple[int, cp_model.LinearExprT]], penalty_scale: int = 1) -> None:
        """Minimise the weighted `terms` plus the soft rules' penalties times `penalty_scale`."""
        parts = list(terms) + [(w * penalty_scale, e) for w, e in self.penalties]
        self.model.minimize(cp_model.LinearExpr.weighted_sum([e for _, e in parts], [w for w, _ in parts]))

    def solve(self, time_s: float, seed: int, workers: int) -> Solution:
        """Solve for `time_s` seconds' worth of CP-SAT's deterministic time (DETERMINISTIC_SHARE of
        it: about a second per unit on an idle machine, the rest covers loading the model), so the
        same input and seed give the same answer. No wall-clock limit: OR-Tools 9.15 aborts the
        whole process ("Check failed: solution->size() == postsolve_mapping.size()") when a
        wall-clock limit falls between its taking a complete hint as the first solution and the
        start of the parallel search, as it did once on a loaded machine. Deterministic time only
        advances with work, so a solve still ends; on a starved machine it takes longer."""
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.max_deterministic_time = max(0.05, DETERMINISTIC_SHARE * time_s)
        params.random_seed = seed
        params.num_workers = max(1, min(workers, 2))
        params.interleave_search = params.num_workers > 1
        if self.explain:
            self.model.add_assumptions([lit for _, lit in self._guards.values()])
        status = solver.solve(self.model)
        wall = solver.wall_time
        if status == cp_model.INFEASIBLE:
            return Solution("infeasible", {}, self._conflicts(solver, time_s), wall)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return Solution("unknown", {}, (), wall)
        placement = self.placement(solver)
        kind: Literal["optimal", "feasible"] = "optimal" if status == cp_model.OPTIMAL else "feasible"
        return Solution(kind, placement, (), wall)

    def placement(self, solver: cp_model.CpSolver) -> dict[str, str]:
        """Where each guest ends in the solution `solver` found."""
        placement = dict(self.fixed)
        for (vm, host), var in self.x.items():
            if solver.boolean_value(var):
                placement[vm] = host
        return placement

    def _conflicts(self, solver: cp_model.CpSolver, time_s: float) -> tuple[Named, ...]:
        """The rules behind an infeasible answer: CP-SAT's sufficient assumptions, shrunk by dropping
        each one in turn and keeping it out while the rest stays infeasible."""
        if not self.explain:
            return ()
        index = {lit.index: (rule, lit) for rule, lit in self._guards.values()}
        core = [index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in index]
        for entry in list(core):
            rest = [lit for _, lit in core if lit is not entry[1]]
            self.model.clear_assumptions()
            self.model.add_assumptions(rest)
            probe = cp_model.CpSolver()
            probe.parameters.max_deterministic_time = max(0.1, DETERMINISTIC_SHARE * time_s / 4)
            probe.parameters.num_workers = solver.parameters.num_workers
            probe.parameters.interleave_search = solver.parameters.interleave_search
            if probe.solve(self.model) == cp_model.INFEASIBLE:
                core.remove(entry)
        return tuple(rule for rule, _ in core)

    # -- balance terms ---------------------------------------------------------------------------

    def peak(self, resource: Resource, hosts: Sequence[str], floor_bp: int = 0) -> cp_model.IntVar:
        """The highest share of capacity (basis points) that `resource` reaches over `hosts`, and at
        least `floor_bp` (the peak of hosts outside the model, when it covers a neighbourhood)."""
        shares = {h: self._fixed_share(h, resource) for h in hosts}
        low = max([floor_bp] + [s for h, s in shares.items() if not self.free_on[h]])
        top = max(max(shares.values(), default=0), 100 * BP, low) * 4
        var = self.model.new_int_var(low, top, f"peak[{resource}]")
        self._peaks.append((var, resource, hosts))
        # No host's load exceeds the peak: load * 100 * BP <= peak * capacity.
        for host in hosts:
            if self.free_on[host]:
                cap = max(1, capacity(self.cluster, host, resource))
                self.model.add(self.load(host, resource) * (100 * BP) <= var * cap)
        return var

    def above(self, peak: cp_model.IntVar, level_bp: int) -> cp_model.IntVar:
        """How far `peak` (a variable `Encoding.peak` made: the hint fills it from that) rises above
        `level_bp`; zero below it."""
        domain = self.model.proto.variables[peak.index].domain  # (a proto list: no negative index)
        top = domain[len(domain) - 1]
        var = self.model.new_int_var(0, max(0, top - level_bp), f"above[{peak.name}]")
        self.model.add(var >= peak - level_bp)
        self._above.append((var, peak, level_bp))
        return var

    def excess(self, resource: Resource, hosts: Sequence[str], level_bp: int) -> list[cp_model.IntVar]:
        """Per host, how far `resource` rises above `level_bp` of its capacity, in the resource's own
        unit (MiB, millicores); zero below it. Hosts whose guests are all decided add no variable."""
        out = []
        for host in hosts:
            if not self.free_on[host]:
                continue
            cap = max(1, capacity(self.cluster, host, resource))
            top = sum(demand(vm, resource) for vm, _ in self.free_on[host]) + sum(
                demand(vm, resource) for vm in self.fixed_on[host]
            )
            var = self.model.new_int_var(0, max(0, top), f"excess[{resource},{host}]")
            self._excess.append((var, resource, host, level_bp))
            # excess * 100 * BP >= load * 100 * BP - level * capacity.
            self.model.add(var * (100 * BP) >= self.load(host, resource) * (100 * BP) - level_bp * cap)
            out.append(var)
        return out

    def _fixed_share(self, host: str, resource: Resource) -> int:
        cap = max(1, capacity(self.cluster, host, resource))
        return sum(demand(vm, resource) for vm in self.fixed_on[host]) * 100 * BP // cap
