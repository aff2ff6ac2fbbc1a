"""Bad plan files: every one is refused with the file, the field and the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from planner.codec import plan_from_json, plan_to_json
from planner.errors import PlanFileError
from planner.plan import Balance, Migration, Plan
from planner.policy import Budgets
from tests.builders import make_cluster, make_host, make_vm


def _plan() -> Plan:
    vm = make_vm("a", "h1")
    cluster = make_cluster([make_host("h1"), make_host("h2")], [vm], collected_at="2026-11-26T00:00:00Z")
    move = Migration(
        id="m1",
        vm_uuid=vm.uuid,
        vm_name="a",
        source="h1",
        destination="h2",
        memory_mib=vm.memory_mib,
        reason="relieves h1",
        bandwidth_mibps=100,
    )
    flat = Balance(0.0, 0.0, 0.0)
    return Plan(
        snapshot=cluster,
        goal="rebalance",
        created_at="2026-11-26T00:01:00Z",
        migrations=(move,),
        target={vm.uuid: "h2"},
        before=(),
        after=(),
        balance_before=flat,
        balance_after=flat,
    )


def test_plan_round_trip_is_identity() -> None:
    plan = _plan()
    assert plan_from_json(plan_to_json(plan, indent=2), "plan.json") == plan


def test_the_budgets_round_trip_typed() -> None:
    budgets = Budgets(max_concurrent=3, per_migration_mibps=200, setup_s=0.5, host_nic_mibps={"h1": 600})
    again = plan_from_json(plan_to_json(replace(_plan(), budgets=budgets)), "plan.json")
    assert again.budgets == budgets and isinstance(again.budgets, Budgets)


def test_a_budget_older_files_lack_takes_its_default() -> None:
    data = json.loads(plan_to_json(replace(_plan(), budgets=Budgets(max_concurrent=3))))
    del data["budgets"]["setup_s"]  # written before plans carried the set-up time
    assert plan_from_json(json.dumps(data), "plan.json").budgets == Budgets(max_concurrent=3)


@pytest.mark.parametrize("budgets", [None, {}], ids=["no-budgets", "empty-budgets"])
def test_a_plan_without_budgets_is_refused_not_run_with_defaults(budgets: dict | None) -> None:
    data = json.loads(plan_to_json(_plan()))
    if budgets is None:
        del data["budgets"]
    else:
        data["budgets"] = budgets
    with pytest.raises(PlanFileError) as exc:
        plan_from_json(json.dumps(data), "plan.json")
    assert exc.value.field == "budgets" and "make a new plan" in exc.value.problem


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
        (lambda d: d["budgets"].update(max_concurrent="all"), "budgets.max_concurrent", "integer"),
        (lambda d: d["budgets"].update(setup_s=-1.0), "budgets.setup_s", "out of range"),
        (lambda d: d["budgets"].update(host_nic_mibps=[1]), "budgets.host_nic_mibps", "dictionary"),
    ],
    ids=[
        "version-string", "version-bool", "version-zero", "snapshot-version-negative",
        "snapshot-version-missing", "migration-no-destination", "migration-bad-memory", "no-snapshot",
        "budget-not-a-number", "budget-negative", "nic-budgets-not-a-table",
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
