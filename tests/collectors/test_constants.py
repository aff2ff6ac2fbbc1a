"""collectors.constants mirrors libvirt-python's values (so only collectors.connect imports libvirt)."""

from __future__ import annotations

import libvirt
import pytest

from collectors import constants

NAMES = [n for n in dir(constants) if n.startswith("VIR_")]


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_matches_libvirt(name: str) -> None:
    assert getattr(constants, name) == getattr(libvirt, name)
