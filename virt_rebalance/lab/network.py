"""The lab's network: one bridge without an address in the root namespace, and per host a network
namespace joined to it by a veth pair (eth0 inside, with the host's address). Hosts reach each other
only over the bridge, so migration traffic between hosts is real TCP between namespaces.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from virt_rebalance.lab.system import run


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def list_netns(prefix: str, netns_dir: Path = Path("/run/netns")) -> list[str]:
    """The namespaces named prefix + a number (lab 'demo' must not pick up lab 'demo-h's 'vrl-demo-h-h1')."""
    if not netns_dir.is_dir():
        return []
    pattern = re.compile(re.escape(prefix) + r"[0-9]+")
    return sorted(p.name for p in netns_dir.iterdir() if pattern.fullmatch(p.name))


def ensure_bridge(bridge: str) -> None:
    if not link_exists(bridge):
        run(["ip", "link", "add", bridge, "type", "bridge"])
    run(["ip", "link", "set", bridge, "up"])


def ensure_host_network(bridge: str, netns: str, veth: str, address: str) -> None:
    """Namespace, veth pair into the bridge, eth0 with the address, lo up (idempotent)."""
    if not netns_exists(netns):
        run(["ip", "netns", "add", netns])
    in_ns = ["ip", "-n", netns]
    if not link_exists(veth):
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns])
    run(["ip", "link", "set", veth, "master", bridge, "up"])
    run([*in_ns, "link", "set", "lo", "up"])
    addresses = run([*in_ns, "-o", "addr", "show", "dev", "eth0"]).stdout
    if f" {address}/" not in addresses:
        run([*in_ns, "addr", "add", f"{address}/24", "dev", "eth0"])
    run([*in_ns, "link", "set", "eth0", "up"])


def netns_pids(netns: str) -> list[int]:
    """Every process living in the namespace (all of them started by the lab)."""
    if not netns_exists(netns):
        return []
    out = run(["ip", "netns", "pids", netns], check=False).stdout
    return [int(p) for p in out.split()]


def in_netns(pid: int, netns: str) -> bool:
    """True when the process lives in the named network namespace."""
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(Path("/run/netns", netns)).st_ino
    except OSError:
        return False


def remove_host_network(netns: str, veth: str) -> None:
    if link_exists(veth):
        run(["ip", "link", "del", veth], check=False)
    if netns_exists(netns):
        run(["ip", "netns", "del", netns])


def remove_bridge(bridge: str) -> None:
    if link_exists(bridge):
        run(["ip", "link", "del", bridge])
