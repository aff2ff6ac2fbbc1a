"""Where guests were last seen: an unreachable host's guests come back from the history as unknown."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.collect import collect_cluster
from collectors.history import History
from collectors.last_seen import Reading, stand_ins
from planner.codec import cluster_from_json, cluster_to_json
from planner.model import Cluster, HostState, VmState
from tests.builders import make_vm
from tests.collectors.test_collect import config_for
from tests.fakes.world import FakeWorld

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
RESET = "Cannot recv data: Connection reset by peer"


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    w.add_host("h1")
    w.add_host("h2")
    w.add_host("h3")
    w.add_domain("h1", "web", vcpus=2, memory_mib=4096)
    w.add_domain("h2", "db", vcpus=4, memory_mib=8192, cpu_xml="<cpu mode='host-model'/>")
    w.add_domain("h2", "cache", vcpus=1, memory_mib=1024, domain_type="qemu")
    return w


def _nothing(w: FakeWorld) -> None:
    pass


def _cache_moves_to_h1(w: FakeWorld) -> None:
    w.place(w.hosts["h2"].domains[_uuid(w, "cache")], w.hosts["h1"])


def _uuid(w: FakeWorld, name: str) -> str:
    return next(u for h in w.hosts.values() for u, d in h.domains.items() if d.vm_name == name)


@pytest.mark.parametrize(
    ("history", "before_death", "dead", "later", "expected", "note"),
    [
        pytest.param(
            True,
            _nothing,
            ("h2",),
            HOUR,
            {"db": "h2", "cache": "h2"},
            "h2 unreachable: 2 guests last seen",
            id="history-gives-unknown-guests",
        ),
        pytest.param(
            True,
            _cache_moves_to_h1,
            ("h2",),
            HOUR,
            {"db": "h2"},
            "1 more seen there then are seen elsewhere",
            id="guest-seen-elsewhere-is-not-duplicated",
        ),
        pytest.param(
            False,
            _nothing,
            ("h2",),
            HOUR,
            {},
            "h2 unreachable: its guests could not be listed (no history",
            id="no-history-missing-with-a-note",
        ),
        pytest.param(
            True,
            _nothing,
            ("h2",),
            20 * DAY,
            {},
            "no reading of it within the retention",
            id="reading-past-retention-missing-with-a-note",
        ),
    ],
)
def test_an_unreachable_hosts_guests(
    world: FakeWorld,
    tmp_path: Path,
    history: bool,
    before_death: Callable[[FakeWorld], None],
    dead: tuple[str, ...],
    later: timedelta,
    expected: dict[str, str],
    note: str,
) -> None:
    extra: dict[str, Any] = {"history_path": str(tmp_path / "h.sqlite")} if history else {}
    cfg = config_for(world, tmp_path, **extra)
    collect_cluster(
        cfg.collect_settings(), opener=world.open, now=T0
    )  # every host answers: the history saw them all
    before_death(world)
    for h in dead:
        world.hosts[h].alive = False
    cluster = collect_cluster(cfg.collect_settings(), opener=world.open, now=T0 + later)
    unknown = {v.name: v.host for v in cluster.vms if v.state is VmState.UNKNOWN}
    assert unknown == expected
    assert len({v.uuid for v in cluster.vms}) == len(cluster.vms)
    assert any(note in n for n in cluster.notes), cluster.notes
    assert all(cluster.host_by_name[h].state is HostState.UNREACHABLE for h in dead)


def test_a_guest_last_seen_on_two_dead_hosts_is_where_it_was_seen_last(
    world: FakeWorld, tmp_path: Path
) -> None:
    cfg = config_for(world, tmp_path, history_path=str(tmp_path / "h.sqlite"))
    collect_cluster(cfg.collect_settings(), opener=world.open, now=T0)  # cache on h2
    world.hosts["h2"].alive = False
    world.place(world.hosts["h2"].domains[_uuid(world, "cache")], world.hosts["h3"])
    mid = collect_cluster(
        cfg.collect_settings(), opener=world.open, now=T0 + HOUR
    )  # cache alive on h3: not a stand-in
    assert {v.name: (v.host, v.state) for v in mid.vms if v.name in ("db", "cache")} == {
        "db": ("h2", VmState.UNKNOWN),
        "cache": ("h3", VmState.RUNNING),
    }
    world.hosts["h3"].alive = False
    cluster = collect_cluster(cfg.collect_settings(), opener=world.open, now=T0 + 2 * HOUR)
    assert {v.name: v.host for v in cluster.vms if v.state is VmState.UNKNOWN} == {"db": "h2", "cache": "h3"}
    assert "h2 unreachable: 1 guests last seen there at 2026-03-01T00:00:00+00:00" in cluster.notes[0]
    assert "1 more seen there then are seen elsewhere" in cluster.notes[0]


def test_an_unknown_guest_keeps_its_size_and_says_why(world: FakeWorld, tmp_path: Path) -> None:
    cfg = config_for(world, tmp_path, history_path=str(tmp_path / "h.sqlite"))
    first = collect_cluster(cfg.collect_settings(), opener=world.open, now=T0)
    world.hosts["h2"].uri = "qemu+ssh://root:hunter2@h2.example/system"
    cfg = config_for(world, tmp_path, history_path=str(tmp_path / "h.sqlite"))
    world.hosts["h2"].alive = False
    cluster = collect_cluster(cfg.collect_settings(), opener=world.open, now=T0 + HOUR)
    db, seen = cluster.vm_by_name["db"], first.vm_by_name["db"]
    assert (db.uuid, db.vcpus, db.memory_mib, db.domain_type, db.cpu_signature) == (
        seen.uuid,
        4,
        8192,
        "kvm",
        seen.cpu_signature,
    )
    assert (db.state, db.migratable) == (VmState.UNKNOWN, False)
    assert db.unmigratable_reason == f"host h2 unreachable: {RESET}; last seen 2026-03-01T00:00:00+00:00"
    assert cluster.vm_by_name["cache"].domain_type == "qemu"
    assert "hunter2" not in cluster_to_json(cluster)


def test_notes_round_trip_as_json(world: FakeWorld, tmp_path: Path) -> None:
    world.hosts["h2"].alive = False
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open, now=T0)
    assert cluster.notes and cluster_from_json(cluster_to_json(cluster)).notes == cluster.notes
    assert json.loads(cluster_to_json(Cluster(hosts=(), vms=())))["notes"] == []


def test_record_alone_keeps_last_readings(world: FakeWorld, tmp_path: Path) -> None:
    """`collect --record` without a history_path also remembers; a later plain collect only reads it."""
    cfg = config_for(world, tmp_path)
    collect_cluster(cfg.collect_settings(), opener=world.open, record=True, now=T0)
    collect_cluster(
        cfg.collect_settings(), opener=world.open, now=T0 + HOUR / 2
    )  # reads the history, writes nothing
    world.hosts["h2"].alive = False
    cluster = collect_cluster(cfg.collect_settings(), opener=world.open, now=T0 + HOUR)
    assert {v.name for v in cluster.vms if v.state is VmState.UNKNOWN} == {"db", "cache"}
    assert (cluster.vm_by_name["db"].unmigratable_reason or "").endswith(
        "last seen 2026-03-01T00:00:00+00:00"
    )


def test_a_guest_whose_definition_fails_keeps_its_last_known_size(world: FakeWorld, tmp_path: Path) -> None:
    cfg = config_for(world, tmp_path, history_path=str(tmp_path / "h.sqlite"))
    collect_cluster(cfg.collect_settings(), opener=world.open, now=T0)
    world.hosts["h2"].domains[_uuid(world, "db")].fail = {"XMLDesc"}
    broken = collect_cluster(cfg.collect_settings(), opener=world.open, now=T0 + HOUR).vm_by_name["db"]
    assert (broken.state, broken.vcpus, broken.memory_mib) == (VmState.UNKNOWN, 0, 0)
    world.hosts["h2"].alive = False
    db = collect_cluster(cfg.collect_settings(), opener=world.open, now=T0 + 2 * HOUR).vm_by_name["db"]
    assert (db.vcpus, db.memory_mib, db.domain_type) == (4, 8192, "kvm")
    assert (db.unmigratable_reason or "").endswith("last seen 2026-03-01T01:00:00+00:00")


def test_a_host_reading_replaces_the_last_and_retention_drops_old_ones(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as history:
        a, b = make_vm("a", "h1"), make_vm("b", "h1")
        history.saw(T0, {"h1": [a, b], "h2": [make_vm("c", "h2")]}, 14 * DAY)
        history.saw(T0 + HOUR, {"h1": [b]}, 14 * DAY)
        readings = history.last_readings(["h1", "h2", "h9"], T0 - DAY)
        assert {h: [v.name for v in r.guests] for h, r in readings.items()} == {"h1": ["b"], "h2": ["c"]}
        assert readings["h1"].at == T0 + HOUR
        history.saw(T0 + 15 * DAY, {"h1": []}, 14 * DAY)  # h2's reading is now past the retention
        assert set(history.last_readings(["h1", "h2"], T0 - DAY)) == {"h1"}
        assert history.last_readings(["h1"], T0 - DAY)["h1"].guests == ()


@pytest.mark.parametrize(
    ("readings", "alive", "names", "note"),
    [
        pytest.param(None, set(), [], "could not be listed (no history", id="no-history"),
        pytest.param({}, set(), [], "could not be listed (the history has no reading", id="no-reading"),
        pytest.param({"h2": ["x", "y"]}, set(), ["x", "y"], "2 guests last seen there", id="both-stand-in"),
        pytest.param({"h2": ["x", "y"]}, {"y"}, ["x"], "1 more seen there then", id="y-is-alive-elsewhere"),
    ],
)
def test_stand_ins(
    readings: dict[str, list[str]] | None, alive: set[str], names: list[str], note: str
) -> None:
    got = (
        None
        if readings is None
        else {h: Reading(h, T0, tuple(make_vm(n, h, uuid=n) for n in ns)) for h, ns in readings.items()}
    )
    vms, notes = stand_ins({"h2": "no answer within 2 s"}, got, alive)
    assert [v.name for v in vms] == names
    assert all(v.host == "h2" and v.state is VmState.UNKNOWN and not v.migratable for v in vms)
    assert len(notes) == 1 and note in notes[0]
