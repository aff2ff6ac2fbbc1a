"""A two-host lab whose plans are decided by memory, not by CPU readings that wander on a busy machine.

Each host is cut to 3 GiB of guest memory (a reserve) and every guest runs on h1: `small-1`, `small-2`
(128 MiB) and `big` (an idle 1 GiB), so a rebalance always has something worth moving.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.lab_fixture import MakeLab
from virt_rebalance.lab import GuestSpec, Lab

CAPACITY_MIB = 3072
GUESTS = (
    GuestSpec("small-1", host="h1"),
    GuestSpec("small-2", host="h1"),
    GuestSpec("big", memory_mib=1024, host="h1"),
)


def memory_lab(make_lab: MakeLab, config: str = "", on_h1: Callable[[Any], None] = lambda conn: None) -> Lab:
    """The lab, with `config` appended to its cluster config and `on_h1` given a connection to h1 (after
    the guests are defined, before they are waited for)."""
    lab = make_lab(hosts=2, guests=0)
    for spec in GUESTS:
        lab.add_guest(spec)
    conn = lab.connect("h1")
    try:
        total_mib = conn.getInfo()[1]  # MiB, as the collector reads it
        on_h1(conn)
    finally:
        conn.close()
    text = lab.config_path.read_text().replace(
        "reserved_memory_mib = 512", f"reserved_memory_mib = {total_mib - CAPACITY_MIB}"
    )
    lab.config_path.write_text(text + config)
    lab.wait_booted()
    return lab
