"""The makespan bound: no schedule within the budgets can finish sooner.

(The optimizer's bound, on the best peak, is planner/optimize/peak_bound.py.)

Each term is a floor on its own (every migration at its full path rate sends the least it can and is as
short as it can be): the longest single migration; per host, the bytes it sends or receives over its NIC
rate, after one set-up (no migration sends before its set-up is over); per host, its migrations' durations over how many may run there at once (and the same cluster-wide);
the longest chain of migrations that wait for each other (as this schedule ordered them); and, for any
order, the longest chain of waits that room and hops force (earliest.py), and each host's arrivals still to
cross its NIC when departures could first have made room for them.
"""

from __future__ import annotations

from planner.model import Cluster
from planner.schedule.earliest import earliest_finishes, room_waits
from planner.schedule.graph import Ordering
from planner.schedule.links import Links
from planner.schedule.timeline import chain_tails, full_cost


def lower_bounds(ordering: Ordering, net: Links, cluster: Cluster) -> dict[str, float]:
    """Each term of the bound, in seconds, keyed by what it measures."""
    if not ordering.legs:
        return {}
    full = [full_cost(leg, net) for leg in ordering.legs]
    sent_out = dict.fromkeys(net.nic_mibps, 0.0)
    sent_in = dict.fromkeys(net.nic_mibps, 0.0)
    busy_out = dict.fromkeys(net.nic_mibps, 0.0)
    busy_in = dict.fromkeys(net.nic_mibps, 0.0)
    for leg, cost in zip(ordering.legs, full, strict=True):
        sent_out[leg.source] += cost.sent_mib
        sent_in[leg.destination] += cost.sent_mib
        busy_out[leg.source] += cost.duration_s
        busy_in[leg.destination] += cost.duration_s
    finish = earliest_finishes(cluster, ordering.legs, net)
    return {
        "longest migration": max(c.duration_s for c in full),
        "busiest NIC": net.limits.setup_s
        + max(
            *(sent / net.nic_mibps[h] for h, sent in sent_out.items()),
            *(sent / net.nic_mibps[h] for h, sent in sent_in.items()),
        ),
        "per-host concurrency": max(
            *(busy / net.max_out for busy in busy_out.values()),
            *(busy / net.max_in for busy in busy_in.values()),
        ),
        "cluster concurrency": sum(c.duration_s for c in full) / net.max_total,
        "dependency chain": max(chain_tails(ordering, net)),
        "room chain": max(finish),
        "room waits": room_waits(cluster, ordering.legs, net, finish),
    }


def lower_bound(ordering: Ordering, net: Links, cluster: Cluster) -> float:
    return max(lower_bounds(ordering, net, cluster).values(), default=0.0)
