"""The collection benchmark's set-up, checked for what it promises: libvirt calls grow with hosts x CPU
signatures, not with guests. The time target (500 x 40 at 20 ms/call under 10 s) is measured by
`python -m benchmarks.collect`, not asserted here: a timed unit test fails on a busy machine."""

from __future__ import annotations

from benchmarks.collect import fake_cluster
from collectors.collect import collect_cluster


def test_round_trips_grow_with_hosts_and_signatures_not_guests() -> None:
    world, config = fake_cluster(hosts=50, guests=40, latency_s=0.0, signatures=6)
    cluster = collect_cluster(config.collect_settings(), opener=world.open)
    assert (len(cluster.hosts), len(cluster.vms), len(cluster.cpu_signatures)) == (50, 2_000, 6)
    assert all(h.state == "active" for h in cluster.hosts)
    assert world.calls["Connection.compareHypervisorCPU"] == 50 * 6  # hosts x signatures, not guests
    # two readings per host, and again for a host whose reading came late on a busy machine
    assert 2 * 50 <= world.calls["Connection.getAllDomainStats"] <= 3 * 50
