"""Guests with one candidate are constants in the model: forbidding their only host is a named conflict,
forbidding any other host changes nothing."""

from __future__ import annotations

import pytest

from planner.optimize.encoding import Encoding
from planner.rules import Evacuate
from tests.builders import make_cluster, make_host, make_vm


@pytest.mark.parametrize(
    ("domain", "forbidden", "status", "named", "ends_on"),
    [
        (("h1",), "h1", "infeasible", True, None),
        (("h1",), "h2", "optimal", False, "h1"),
        (("h1", "h2"), "h1", "optimal", False, "h2"),
    ],
    ids=["only-host-forbidden", "other-host-forbidden", "variable-guest-moves"],
)
def test_forbid(
    domain: tuple[str, ...], forbidden: str, status: str, named: bool, ends_on: str | None
) -> None:
    vm = make_vm(host="h1", memory_mib=1024)
    cluster = make_cluster([make_host("h1"), make_host("h2")], [vm])
    rule = Evacuate(hosts=frozenset({"h1"}))
    enc = Encoding(cluster, {vm.uuid: domain}, explain=True)
    enc.forbid(rule, vm.uuid, forbidden)
    enc.minimize([])
    sol = enc.solve(1.0, 0, 2)
    assert sol.status == status
    assert list(sol.conflicts) == ([rule] if named else [])
    if ends_on is not None:
        assert sol.placement[vm.uuid] == ends_on
