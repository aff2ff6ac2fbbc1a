"""How long `readiness` takes on a simulated cluster: one evacuation plan per host, on one snapshot.

    python -m benchmarks.readiness --hosts 100 --guests 2000 [--time-limit 1.0]

Prints one JSON row: hosts, guests, the per-host solver limit, total seconds, the slowest host's plan,
how many hosts can be emptied, and the N+1 verdict per resource.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import click

from benchmarks.generator import generate
from planner.pipeline import make_plan
from planner.plan import Plan
from planner.policy import Budgets, Policy
from virt_rebalance.jobs.readiness import PER_HOST_TIME_LIMIT_S, Readiness, assess


def measure(hosts: int, guests: int, time_limit_s: float, seed: int = 0) -> tuple[Readiness, float]:
    cluster = generate(hosts, guests, seed)
    policy = Policy(time_limit_s=time_limit_s, seed=seed)
    budgets = Budgets(host_nic_mibps={h.name: h.nic_mibps for h in cluster.hosts})

    def plan_one(host: str) -> Plan:
        return make_plan(cluster, replace(policy, evacuate=(host,)), budgets, goal="evacuate")

    start = time.monotonic()
    result = assess(cluster, plan_one)
    return result, time.monotonic() - start


@click.command()
@click.option("--hosts", type=int, default=100, show_default=True)
@click.option("--guests", type=int, default=2000, show_default=True)
@click.option("--time-limit", type=float, default=PER_HOST_TIME_LIMIT_S, show_default=True)
@click.option("--seed", type=int, default=0)
def main(hosts: int, guests: int, time_limit: float, seed: int) -> None:
    result, took = measure(hosts, guests, time_limit, seed)
    slowest = max(result.hosts, key=lambda h: h.plan_s)
    row = {
        "hosts": hosts,
        "guests": guests,
        "time_limit_s": time_limit,
        "seconds": round(took, 2),
        "slowest_host_s": slowest.plan_s,
        "mean_host_s": round(sum(h.plan_s for h in result.hosts) / len(result.hosts), 3),
        "evacuable": len(result.evacuable),
        "headroom": {x.resource: x.ok for x in result.headroom},
    }
    click.echo(json.dumps(row))


if __name__ == "__main__":
    main()
