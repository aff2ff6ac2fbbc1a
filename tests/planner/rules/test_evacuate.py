from __future__ import annotations

from planner.policy import Policy
from planner.rules import Evacuate, check_all
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved


def test_check_flags_guests_left_behind_and_guests_moved_in_except_known_stays() -> None:
    a, b, c = make_vm(host="h1"), make_vm(host="h1"), make_vm(host="h2")
    cluster = make_cluster([make_host("h1"), make_host("h2")], [a, b, c])
    rule = Evacuate(hosts=frozenset({"h1"}))
    placement = {a.uuid: "h1", b.uuid: "h1", c.uuid: "h1"}
    assert len(rule.check(cluster, placement)) == 3
    found = check_all([rule], cluster, placement, stays=frozenset({b.uuid}))
    assert sorted(v.message for v in found) == [
        f"{a.name} is still on h1, which is being evacuated",
        f"{c.name} would move onto h1, which is being evacuated",
    ]


def test_solver_empties_the_host_and_spreads_its_guests() -> None:
    hosts = [make_host("h1"), make_host("h2"), make_host("h3")]
    vms = [make_vm(host="h1", memory_mib=8192) for _ in range(4)]
    target = solved(make_cluster(hosts, vms), Policy(time_limit_s=2.0, evacuate=("h1",)))
    dests = [target.placement[v.uuid] for v in vms]
    assert "h1" not in dests and dests.count("h2") == dests.count("h3") == 2
    assert target.stays == ()
