"""The cluster.toml a lab writes is a valid user config that points at the lab's hosts."""

from __future__ import annotations

from pathlib import Path

from virt_rebalance.config import parse_config
from virt_rebalance.lab.cluster_config import cluster_toml
from virt_rebalance.lab.host import LabHost
from virt_rebalance.lab.naming import LabNames


def lab_hosts(n: int) -> list[LabHost]:
    return [LabNames("demo").new_host(i, kvm=True) for i in range(1, n + 1)]


def test_cluster_toml_is_a_valid_config_for_the_lab() -> None:
    hosts = lab_hosts(4)
    config = parse_config(cluster_toml("demo", hosts, Path("/var/lib/virt-rebalance-lab/demo/state"), 256))
    assert config.state_dir == "/var/lib/virt-rebalance-lab/demo/state"
    assert [(h.name, h.uri, h.migration_uri, h.nic_mibps) for h in config.hosts] == [
        (h.name, h.uri, h.migration_uri, 256) for h in hosts
    ]
    assert config.budgets().host_nic_mibps == {h.name: 256 for h in hosts}


def test_paths_with_quotes_survive_toml_quoting() -> None:
    config = parse_config(cluster_toml("demo", lab_hosts(1), Path('/tmp/we"ird\\dir'), 100))
    assert config.state_dir == '/tmp/we"ird\\dir'
