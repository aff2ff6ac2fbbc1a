"""The model's JSON round trip and every kind of bad file."""

from __future__ import annotations

import json

import pytest

from planner.codec import cluster_from_json, cluster_to_json, plan_from_json
from planner.errors import PlanFileError, SnapshotError
from planner.model import PlacementRule
from tests.builders import make_cluster, make_host, make_vm


def _cluster_json() -> dict:
    cluster = make_cluster(
        [make_host("h1"), make_host("h2", domain_types=("qemu",))],
        [
            make_vm("a", "h1", dirty_rate_mibps=12),
            make_vm("b", "h2", migratable=False, unmigratable_reason="x"),
        ],
        [PlacementRule("anti-affinity", "apart", ("a", "b"))],
        collected_at="2026-11-26T00:00:00Z",
    )
    return json.loads(cluster_to_json(cluster))


def test_cluster_round_trip_is_identity() -> None:
    cluster = make_cluster([make_host("h1")], [make_vm("a", "h1")], compatibility={"x86-generic": ("h1",)})
    again = cluster_from_json(cluster_to_json(cluster))
    assert again == cluster
    assert again.can_run(again.vms[0], again.hosts[0])


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda d: d["hosts"][1].update(cpus="many"), "hosts[1].cpus", "integer"),
        (lambda d: d["vms"][0].pop("name"), "vms[0].name", "required"),
        (lambda d: d.update(schema_version=99), "schema_version", "newer"),
        (lambda d: d.pop("schema_version"), "schema_version", "missing"),
        (lambda d: d["hosts"][0].update(state="on-fire"), "hosts[0].state", "active"),
        (lambda d: d["rules"][0].update(kind="love"), "rules[0].kind", "affinity"),
    ],
    ids=["wrong-type", "missing-field", "newer-schema", "no-schema", "bad-enum", "bad-rule-kind"],
)
def test_bad_snapshot_names_file_and_field(mutate, field: str, words: str) -> None:
    data = _cluster_json()
    mutate(data)
    with pytest.raises(SnapshotError) as exc:
        cluster_from_json(json.dumps(data), "snap.json")
    assert exc.value.source == "snap.json"
    assert exc.value.field == field
    assert words in str(exc.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [("{not json", "not valid JSON"), ("[1, 2]", "JSON object"), (b"\xff\xfe", "not valid JSON")],
    ids=["syntax", "not-object", "not-utf8"],
)
def test_unparseable_snapshot(text, words: str) -> None:
    with pytest.raises(SnapshotError, match=words):
        cluster_from_json(text, "snap.json")


def test_plan_with_newer_snapshot_is_refused() -> None:
    plan = {"schema_version": 1, "snapshot": {**_cluster_json(), "schema_version": 7}}
    with pytest.raises(PlanFileError) as exc:
        plan_from_json(json.dumps(plan), "plan.json")
    assert exc.value.field == "snapshot.schema_version"


def test_disks_and_storage_round_trip_and_version_1_snapshots_still_read() -> None:
    from planner.model import Disk

    disk = Disk("vda", "/var/lib/libvirt/images/a.qcow2", False, "qcow2", 64, 25, 100)
    cluster = make_cluster(
        [make_host("h1", storage_free_mib=400, reserved_storage_mib=100)], [make_vm("a", "h1", disks=(disk,))]
    )
    again = cluster_from_json(cluster_to_json(cluster))
    assert again.vms[0].disks == (disk,) and again.hosts[0].storage_capacity_mib == 300
    old = json.loads(cluster_to_json(cluster))
    old["schema_version"] = 1
    for vm in old["vms"]:
        del vm["disks"]
    for host in old["hosts"]:
        del host["storage_free_mib"], host["reserved_storage_mib"]
    v1 = cluster_from_json(json.dumps(old))
    assert v1.vms[0].disks == () and v1.hosts[0].storage_free_mib is None
