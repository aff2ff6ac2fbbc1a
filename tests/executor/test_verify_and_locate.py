"""After a migration: did the guest end up as a finished migration leaves it, and where is it now."""

from __future__ import annotations

from typing import Any

import pytest

from collectors import constants as c
from collectors.seam import VirtError
from executor.locate import find_domain, sight, where_is
from executor.verify import completed_mib, verify_moved
from tests.builders import make_migration
from tests.fakes.world import FakeConnection, FakeWorld

UUID = "11111111-2222-3333-4444-555555555555"


def world_with(source: dict[str, Any] | None, destination: dict[str, Any] | None) -> FakeWorld:
    """h1 (source) and h2 (destination), with a copy of guest `a` on each where given."""
    w = FakeWorld()
    for host, fields in (("h1", source), ("h2", destination)):
        w.add_host(host)
        if fields is not None:
            w.add_domain(host, "a", vm_uuid=UUID, **fields)
    return w


def conns(w: FakeWorld) -> dict[str, FakeConnection]:
    return {name: w.open(h.uri) for name, h in w.hosts.items()}


MOVE = make_migration(vm_uuid=UUID, vm_name="a", memory_mib=100)


@pytest.mark.parametrize(
    ("source", "destination", "expect_running", "problems", "notes"),
    [
        (None, {}, True, [], []),
        (None, None, True, ["a is not on h2"], []),
        (None, {"run_state": c.VIR_DOMAIN_PAUSED}, True, ["a is not running on h2 (libvirt state 3)"], []),
        (None, {"run_state": c.VIR_DOMAIN_PAUSED}, False, [], []),
        (None, {"persistent": False}, True, ["a is not persistent on h2"], []),
        ({}, {}, True, ["a is still active on h1"], []),
        ({"run_state": c.VIR_DOMAIN_SHUTOFF}, {}, True, [], ["shut-off definition of a on h1"]),
    ],
    ids=[
        "moved", "missing-on-destination", "paused-on-destination", "paused-as-asked", "transient",
        "still-on-source", "leftover-definition",
    ],
)  # fmt: skip
def test_verify_moved(
    source: dict[str, Any] | None,
    destination: dict[str, Any] | None,
    expect_running: bool,
    problems: list[str],
    notes: list[str],
) -> None:
    verdict = verify_moved(MOVE, conns(world_with(source, destination)), expect_running)
    assert verdict.moved is (not problems)
    assert list(verdict.problems) == problems
    assert len(verdict.notes) == len(notes)
    assert all(words in note for words, note in zip(notes, verdict.notes, strict=True))


def test_completed_mib_is_none_without_a_domain_or_when_the_call_fails() -> None:
    w = world_with(None, {"fail": {"jobStats"}})
    dom = find_domain(conns(w)["h2"], UUID)
    assert completed_mib(None) is None
    assert completed_mib(dom) is None


def test_find_domain_raises_when_the_host_is_dead_but_not_when_the_guest_is_absent() -> None:
    w = world_with({}, None)
    c2 = conns(w)
    assert find_domain(c2["h2"], UUID) is None
    w.hosts["h1"].alive = False
    with pytest.raises(VirtError, match="Connection reset"):
        find_domain(c2["h1"], UUID)
    with pytest.raises(VirtError):
        where_is(UUID, c2)


@pytest.mark.parametrize(
    ("fields", "described", "job"),
    [
        ({}, "h1 (running)", False),
        ({"persistent": False, "job_type": c.VIR_DOMAIN_JOB_UNBOUNDED}, "h1 (running, transient)", True),
        ({"run_state": c.VIR_DOMAIN_PAUSED}, "h1 (active, not running)", False),
        ({"run_state": c.VIR_DOMAIN_SHUTOFF}, "h1 (shut off)", False),
        ({"fail": {"jobInfo"}}, "h1 (running)", False),
    ],
    ids=["running", "transient-with-job", "paused", "shut-off", "job-query-fails"],
)
def test_sighting(fields: dict[str, Any], described: str, job: bool) -> None:
    w = world_with(fields, None)
    dom = find_domain(conns(w)["h1"], UUID)
    assert dom is not None
    seen = sight("h1", dom)
    assert (seen.describe(), seen.job) == (described, job)
    assert where_is(UUID, conns(w)) == {"h1": seen}
