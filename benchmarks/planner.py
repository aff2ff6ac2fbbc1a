"""Planner benchmark: `python -m benchmarks.planner --hosts H --guests G --seed S`.

Without --hosts/--guests it runs the issue's three sizes (100/2,000, 1,000/20,000, 5,000/30,000) with
time limits that fit their targets (2 s, 20 s, 60 s). For each size it runs the optimizer and the greedy
baseline on the same generated cluster and prints a table, then the same numbers as JSON: time, peak,
spread and CV before and after, moves, GiB moved, the lower bound on the peak and the gap to it, and the
process's peak memory so far.
"""

from __future__ import annotations

import json
import resource
import time
from typing import Any

import click

from benchmarks.generator import generate
from planner.load import balance, host_loads
from planner.model import Cluster
from planner.optimize.optimizer import optimize
from planner.optimize.solve import baseline, build_problem
from planner.policy import Policy
from planner.rules import rules_for

DEFAULT_MOVE_COST = Policy().move_cost_per_gib
SIZES = ((100, 2000, 1.2), (1000, 20000, 14.0), (5000, 30000, 45.0))


def _row(
    kind: str, cluster: Cluster, placement: dict[str, str], receivers: set[str], seconds: float, bound: float
) -> dict[str, Any]:
    before = balance(h for h in host_loads(cluster, cluster.placement) if h.host in receivers)
    after = balance(h for h in host_loads(cluster, placement) if h.host in receivers)
    moved = [vm for vm in cluster.vms if placement[vm.uuid] != vm.host]
    return {
        "kind": kind,
        "hosts": len(cluster.hosts),
        "guests": len(cluster.vms),
        "seconds": round(seconds, 2),
        "peak_before": before.peak_pct,
        "peak_after": after.peak_pct,
        "spread_before": before.spread_pct,
        "spread_after": after.spread_pct,
        "cv_before": before.cv,
        "cv_after": after.cv,
        "moves": len(moved),
        "gib_moved": round(sum(vm.memory_mib for vm in moved) / 1024, 1),
        "bound": round(bound, 2),
        "gap": round(after.peak_pct - bound, 2),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def run(
    hosts: int, guests: int, seed: int, time_limit: float, move_cost_per_gib: float = DEFAULT_MOVE_COST
) -> list[dict[str, Any]]:
    cluster = generate(hosts, guests, seed)
    policy = Policy(time_limit_s=time_limit, seed=seed, move_cost_per_gib=move_cost_per_gib)
    start = time.monotonic()
    target = optimize(cluster, policy)
    took = time.monotonic() - start
    receivers = {h.name for h in cluster.hosts if h.accepts_guests}
    rows = [_row("optimizer", cluster, dict(target.placement), receivers, took, target.peak_lower_bound_pct)]
    start = time.monotonic()
    problem = build_problem(cluster, policy, rules_for(cluster, policy))
    greedy = baseline(problem, smart=False)
    rows.append(
        _row("greedy", cluster, greedy, receivers, time.monotonic() - start, target.peak_lower_bound_pct)
    )
    rows[0]["status"] = target.status
    return rows


COLUMNS = (
    "kind",
    "hosts",
    "guests",
    "seconds",
    "peak_before",
    "peak_after",
    "spread_after",
    "cv_before",
    "cv_after",
    "moves",
    "gib_moved",
    "bound",
    "gap",
    "peak_rss_mib",
)


@click.command()
@click.option("--hosts", type=int, default=None)
@click.option("--guests", type=int, default=None)
@click.option("--seed", type=int, default=0)
@click.option("--time-limit", type=float, default=None, help="Solver time limit (s).")
@click.option(
    "--move-cost-per-gib",
    type=float,
    default=DEFAULT_MOVE_COST,
    show_default=True,
    help="Points of imbalance one GiB moved costs (lower: balance harder, move more).",
)
def main(
    hosts: int | None, guests: int | None, seed: int, time_limit: float | None, move_cost_per_gib: float
) -> None:
    sizes = SIZES if hosts is None or guests is None else ((hosts, guests, time_limit or 10.0),)
    rows = []
    for h, g, limit in sizes:
        rows += run(h, g, seed, time_limit or limit, move_cost_per_gib)
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS]
    click.echo("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    for r in rows:
        click.echo("  ".join(str(r[c]).ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    click.echo(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
