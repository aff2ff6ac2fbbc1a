"""lab.json: round trip, and a damaged file is a LabError that says how to recover."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.virt_rebalance.lab.test_cluster_config import lab_hosts
from virt_rebalance.lab import state
from virt_rebalance.lab.errors import LabError
from virt_rebalance.lab.guest import GuestSpec
from virt_rebalance.lab.state import HostRecord, LabState

HOSTS = lab_hosts(3)


def sample() -> LabState:
    hosts = tuple(HostRecord(h, 100 + i) for i, h in enumerate(HOSTS))
    return LabState("demo", "vrlxxxxxxbr", "10.130.1.0/24", 256, hosts, (GuestSpec("g1", host="h1"),))


def test_round_trip(tmp_path: Path) -> None:
    state.save(tmp_path / "lab.json", sample())
    assert state.load(tmp_path / "lab.json") == sample()


def test_missing_file_is_no_lab(tmp_path: Path) -> None:
    assert state.load(tmp_path / "lab.json") is None


def test_updates_are_values() -> None:
    s = sample().with_pid("h2", None).with_guest(GuestSpec("g1", host="h3")).with_guest(GuestSpec("g2"))
    assert [r.libvirtd_pid for r in s.hosts] == [100, None, 102]
    assert [(g.name, g.host) for g in s.guests] == [("g1", "h3"), ("g2", None)]
    assert sample().record("h1").libvirtd_pid == 100


def test_unknown_host_names_the_hosts() -> None:
    with pytest.raises(LabError, match=r"no host 'h9' in lab demo.*h1, h2, h3"):
        sample().record("h9")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("{", "damaged"), ('{"schema_version": 1}', "damaged"), ('{"schema_version": 7}', "schema_version 7")],
    ids=["not-json", "missing-fields", "newer-schema"],
)
def test_damaged_files(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "lab.json").write_text(text)
    with pytest.raises(LabError, match=problem):
        state.load(tmp_path / "lab.json")


def no_kvm_on(state_: LabState, *hosts: str) -> LabState:
    records = tuple(replace(r, host=replace(r.host, kvm=r.host.name not in hosts)) for r in state_.hosts)
    return replace(state_, hosts=records)


@pytest.mark.parametrize(
    ("spec", "no_kvm", "expected"),
    [
        (GuestSpec("t"), (), "h2"),  # h1 already holds g1
        (GuestSpec("t", host="h1"), (), "h1"),
        (GuestSpec("k", kind="kvm"), ("h2",), "h3"),
        (GuestSpec("k", kind="kvm"), ("h2", "h3"), "h1"),
        (GuestSpec("t"), ("h2", "h3"), "h2"),
    ],
    ids=["emptiest", "asked-for", "kvm-skips-no-kvm", "kvm-only-h1", "tcg-anywhere"],
)
def test_pick_host(spec: GuestSpec, no_kvm: tuple[str, ...], expected: str) -> None:
    assert no_kvm_on(sample(), *no_kvm).pick_host(spec) == expected


def test_no_host_for_a_kvm_guest() -> None:
    with pytest.raises(LabError, match="no host of lab demo can run kvm guest k"):
        no_kvm_on(sample(), "h1", "h2", "h3").pick_host(GuestSpec("k", kind="kvm"))
