"""The cluster config a lab writes: the same TOML format users write for real clusters
(virt_rebalance/config.py), so every command can point at a lab with --config."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from virt_rebalance.lab.host import LabHost


def cluster_toml(lab: str, hosts: Sequence[LabHost], state_dir: Path, nic_mibps: int) -> str:
    def q(value: object) -> str:  # a TOML basic string is a JSON string
        return json.dumps(str(value))

    lines = [
        f"# Written by `virt-rebalance lab up --name {lab}`; rewritten on every lab up.",
        f"state_dir = {q(state_dir)}",
        "",
        "[defaults]",
        f"nic_mibps = {nic_mibps}",
        "reserved_memory_mib = 512",
        "reserved_storage_mib = 32  # of each host's local storage (lab up: a 512 MiB tmpfs)",
        "",
        "[collect]",
        "storage_migration = true  # guests with local disks (lab up --disks local|mixed) move with them",
        "min_samples = 0  # a fresh lab has no usage history; the nightly run plans on an instant reading",
    ]
    for host in hosts:
        lines += [
            "",
            "[[hosts]]",
            f"name = {q(host.name)}",
            f"uri = {q(host.uri)}",
            f"migration_uri = {q(host.migration_uri)}",
            f"nic_mibps = {nic_mibps}",
        ]
    return "\n".join(lines) + "\n"
