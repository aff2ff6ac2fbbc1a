"""Rules carried in a guest's libvirt <metadata>, on real libvirt hosts: set with setMetadata (what
`virsh metadata` does), read by the collector, honoured by the plan.

The lab of tests/virt_rebalance/memory_lab.py (every guest on h1, plans decided by memory). `big` carries <vr:ignore/>
and `small-1` a pin to host group "first" (h1), so the plan may move only `small-2`; the same readings
without the carried rules give a plan that moves `big` or `small-1`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import libvirt
import pytest

from collectors.guest_metadata import NAMESPACE
from tests.lab_fixture import MakeLab
from tests.virt_rebalance.memory_lab import memory_lab
from tests.virt_rebalance.test_jobs_lab import cli
from virt_rebalance.lab import Lab

pytestmark = pytest.mark.lab

CARRIED = {"big": "<rules><ignore/></rules>", "small-1": "<rules><pin>first</pin></rules>"}


def _carry(conn: Any) -> None:
    for name, xml in CARRIED.items():
        conn.lookupByName(name).setMetadata(
            libvirt.VIR_DOMAIN_METADATA_ELEMENT, xml, "vr", NAMESPACE,
            libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG,
        )  # fmt: skip


@pytest.fixture(scope="module")
def lab(make_lab: MakeLab) -> Lab:
    return memory_lab(make_lab, '\n[host_groups]\nfirst = ["h1"]\n', _carry)


def test_the_plan_honours_the_rules_guests_carry(lab: Lab, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = cli(lab, "plan", "--format", "json", "-o", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads(out.read_text())
    carried = {v["name"]: v["rules"] for v in plan["snapshot"]["vms"]}
    assert carried["big"]["ignore"] is True
    assert carried["small-1"]["pin"] == ["first"]
    assert carried["small-2"] is None
    moved = {m["vm_name"] for m in plan["migrations"]}
    assert moved == {"small-2"}, result.stdout + result.stderr
    # The same readings without the carried rules: the plan moves a guest the rules keep on h1.
    snapshot = plan["snapshot"]
    snapshot["rules"] = [r for r in snapshot["rules"] if not r["name"].startswith("metadata")]
    for vm in snapshot["vms"]:
        vm["rules"] = None
    (tmp_path / "bare.json").write_text(json.dumps(snapshot))
    bare = cli(lab, "plan", "--snapshot", str(tmp_path / "bare.json"), "--format", "json", "-o", str(out))
    assert bare.returncode == 0, bare.stdout + bare.stderr
    assert {m["vm_name"] for m in json.loads(out.read_text())["migrations"]} & {"big", "small-1"}


def test_unreadable_metadata_is_a_warning_naming_the_guest(lab: Lab, tmp_path: Path) -> None:
    conn = lab.connect("h1")
    try:
        conn.lookupByName("small-2").setMetadata(
            libvirt.VIR_DOMAIN_METADATA_ELEMENT, "<rules><move-anywhere/></rules>", "vr", NAMESPACE,
            libvirt.VIR_DOMAIN_AFFECT_LIVE,
        )  # fmt: skip
    finally:
        conn.close()
    out = tmp_path / "plan.json"
    result = cli(lab, "plan", "--format", "json", "-o", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "small-2: its <metadata> rules cannot be read (unknown element <move-anywhere>)" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(out.read_text())["migrations"] == [], "no guest may move now"
