"""Ejection chains: relieve the hottest host when no single move can."""

from __future__ import annotations

from planner.optimize.eject import eject_peak
from planner.optimize.load_state import LoadState, Mover
from tests.builders import make_cluster, make_host, make_vm


def test_a_chain_makes_room_for_a_big_guest() -> None:
    # hot: 48 of 64 GiB (75%) in one guest; roomy: 40 of 128 GiB in ten small ones; spare: 16 of 64 GiB.
    hosts = [make_host("hot"), make_host("roomy", memory_mib=131072), make_host("spare")]
    big = make_vm("big", host="hot", memory_mib=49152, cpu_millicores=0)
    smalls = [make_vm(host="roomy", memory_mib=4096, cpu_millicores=0) for _ in range(10)]
    spare = make_vm(host="spare", memory_mib=16384, cpu_millicores=0)
    cluster = make_cluster(hosts, [big, *smalls, spare])
    dests = {v.uuid: ("hot", "roomy", "spare") for v in cluster.vms}
    state = LoadState(cluster, dict(cluster.placement), 1, 1)
    mover = Mover(state, None, None)
    before = state.score("hot")
    assert max(state.score(h, big, 1) for h in ("roomy", "spare")) > before  # no single move helps
    chains = eject_peak(mover, dests, {"hot", "roomy", "spare"}, frozenset())
    assert chains >= 1
    assert state.placement[big.uuid] == "roomy"
    assert max(state.score(h) for h in ("hot", "roomy", "spare")) < before
    assert any(state.placement[v.uuid] == "spare" for v in smalls)


def test_a_failed_chain_is_undone() -> None:
    hosts = [make_host("hot"), make_host("other")]
    big = make_vm("big", host="hot", memory_mib=49152, cpu_millicores=0)
    full = make_vm("full", host="other", memory_mib=40960, cpu_millicores=0)
    cluster = make_cluster(hosts, [big, full])
    state = LoadState(cluster, dict(cluster.placement), 1, 1)
    mover = Mover(state, None, None)
    assert eject_peak(mover, {v.uuid: ("hot", "other") for v in cluster.vms}, {"hot", "other"}, ()) == 0
    assert state.placement == cluster.placement and mover.moved == set()
