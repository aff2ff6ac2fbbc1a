"""On real libvirt hosts: a host whose libvirt socket is briefly away (a blip: libvirtd restarting) is read
on the next attempt, not reported unreachable; one away for longer than the retries is reported with the
error libvirt gave."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from collectors.collect import collect_cluster
from collectors.connect import open_connection
from collectors.seam import VirtError
from planner.model import HostState
from tests.collectors.test_collect_lab import lab_config
from tests.lab_fixture import MakeLab
from virt_rebalance.lab import GuestSpec, Lab

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(make_lab: MakeLab) -> Lab:
    lab = make_lab(hosts=2)
    lab.add_guest(GuestSpec("idle", memory_mib=128, host="h2"))
    return lab


def socket_of(lab: Lab, host: str) -> Path:
    return Path(parse_qs(urlparse(lab.uri(host)).query)["socket"][0])


class AwayOnce:
    """An opener for which h2's socket is away until `back_after` failed opens, then put back."""

    def __init__(self, socket: Path, back_after: int) -> None:
        self.socket, self.back_after = socket, back_after
        self.hidden = socket.with_name(socket.name + ".away")
        self.failures: list[str] = []
        socket.rename(self.hidden)

    def __call__(self, uri: str) -> Any:
        try:
            return open_connection(uri)
        except VirtError as exc:
            if str(self.socket) in uri:
                self.failures.append(str(exc))
                if len(self.failures) >= self.back_after:
                    self.restore()
            raise

    def restore(self) -> None:
        if self.hidden.exists():
            self.hidden.rename(self.socket)


def test_a_blip_is_read_again(lab: Lab, tmp_path: Path) -> None:
    opener = AwayOnce(socket_of(lab, "h2"), back_after=1)
    try:
        t0 = time.monotonic()
        cluster = collect_cluster(lab_config(lab, tmp_path, interval_s=1.0).collect_settings(), opener=opener)
        took = time.monotonic() - t0
    finally:
        opener.restore()
    print(f"h2 away for one open ({opener.failures[0]}): collected in {took:.1f}s")
    assert len(opener.failures) == 1
    assert {h.name: h.state for h in cluster.hosts} == {"h1": HostState.ACTIVE, "h2": HostState.ACTIVE}
    assert "idle" in {v.name for v in cluster.vms}


def test_a_host_away_longer_than_the_retries_is_unreachable_with_the_reason(lab: Lab, tmp_path: Path) -> None:
    opener = AwayOnce(socket_of(lab, "h2"), back_after=99)
    try:
        cluster = collect_cluster(lab_config(lab, tmp_path, interval_s=1.0).collect_settings(), opener=opener)
    finally:
        opener.restore()
    assert len(opener.failures) == 3  # the first attempt and one after each pause
    (h2,) = [h for h in cluster.hosts if h.name == "h2"]
    assert h2.state is HostState.UNREACHABLE and "libvirt-sock" in (h2.error or "")
