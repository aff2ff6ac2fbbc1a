"""A rule answers for itself at every stage: outside planner/rules/ no code names a rule class or kind.

Where code outside rules/ needs to know a rule's kind, the Rule protocol lacks a method. planner/model.py
declares the operator's rule kinds (the input record) and is the one exception for kind strings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner.rules import RULES

PLANNER = Path(__file__).resolve().parents[2] / "planner"
KINDS = ("pin", "avoid", "affinity", "anti-affinity")


def _sources() -> list[Path]:
    return sorted(p for p in PLANNER.rglob("*.py") if "rules" not in p.relative_to(PLANNER).parts)


@pytest.mark.parametrize("name", [kind.__name__ for kind in RULES])
def test_no_rule_class_is_named_outside_rules(name: str) -> None:
    word = re.compile(rf"\b{name}\b")
    hits = [
        f"{p.relative_to(PLANNER)}:{n}"
        for p in _sources()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if word.search(line)
    ]
    assert hits == []


@pytest.mark.parametrize("kind", KINDS)
def test_no_rule_kind_string_outside_rules(kind: str) -> None:
    quoted = re.compile(rf"[\"']{re.escape(kind)}[\"']")
    hits = [
        f"{p.relative_to(PLANNER)}:{n}"
        for p in _sources()
        if p.name != "model.py"
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if quoted.search(line)
    ]
    assert hits == []


def test_the_scan_sees_the_optimizer_and_the_schedule() -> None:
    seen = {str(p.relative_to(PLANNER)) for p in _sources()}
    assert {"optimize/solve.py", "optimize/repair.py", "schedule/graph.py", "pipeline.py"} <= seen
