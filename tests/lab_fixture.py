"""`make_lab`: a module-scoped factory of real labs that are always torn down.

    def test_something(make_lab):
        lab = make_lab(hosts=3, guests=0, no_kvm_hosts=1)   # h3 has no KVM
        lab.add_guest(GuestSpec("g", host="h1"))

Each call gives a lab whose name is unique to the test module, the call and this pytest process, so
tests (and other engineers' test runs) can run labs side by side. A lab that cannot start fails the test:
lab tests never skip.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from virt_rebalance.lab import Lab
from virt_rebalance.lab.naming import LAB_ROOT

MakeLab = Callable[..., Lab]


def lab_name(module: str, index: int, pid: int | None = None) -> str:
    """e.g. tests.virt_rebalance.lab.test_lab_lab -> 'lab-lab-4242-0' (at most 32 characters)."""
    suffix = f"-{pid if pid is not None else os.getpid()}-{index}"
    return (_slug(module)[: 32 - len(suffix)].strip("-") or "t") + suffix


def _slug(module: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", module.rsplit(".", 1)[-1].lower().removeprefix("test_")).strip("-")


def remove_stale_labs(module: str, root: Path = LAB_ROOT) -> list[str]:
    """Take down this module's labs left by pytest processes that died before their teardown."""
    removed = []
    for path in sorted(root.glob("*/lab.json")):
        match = re.fullmatch(r"(.*)-(\d+)-(\d+)", path.parent.name)
        if not match or int(match.group(2)) == os.getpid() or Path(f"/proc/{match.group(2)}").exists():
            continue
        if lab_name(module, int(match.group(3)), int(match.group(2))) == path.parent.name:
            Lab(path.parent.name).down()
            removed.append(path.parent.name)
    return removed


@pytest.fixture(scope="module")
def make_lab(request: pytest.FixtureRequest) -> Iterator[MakeLab]:
    labs: list[Lab] = []
    remove_stale_labs(request.module.__name__)

    def factory(hosts: int = 3, guests: int = 0, no_kvm_hosts: int = 0, skewed: bool = False) -> Lab:
        lab = Lab(lab_name(request.module.__name__, len(labs)))
        labs.append(lab)
        lab.down()  # a leftover of an interrupted run with the same name
        return lab.up(hosts=hosts, guests=guests, no_kvm_hosts=no_kvm_hosts, skewed=skewed)

    try:
        yield factory
    finally:
        failures = []
        for lab in labs:
            try:
                lab.down()
            except Exception as exc:
                failures.append(f"{lab.name}: {exc}")
        if failures:
            pytest.fail("lab teardown failed: " + "; ".join(failures))
