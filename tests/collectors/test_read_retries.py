"""A transient failure while reading a host is retried with backoff, on a new connection, within the
host's deadline; a permanent one is not; a host that keeps failing is reported unreachable with its error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collectors import constants as c
from collectors.collect import READ_BACKOFF_S, collect_cluster, read_with_retries
from collectors.seam import VirtError
from planner.model import HostState
from tests.collectors.test_collect import config_for
from tests.fakes.world import FakeConnection, FakeWorld


class Flaky:
    """An opener whose connections to `host` fail `method` with `error` the first `times` calls."""

    def __init__(self, world: FakeWorld, host: str, method: str, error: VirtError, times: int) -> None:
        self.world, self.host, self.method, self.error, self.left = world, host, method, error, times
        self.opened: list[str] = []

    def __call__(self, uri: str) -> Any:
        conn = self.world.open(uri)
        self.opened.append(conn.host.name)
        return _FlakyConnection(conn, self) if conn.host.name == self.host else conn


class _FlakyConnection:
    def __init__(self, conn: FakeConnection, flaky: Flaky) -> None:
        self._conn, self._flaky = conn, flaky

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._conn, name)
        if name != self._flaky.method:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._flaky.left > 0:
                self._flaky.left -= 1
                raise self._flaky.error
            return attr(*args, **kwargs)

        return call


RESET = VirtError("Cannot recv data: Connection reset by peer", c.VIR_ERR_SYSTEM_ERROR)
RPC = VirtError("RPC error", c.VIR_ERR_RPC)
LOCKED = VirtError(
    "Timed out during operation: cannot acquire state change lock", c.VIR_ERR_OPERATION_TIMEOUT
)
AUTH = VirtError("authentication failed", 45)


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    for name in ("h1", "h2"):
        w.add_host(name)
    w.add_domain("h1", "a")
    w.add_domain("h2", "b")
    return w


@pytest.mark.parametrize("error", [RESET, RPC, LOCKED], ids=["reset", "rpc", "lock"])
@pytest.mark.parametrize("method", ["getAllDomainStats", "getCapabilities", "listAllDomains"])
def test_a_blip_while_reading_is_read_again(
    world: FakeWorld, tmp_path: Path, method: str, error: VirtError
) -> None:
    opener = Flaky(world, "h2", method, error, times=1)
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=opener)
    assert {h.name: h.state for h in cluster.hosts} == {"h1": HostState.ACTIVE, "h2": HostState.ACTIVE}
    assert sorted(v.name for v in cluster.vms) == ["a", "b"]
    assert opener.opened.count("h2") == 2  # on a new connection


def test_a_permanent_error_is_not_tried_again(world: FakeWorld, tmp_path: Path) -> None:
    opener = Flaky(world, "h2", "getCapabilities", AUTH, times=1)
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=opener)
    (h2,) = [h for h in cluster.hosts if h.name == "h2"]
    assert h2.state is HostState.UNREACHABLE and "authentication failed" in (h2.error or "")
    assert opener.opened.count("h2") == 1


def test_a_host_that_keeps_failing_is_unreachable_after_each_backoff(
    world: FakeWorld, tmp_path: Path
) -> None:
    opener = Flaky(world, "h2", "getCapabilities", RESET, times=10)
    settings = config_for(world, tmp_path, timeout_s=10.0).collect_settings()
    (hc,) = [h for h in settings.hosts if h.name == "h2"]
    pauses: list[float] = []
    with pytest.raises(VirtError, match="Connection reset"):
        read_with_retries(opener, hc, settings, 60.0, sleep=pauses.append)
    assert pauses == list(READ_BACKOFF_S) and opener.opened.count("h2") == len(READ_BACKOFF_S) + 1


def test_no_retry_that_would_end_past_the_deadline(world: FakeWorld, tmp_path: Path) -> None:
    opener = Flaky(world, "h2", "getCapabilities", RESET, times=10)
    settings = config_for(world, tmp_path).collect_settings()
    (hc,) = [h for h in settings.hosts if h.name == "h2"]
    now = [0.0]

    def clock() -> float:  # every attempt takes 1 s
        now[0] += 0.5
        return now[0]

    pauses: list[float] = []
    with pytest.raises(VirtError):
        read_with_retries(opener, hc, settings, 3.0, sleep=pauses.append, clock=clock)
    assert pauses == [READ_BACKOFF_S[0]]  # a second pause and attempt would end after 3 s
