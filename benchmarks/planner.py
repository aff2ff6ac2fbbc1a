"""Planner benchmark: `python -m benchmarks.planner [--hosts H --guests G] [--seed S | --seeds A-B]`.

`--cpu-weight 0` plans for memory alone (what evening CPU adds to gib_moved shows against the
default); `--threshold N` sets policy.threshold. Without --hosts/--guests it runs the issue's three
sizes (100/2,000, 1,000/20,000, 5,000/30,000) with time limits that fit their targets (2 s, 20 s, 60 s). For each size and seed it runs the optimizer and the
greedy baseline on the same generated cluster and prints a table, then a JSON list of rows, each with:
kind ("optimizer" or "greedy"), hosts, guests, seed, seconds, moves, gib_moved, min_gib (the memory
excess at the start: the least any plan must move to even memory out), min_gib_peak (the least any plan
must move to even memory out and hold the memory peak within PEAK_MARGIN points of its bound: per host,
the larger of its excess and its guests that alone are above that, which must leave whatever the plan
does), peak_rss_mib, and for each of
cpu and memory: peak, bound, spread, cv, excess_left_pct (load above the level after, as % of before),
excess_floor_pct (what guests that cannot move leave at least) and within_10_pct (% of hosts within 10
points of the level).
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Mapping
from dataclasses import replace
from statistics import fmean, pstdev
from typing import Any

import click

from benchmarks.generator import generate
from planner.model import Cluster
from planner.optimize.encoding import Resource, capacity, demand
from planner.optimize.optimizer import optimize
from planner.optimize.peak_bound import resource_bound, resource_peak_bounds
from planner.optimize.solve import Problem, baseline, build_problem
from planner.policy import Policy
from planner.rules import rules_for

SIZES = ((100, 2000, 1.5), (1000, 20000, 15.0), (5000, 30000, 45.0))
RESOURCES: tuple[Resource, ...] = ("cpu", "memory")
#: The issue's target for each peak: within this many points of its bound (min_gib_peak's margin).
PEAK_MARGIN = 2.0


def resource_use(cluster: Cluster, placement: Mapping[str, str], r: Resource) -> dict[str, int]:
    """What the guests on each host use of `r` under `placement` (a guest it leaves out stays home)."""
    out = dict.fromkeys(cluster.host_by_name, 0)
    for vm in cluster.vms:
        out[placement.get(vm.uuid, vm.host)] += demand(vm, r)
    return out


def _resource(
    p: Problem, placement: Mapping[str, str], r: Resource, bound: float, stuck: set[str]
) -> tuple[dict[str, Any], float]:
    cluster, hosts = p.cluster, p.receivers
    level = p.levels_pct.get(r)
    if level is None:  # a resource the policy does not weigh: its level all the same, for the report
        level = resource_bound(cluster, r, hosts, {u: True for u in stuck}, with_floor=False)
    caps = {h: capacity(cluster, h, r) for h in hosts}

    def above(use: Mapping[str, int]) -> float:
        return sum(max(0.0, use[h] - level / 100 * caps[h]) for h in hosts)

    before = above(resource_use(cluster, cluster.placement, r))
    use = resource_use(cluster, placement, r)
    fixed = dict.fromkeys(cluster.host_by_name, 0)
    for vm in cluster.vms:
        if vm.uuid in stuck:
            fixed[vm.host] += demand(vm, r)
    shares = [100.0 * use[h] / max(1, caps[h]) for h in hosts]
    mean = fmean(shares) if shares else 0.0
    row = {
        "peak": round(max(shares, default=0.0), 2),
        "bound": round(bound, 2),
        "spread": round(max(shares, default=0.0) - min(shares, default=0.0), 2),
        "cv": round(pstdev(shares) / mean, 4) if mean > 0 else 0.0,
        "excess_left_pct": round(100.0 * above(use) / before, 2) if before > 0 else 0.0,
        "excess_floor_pct": round(100.0 * above(fixed) / before, 2) if before > 0 else 0.0,
        "within_10_pct": round(100.0 * sum(abs(s - level) <= 10.0 for s in shares) / max(1, len(shares)), 1),
    }
    return row, before


def row(kind: str, p: Problem, seed: int, placement: Mapping[str, str], seconds: float) -> dict[str, Any]:
    """One benchmark row: the issue's fields for `placement` of `p.cluster`."""
    cluster = p.cluster
    stuck = {vm.uuid for vm in cluster.vms if not any(h != vm.host for h in p.dests[vm.uuid])}
    bounds = resource_peak_bounds(p)
    moved = [vm for vm in cluster.vms if placement[vm.uuid] != vm.host]
    out: dict[str, Any] = {
        "kind": kind,
        "hosts": len(cluster.hosts),
        "guests": len(cluster.vms),
        "seed": seed,
        "seconds": round(seconds, 2),
        "moves": len(moved),
        "gib_moved": round(sum(vm.memory_mib for vm in moved) / 1024, 1),
        "min_gib": 0.0,
        "min_gib_peak": 0.0,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    for r in RESOURCES:
        out[r], before = _resource(p, placement, r, bounds[r], stuck)
        if r == "memory":
            out["min_gib"] = round(before / 1024, 1)
    out["min_gib_peak"] = round(_min_mib_peak(p, bounds["memory"]) / 1024, 1)
    return out


def _min_mib_peak(p: Problem, bound: float) -> float:
    """What every host must give at least for memory to even out with its peak within PEAK_MARGIN of
    `bound`: its load above the level, or its guests that alone are above bound + margin of it (such a
    guest leaves, and the room it leaves below the level is filled by others), whichever is more."""
    cluster, level = p.cluster, p.levels_pct.get("memory", 0.0)
    use = resource_use(cluster, cluster.placement, "memory")
    forced = dict.fromkeys(cluster.host_by_name, 0)
    for vm in cluster.vms:
        if vm.memory_mib > (bound + PEAK_MARGIN) / 100 * capacity(cluster, vm.host, "memory"):
            forced[vm.host] += vm.memory_mib
    return sum(
        max(use[h] - level / 100 * capacity(cluster, h, "memory"), float(forced[h]), 0.0) for h in p.receivers
    )


def run(
    hosts: int,
    guests: int,
    seed: int,
    time_limit: float,
    policy: Policy | None = None,
    local_disk_share: float = 0.0,
) -> list[dict[str, Any]]:
    """The optimizer's row and the greedy baseline's row for one generated cluster."""
    cluster = generate(hosts, guests, seed, local_disk_share)
    policy = replace(policy or Policy(), time_limit_s=time_limit, seed=seed)
    start = time.monotonic()
    target = optimize(cluster, policy)
    took = time.monotonic() - start
    problem = build_problem(cluster, policy, rules_for(cluster, policy))
    rows = [row("optimizer", problem, seed, target.placement, took)]
    start = time.monotonic()
    greedy = baseline(problem, smart=False)
    rows.append(row("greedy", problem, seed, greedy, time.monotonic() - start))
    return rows


COLUMNS = (
    "kind",
    "hosts",
    "guests",
    "seed",
    "seconds",
    "moves",
    "gib_moved",
    "min_gib",
    "min_gib_peak",
    "peak_rss_mib",
)
PER_RESOURCE = ("peak", "bound", "excess_left_pct", "excess_floor_pct", "within_10_pct", "cv")


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table (per resource columns prefixed cpu_/mem_)."""
    heads = [*COLUMNS, *(f"{p}_{c}" for p in ("cpu", "mem") for c in PER_RESOURCE)]
    cells = [
        [str(r[c]) for c in COLUMNS] + [str(r[res][c]) for res in ("cpu", "memory") for c in PER_RESOURCE]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(lines)


def seed_range(seed: int, seeds: str | None) -> range:
    if not seeds:
        return range(seed, seed + 1)
    first, _, last = seeds.partition("-")
    return range(int(first), int(last or first) + 1)


@click.command()
@click.option("--hosts", type=int, default=None)
@click.option("--guests", type=int, default=None)
@click.option("--seed", type=int, default=0)
@click.option("--seeds", default=None, help="A range of seeds, A-B (inclusive).")
@click.option("--time-limit", type=float, default=None, help="Solver time limit (s).")
@click.option(
    "--local-disks", type=click.FloatRange(0, 1), default=0.0, help="Share of guests with a local disk."
)
@click.option(
    "--cpu-weight",
    type=click.IntRange(0, 100),
    default=1,
    help="policy.cpu_weight: 0 plans for memory alone (what evening CPU adds to gib_moved).",
)
@click.option("--threshold", type=click.IntRange(1, 5), default=None, help="policy.threshold (default 3).")
def main(
    hosts: int | None,
    guests: int | None,
    seed: int,
    seeds: str | None,
    time_limit: float | None,
    local_disks: float,
    cpu_weight: int,
    threshold: int | None,
) -> None:
    sizes = SIZES if hosts is None or guests is None else ((hosts, guests, time_limit or 10.0),)
    policy = Policy(cpu_weight=cpu_weight)
    if threshold is not None:
        policy = replace(policy, threshold=threshold)
    rows = []
    for h, g, limit in sizes:
        for s in seed_range(seed, seeds):
            rows += run(h, g, s, time_limit or limit, policy, local_disks)
    click.echo(table(rows))
    click.echo(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
