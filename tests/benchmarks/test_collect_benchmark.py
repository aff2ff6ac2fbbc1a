"""The collection benchmark's target: 500 hosts x 40 guests at 20 ms per libvirt call in under 10 s."""

from __future__ import annotations

import time

from benchmarks.collect import fake_cluster
from collectors.collect import collect_cluster


def test_500_hosts_of_40_guests_at_20ms_per_call_under_10s() -> None:
    world, config = fake_cluster(hosts=500, guests=40, latency_s=0.02, signatures=6)
    start = time.monotonic()
    cluster = collect_cluster(config, opener=world.open)
    took = time.monotonic() - start
    assert (len(cluster.hosts), len(cluster.vms), len(cluster.cpu_signatures)) == (500, 20_000, 6)
    assert all(h.state == "active" for h in cluster.hosts)
    assert world.calls["Connection.compareHypervisorCPU"] == 500 * 6  # hosts x signatures, not guests
    assert world.calls["Connection.getAllDomainStats"] == 2 * 500
    assert took < 10, took
