"""Connections open on first use; the plan's hosts up front, others only when a guest is looked for."""

from __future__ import annotations

from pathlib import Path

from executor.connections import Connections
from tests.executor.harness import Lab, statuses


def test_opens_on_first_use_and_remembers_failures(tmp_path: Path) -> None:
    lab = Lab(tmp_path, hosts=3)
    lab.world.hosts["h3"].alive = False
    conns = Connections({n: h.uri for n, h in lab.world.hosts.items()}, lab.world.open, lambda e, u: str(e))
    assert conns.opened == ()
    assert conns.reach({"h1", "h3"}).keys() == {"h3"}
    assert conns.opened == ("h1",)
    assert sorted(conns) == ["h1", "h2"] and "reset by peer" in conns.errors["h3"]
    conns.close()
    assert conns.opened == ()


def test_a_run_opens_only_the_plans_hosts(tmp_path: Path) -> None:
    lab = Lab(tmp_path, hosts=4)
    lab.guest("a", "h1")
    report = lab.apply(lab.plan(lab.move("m1", "a", "h1", "h2")))
    assert statuses(report) == {"m1": "done"}
    assert lab.world.calls["open"] == 2
