"""Every call the executor makes on a host ends within its deadline; a hung host costs one timeout."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from collectors.connect import describe_error, open_connection
from collectors.seam import VirtError
from executor.connections import Connections
from executor.deadline import Gate, HostTimeout, bounded
from tests.tarpit import tarpit


class _Domain:
    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def UUIDString(self) -> str:
        return "u1"

    def info(self) -> list[int]:
        self.release.wait(10)
        return [1, 1024, 1024, 1, 0]

    def migrateToURI3(self, dconnuri: str, params: dict[str, Any], flags: int = 0) -> int:
        self.release.wait(10)
        return 0


class _Conn:
    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def listAllDomains(self, flags: int = 0) -> list[_Domain]:
        return [_Domain(self.release)]

    def getHostname(self) -> str:
        raise ValueError("boom")

    def close(self) -> int:
        return 0


def test_a_call_past_its_deadline_raises_and_the_host_fails_fast_until_it_answers() -> None:
    release = threading.Event()
    gate = Gate("h1", 0.2)
    conn = bounded(_Conn(release), gate)
    (dom,) = conn.listAllDomains()
    t0 = time.monotonic()
    with pytest.raises(HostTimeout, match=r"h1 did not answer info within 0\.2s"):
        dom.info()
    assert 0.2 <= time.monotonic() - t0 < 1.0
    t1 = time.monotonic()
    with pytest.raises(HostTimeout, match="h1 does not answer"):
        conn.listAllDomains()
    assert time.monotonic() - t1 < 0.1 and not gate.answering
    release.set()
    time.sleep(0.05)
    assert gate.answering and dom.info()[1] == 1024


def test_errors_pass_through_and_migrate_calls_have_no_deadline() -> None:
    release = threading.Event()
    conn = bounded(_Conn(release), Gate("h1", 0.1))
    with pytest.raises(ValueError, match="boom"):
        conn.getHostname()
    (dom,) = conn.listAllDomains()
    threading.Timer(0.3, release.set).start()
    assert dom.migrateToURI3("qemu:///x", {}) == 0  # waited 0.3 s, past the 0.1 s deadline


@pytest.mark.parametrize("opener", [open_connection, None], ids=["libvirt", "hang"])
def test_opening_a_host_that_never_answers_ends_within_the_deadline(opener: Any) -> None:
    never = threading.Event()

    def hang(uri: str) -> Any:
        never.wait(10)

    with tarpit() as port:
        uri = f"qemu+tcp://127.0.0.1:{port}/system"
        conns = Connections({"h1": uri}, opener or hang, describe_error, timeout_s=0.5)
        t0 = time.monotonic()
        assert conns.reach({"h1"}) == {"h1": "h1 did not answer open within 0.5s"}
        assert time.monotonic() - t0 < 1.5
        assert "h1" not in conns and conns.opened == ()
    never.set()


def test_a_failed_open_is_retried_then_tried_again_after_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("executor.connections.OPEN_BACKOFF_S", (0.0, 0.0))
    attempts: list[str] = []
    release = threading.Event()

    def flaky(uri: str) -> Any:
        attempts.append(uri)
        if len(attempts) in (1, 2, 4, 5, 6):  # a blip, then an outage, then back
            raise VirtError("reset by peer")
        return _Conn(release)

    conns = Connections({"h1": "x://h1"}, flaky, lambda e, u: str(e), retry_after_s=0.2)
    assert conns.reach({"h1"}) == {} and len(attempts) == 3
    conns.close()
    assert conns.reach({"h1"}) == {"h1": "reset by peer"} and len(attempts) == 6
    assert "h1" not in conns and len(attempts) == 6  # not again before retry_after_s
    time.sleep(0.25)
    assert "h1" in conns and len(attempts) == 7
