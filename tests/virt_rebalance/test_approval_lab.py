"""Approval mode end to end on real libvirt hosts, driven through the CLI as an operator would.

The lab of tests/virt_rebalance/memory_lab.py: two hosts, every guest on h1, plans decided by memory.
The tests run in order: an approved plan made stale (a guest it moves is stopped) is held again, exit 8,
and nothing moves; then plan-only -> approve -> run carries the approved plan out, exactly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.lab_fixture import MakeLab
from tests.virt_rebalance.memory_lab import memory_lab
from tests.virt_rebalance.test_jobs_lab import cli, placement
from virt_rebalance.config import load_config
from virt_rebalance.lab import Lab

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(make_lab: MakeLab) -> Lab:
    return memory_lab(make_lab, '\n[policy]\nautomation = "approved"\n')


def plan_only(lab: Lab) -> tuple[str, dict]:
    """`run --plan-only`: its RUN_ID (from the printed approve command) and the plan it holds."""
    result = cli(lab, "run", "--plan-only")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    found = re.search(r"virt-rebalance approve (\S+)`", out)
    assert found, out
    run_id = found.group(1)
    state = Path(load_config(lab.config_path).state_dir)
    plan = json.loads((state / "runs" / run_id / "plan.json").read_text())
    assert plan["migrations"], "the lab's skew must give a plan"
    return run_id, plan


def test_a_stale_approved_plan_is_held_again(lab: Lab) -> None:
    before = placement(lab)
    run_id, plan = plan_only(lab)
    assert placement(lab) == before
    approved = cli(lab, "approve", run_id)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    stopped = plan["migrations"][0]["vm_name"]
    conn = lab.connect(before[stopped][0])
    try:
        conn.lookupByName(stopped).destroy()  # the cluster changes after the approval
        result = cli(lab, "run")
        out = result.stdout + result.stderr
        assert result.returncode == 8, out
        assert f"the approved plan {run_id} no longer holds: {stopped} is" in out
        assert "held for approval: `virt-rebalance approve" in out
        assert placement(lab) == {n: h for n, h in before.items() if n != stopped}, "nothing moved"
    finally:
        conn.lookupByName(stopped).create()
        conn.close()
    lab.wait_booted([stopped])


def test_plan_only_approve_run_carries_out_the_approved_plan(lab: Lab) -> None:
    run_id, plan = plan_only(lab)
    approved = cli(lab, "approve", run_id)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert f"approved {run_id}" in approved.stdout
    result = cli(lab, "run")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert f"carrying out the approved plan {run_id}" in out
    after = placement(lab)
    for m in plan["migrations"]:
        if not m["temporary"]:
            assert after[m["vm_name"]] == [m["destination"]], out
    state = Path(load_config(lab.config_path).state_dir)
    held = json.loads((state / "approval.json").read_text())
    assert (held["run_id"], held["status"]) == (run_id, "carried-out")
