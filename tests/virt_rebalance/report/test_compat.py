"""The compatibility summary: restricted guests, and whether the baseline CPU would free them."""

from __future__ import annotations

from dataclasses import replace

from planner.model import CpuSignature
from tests.builders import make_cluster, make_host, make_vm
from tests.virt_rebalance.sample import sample_cluster
from virt_rebalance.report.compat import advice, restricted_guests


def test_kvm_guest_is_restricted_and_not_freed_by_a_cpu_model() -> None:
    cluster = sample_cluster()
    [r] = restricted_guests(cluster)
    assert (r.guest, r.runs_on, r.freed_by_baseline) == ("g-kvm", ("h1",), False)
    assert "would not free" in advice(cluster, [r])


def test_a_cpu_model_restriction_is_freed_by_the_baseline() -> None:
    hosts = [make_host("old"), make_host("new")]
    vms = [make_vm("a", "new", cpu_signature="skylake"), make_vm("b", "old")]
    cluster = make_cluster(
        hosts, vms,
        compatibility={"skylake": ("new",), "x86-generic": ("old", "new")},
        cpu_signatures=(CpuSignature("skylake", "kvm", "custom", "Skylake-Server"),),
        baseline_cpu="Broadwell",
    )  # fmt: skip
    [r] = restricted_guests(cluster)
    assert r.guest == "a" and r.freed_by_baseline
    assert "baseline CPU model Broadwell" in advice(cluster, [r])
    assert not restricted_guests(
        replace(cluster, compatibility={"skylake": ("old", "new"), "x86-generic": ("old", "new")})
    )
