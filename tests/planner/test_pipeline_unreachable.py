"""make_plan over a snapshot with an unreachable host whose last-known guests are listed as unknown.

Their host gets nothing and they stay; their memory counts on their own host only, which no capacity
rule or balance measure weighs (the host receives nothing and is not among the balanced hosts).
"""

from __future__ import annotations

from typing import Literal

import pytest

from planner.codec import plan_from_json, plan_to_json
from planner.load import balance
from planner.model import Cluster, HostState, VmState
from planner.pipeline import make_plan
from planner.policy import Budgets, Policy
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024
NOW = "2026-11-26T06:00:00+00:00"
WHY = "host h2 unreachable: Cannot recv data; last seen 2026-11-26T05:00:00+00:00"


def _with_dead_h2() -> Cluster:
    """h1 busy, h3 empty, h2 unreachable (no sizes: it did not answer) with two big unknown guests."""
    hosts = [
        make_host("h1", cpus=8, memory_mib=32 * GIB),
        make_host("h2", cpus=0, memory_mib=0, state=HostState.UNREACHABLE, error="Cannot recv data"),
        make_host("h3", cpus=8, memory_mib=32 * GIB),
    ]
    busy = [make_vm(f"v{i}", "h1", memory_mib=4 * GIB, cpu_millicores=1500) for i in range(6)]
    unknown = [
        make_vm(
            f"u{i}",
            "h2",
            memory_mib=24 * GIB,
            cpu_millicores=0,
            state=VmState.UNKNOWN,
            migratable=False,
            unmigratable_reason=WHY,
        )
        for i in range(2)
    ]
    return make_cluster(hosts, [*busy, *unknown], notes=("h2 unreachable: 2 guests last seen ...",))


@pytest.mark.parametrize(
    ("goal", "evacuate"),
    [pytest.param("rebalance", (), id="rebalance"), pytest.param("evacuate", ("h1",), id="evacuate-h1")],
)
def test_unknown_guests_stay_and_their_host_gets_nothing(
    goal: Literal["rebalance", "evacuate"], evacuate: tuple[str, ...]
) -> None:
    cluster = _with_dead_h2()
    plan = make_plan(cluster, Policy(evacuate=evacuate, time_limit_s=5), Budgets(), goal=goal, now=NOW)
    assert plan.migrations
    assert all("h2" not in (m.source, m.destination) for m in plan.migrations)
    unknown = {v.uuid for v in cluster.vms if v.host == "h2"}
    assert {s.vm_uuid for s in plan.stays if s.rule == "Unmigratable"} == unknown
    assert all("h2 is unreachable" in s.reason for s in plan.stays if s.vm_uuid in unknown)
    assert {u: plan.target[u] for u in unknown} == dict.fromkeys(unknown, "h2")
    after = {hl.host: hl for hl in plan.after}
    assert after["h2"].memory_mib == 48 * GIB and after["h2"].guests == 2  # shown, as they were last seen
    # h2's 48 GiB over its capacity of 0 neither blocks the plan nor weighs in the balance
    balanced = [hl for hl in plan.before if hl.host != "h2" and hl.host not in evacuate]
    assert plan.balance_before == balance(balanced)
    assert plan.balance_after == balance(
        [hl for hl in plan.after if hl.host != "h2" and hl.host not in evacuate]
    )


def test_the_plan_keeps_the_snapshots_notes() -> None:
    plan = make_plan(_with_dead_h2(), Policy(time_limit_s=5), Budgets(), now=NOW)
    again = plan_from_json(plan_to_json(plan))
    assert again.snapshot.notes == ("h2 unreachable: 2 guests last seen ...",)
    assert again.snapshot.vm_by_name["u0"].state is VmState.UNKNOWN
