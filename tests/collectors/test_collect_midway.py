"""A host that answers the first calls and then dies: it is reported unreachable, its connection is
closed, and the other hosts are collected as if nothing happened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collectors.collect import collect_cluster
from planner.model import HostState
from tests.collectors.test_collect import config_for
from tests.fakes.world import FakeConnection, FakeWorld


class DiesAt(FakeConnection):
    """A connection whose host dies the moment `method` is called the `nth` time."""

    opened: list[DiesAt] = []

    def __init__(self, host: Any, method: str, nth: int) -> None:
        super().__init__(host)
        self.method, self.left = method, nth
        DiesAt.opened.append(self)

    def _call(self, method: str) -> None:
        if method == self.method:
            self.left -= 1
            if self.left == 0:
                self.host.alive = False
        super()._call(method)


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    for name in ("h1", "h2"):
        w.add_host(name, cpus=16, memory_mib=65536)
        w.add_domain(name, f"{name}-guest", memory_mib=2048)
    return w


@pytest.mark.parametrize(
    ("method", "nth"),
    [("getAllDomainStats", 1), ("getInfo", 1), ("getAllDomainStats", 2), ("listAllDomains", 1)],
    ids=["first-stats", "host-facts", "second-cpu-reading", "guest-list"],
)
def test_host_dying_mid_collect_is_unreachable(
    world: FakeWorld, tmp_path: Path, method: str, nth: int
) -> None:
    DiesAt.opened.clear()

    def opener(uri: str) -> FakeConnection:
        host = world.host_for(uri)
        return DiesAt(host, method, nth) if host.name == "h2" else FakeConnection(host)

    cluster = collect_cluster(config_for(world, tmp_path, interval_s=0.1).collect_settings(), opener=opener)
    h1, h2 = cluster.host_by_name["h1"], cluster.host_by_name["h2"]
    assert h1.state is HostState.ACTIVE
    assert h2.state is HostState.UNREACHABLE
    assert h2.error is not None and "Connection reset by peer" in h2.error
    assert {v.name for v in cluster.vms if v.host == "h1"} == {"h1-guest"}
    assert cluster.source == "libvirt: 1 of 2 hosts answered"
    assert all(c.closed for c in DiesAt.opened)
