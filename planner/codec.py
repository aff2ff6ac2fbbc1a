"""JSON round trip of Cluster and Plan, with a schema_version and errors that name the file and field.

Pure: takes and returns text. Reading files is the caller's business; `source` is only used in errors.
A plan file must carry the budgets its schedule assumed (apply runs within them); a budget it lacks (a file
from before that budget existed) takes Budgets' default.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from planner.errors import InputError, PlanFileError, SnapshotError
from planner.input_checks import check_cluster, check_plan
from planner.model import SCHEMA_VERSION, Cluster
from planner.plan import Plan

T = TypeVar("T")

_CLUSTER = TypeAdapter(Cluster)
_PLAN = TypeAdapter(Plan)


def cluster_to_json(cluster: Cluster, indent: int | None = None) -> str:
    return _CLUSTER.dump_json(cluster, indent=indent).decode()


def plan_to_json(plan: Plan, indent: int | None = None) -> str:
    return _PLAN.dump_json(plan, indent=indent).decode()


def cluster_from_json(text: str | bytes, source: str = "<snapshot>") -> Cluster:
    return _load(text, source, _CLUSTER, SnapshotError, "snapshot")


def plan_from_json(text: str | bytes, source: str = "<plan>") -> Plan:
    return _load(text, source, _PLAN, PlanFileError, "plan")


def _load(text: str | bytes, source: str, adapter: TypeAdapter[T], error: type[InputError], what: str) -> T:
    try:
        raw = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise error(source, None, "nested too deeply") from None
    except ValueError as exc:  # JSON syntax, encoding, NaN/Infinity, a number of thousands of digits
        raise error(source, None, f"not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise error(source, None, f"a {what} must be a JSON object, not {type(raw).__name__}")
    _check_version(raw, source, error)
    if what == "plan" and isinstance(raw.get("snapshot"), dict):
        _check_version(raw["snapshot"], source, error, "snapshot.")
    try:
        value = adapter.validate_python(raw)
    except RecursionError:
        raise error(source, None, "nested too deeply") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise error(source, field_path(first["loc"]), first["msg"] + more) from None
    if isinstance(value, Plan):
        if raw.get("budgets") in (None, {}):  # checked after the fields it is read with
            raise error(
                source,
                "budgets",
                "missing: apply runs a plan within the budgets its schedule assumed, and this file has none "
                "(written by hand or by an older virt-rebalance); make a new plan with `virt-rebalance plan`",
            )
        check_plan(value, source)
    elif isinstance(value, Cluster):
        check_cluster(value, source, error)
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a file may hold")


def _check_version(raw: dict[str, Any], source: str, error: type[InputError], prefix: str = "") -> None:
    version = raw.get("schema_version")
    if version is None:
        raise error(source, prefix + "schema_version", "missing")
    if not isinstance(version, int) or isinstance(version, bool):
        raise error(source, prefix + "schema_version", f"must be an integer, got {version!r}")
    if version > SCHEMA_VERSION:
        raise error(
            source,
            prefix + "schema_version",
            f"version {version} is newer than this virt-rebalance understands ({SCHEMA_VERSION}); upgrade it",
        )
    if version < 1:
        raise error(source, prefix + "schema_version", f"unknown version {version}")


def field_path(loc: tuple[int | str, ...]) -> str:
    """('hosts', 3, 'memory_mib') -> 'hosts[3].memory_mib'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"
