"""Bad plan files: every one is refused with the file, the field and the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from planner.codec import plan_from_json, plan_to_json
from planner.errors import PlanFileError
from planner.plan import Balance, Migration, Plan
from tests.builders import make_cluster, make_host, make_vm


def _plan() -> Plan:
    vm = make_vm("a", "h1")
    cluster = make_cluster([make_host("h1"), make_host("h2")], [vm], collected_at="2026-11-26T00:00:00Z")
    move = Migration("m1", vm.uuid, "a", "h1", "h2", vm.memory_mib, "relieves h1", bandwidth_mibps=100)
    flat = Balance(0.0, 0.0, 0.0)
    return Plan(cluster, "rebalance", "2026-11-26T00:01:00Z", (move,), {vm.uuid: "h2"}, (), (), flat, flat)


def test_plan_round_trip_is_identity() -> None:
    plan = _plan()
    assert plan_from_json(plan_to_json(plan, indent=2), "plan.json") == plan


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda d: d.update(schema_version="1"), "schema_version", "must be an integer, got '1'"),
        (lambda d: d.update(schema_version=True), "schema_version", "must be an integer, got True"),
        (lambda d: d.update(schema_version=0), "schema_version", "unknown version 0"),
        (lambda d: d["snapshot"].update(schema_version=-1), "snapshot.schema_version", "unknown version -1"),
        (lambda d: d["snapshot"].pop("schema_version"), "snapshot.schema_version", "missing"),
        (lambda d: d["migrations"][0].pop("destination"), "migrations[0].destination", "required"),
        (lambda d: d["migrations"][0].update(memory_mib="lots"), "migrations[0].memory_mib", "integer"),
        (lambda d: d.pop("snapshot"), "snapshot", "required"),
    ],
    ids=[
        "version-string", "version-bool", "version-zero", "snapshot-version-negative",
        "snapshot-version-missing", "migration-no-destination", "migration-bad-memory", "no-snapshot",
    ],
)  # fmt: skip
def test_bad_plan_names_file_and_field(
    mutate: Callable[[dict[str, Any]], Any], field: str, words: str
) -> None:
    data = json.loads(plan_to_json(_plan()))
    mutate(data)
    with pytest.raises(PlanFileError) as exc:
        plan_from_json(json.dumps(data), "plan.json")
    assert (exc.value.source, exc.value.field) == ("plan.json", field)
    assert words in exc.value.problem
    assert exc.value.kind == "plan"
