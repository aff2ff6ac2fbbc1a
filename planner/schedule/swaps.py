"""Temporary hops worth trying up front: guests swapped between hosts that lack room for them.

with_hops (graph.py) plans a hop only where moving one guest at a time gets stuck, and the timeline only
when nothing runs and nothing fits. A swap between two hosts can often wait instead, for other departures
to make room on one side: that never gets stuck, but it chains the swap's two legs behind those departures
and behind each other, where a hop through a host with room now lets both sides move at once. Which of
these pays off depends on the rest of the timeline, so these are only candidates: the timeline tries each
and keeps it where the plan ends sooner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from planner.model import Cluster
from planner.schedule.graph import Leg, _host_with_room, progress
from planner.schedule.room import limits, need, usage

if TYPE_CHECKING:
    from planner.rules.rule import Rule


def swap_hops(
    cluster: Cluster, legs: Sequence[Leg], follows: Mapping[int, int], rules: Sequence[Rule]
) -> list[tuple[str, str]]:
    """(guest UUID, host to go through first) for one guest of each swapped pair, the biggest first.

    A pair is two legs that exchange guests between two hosts, each lacking room on arrival when the plan
    starts (the host's limit minus every guest placed there); of the two, the smaller guest (else the
    other) goes through the roomiest host that can take it and where waiting keeps every hard rule of
    `rules`, as graph.unblock would choose.
    """
    held, cap = usage(cluster), limits(cluster)
    start = progress(legs, (), range(len(legs)))
    routes: dict[tuple[str, str], list[int]] = {}
    for i, leg in enumerate(legs):
        if leg.temporary or i in follows:
            continue
        if not need(leg.vm).fits_in(cap[leg.destination] - held[leg.destination]):
            routes.setdefault((leg.source, leg.destination), []).append(i)
    pairs: list[tuple[Leg, Leg]] = []
    for (a, b), there in routes.items():
        if a < b:
            back = routes.get((b, a), [])
            biggest = sorted(there, key=lambda i: -legs[i].vm.memory_mib)
            pairs += zip(
                (legs[i] for i in biggest),
                (legs[j] for j in sorted(back, key=lambda j: -legs[j].vm.memory_mib)),
                strict=False,
            )
    out = []
    for pair in sorted(pairs, key=lambda p: -max(leg.vm.memory_mib for leg in p)):
        for leg in sorted(pair, key=lambda g: (g.vm.memory_mib, g.vm.name)):
            via = _host_with_room(cluster, leg, held, rules, start)
            if via is not None:
                held[via] = held[via] + need(leg.vm)
                out.append((leg.vm.uuid, via))
                break
    return out
