"""Collection benchmarks: a large simulated cluster behind the fake seam, and a real cluster (the lab).

    python -m benchmarks.collect fake [--hosts 500] [--guests 40] [--latency-ms 20] [--signatures 6]
    python -m benchmarks.collect real --config cluster.toml

Prints wall time, CPU time and libvirt round trips (every call that crosses the seam, counted by a
proxy around the real connections). Target for the fake: 500 hosts x 40 guests at 20 ms per call in
under 10 s wall on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from collectors.collect import collect_cluster
from collectors.connect import open_connection
from collectors.seam import Connection, Opener
from planner.model import Cluster
from tests.fakes.world import FakeWorld
from virt_rebalance.config import Config, load_config

SECONDS: Counter[str] = Counter()  # time spent in each real libvirt method (Counting)
MODELS = ("qemu64", "Haswell-noTSX", "Broadwell", "Skylake-Server", "Cascadelake-Server", "EPYC")


def fake_cluster(hosts: int, guests: int, latency_s: float, signatures: int) -> tuple[FakeWorld, Config]:
    world = FakeWorld(latency_s=latency_s)
    for h in range(hosts):
        host = world.add_host(f"h{h:04d}", cpus=64, memory_mib=512 * 1024, runs_models=MODELS)
        for g in range(guests):
            model = MODELS[(h + g) % min(signatures, len(MODELS))]
            world.add_domain(
                host.name,
                f"g{h:04d}-{g:02d}",
                vcpus=1 + g % 4,
                memory_mib=1024 * (1 + g % 8),
                cpu_millicores=(h * 37 + g * 101) % 2000,
                dirty_rate_mibps=g % 50,
                cpu_xml=f"<cpu mode='custom' match='exact'><model fallback='forbid'>{model}</model></cpu>",
            )
    config = Config.model_validate(
        {
            "state_dir": "/tmp/virt-rebalance-bench",
            "hosts": [{"name": h.name, "uri": h.uri} for h in world.hosts.values()],
            "collect": {"timeout_s": 60},
        }
    )
    return world, config


class Counting:
    """Wraps a real connection (and the domains it hands out) to count round trips per method."""

    def __init__(
        self, inner: Any, calls: Counter[str], lock: threading.Lock, prefix: str = "Connection"
    ) -> None:
        self._inner, self._calls, self._lock, self._prefix = inner, calls, lock, prefix

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr) or name in ("name", "UUIDString"):  # answered client-side by libvirt
            return attr

        def call(*args: Any, **kw: Any) -> Any:
            key = f"{self._prefix}.{name}"
            start = time.monotonic()
            try:
                result = attr(*args, **kw)
            finally:
                with self._lock:
                    self._calls[key] += 1
                    SECONDS[key] += time.monotonic() - start
            if name == "getAllDomainStats":
                return [(Counting(d, self._calls, self._lock, "Domain"), s) for d, s in result]
            if name in ("listAllDomains",):
                return [Counting(d, self._calls, self._lock, "Domain") for d in result]
            return result

        return call


def counting_opener(calls: Counter[str]) -> Opener:
    """Opens real connections whose round trips are counted in `calls` (and timed in SECONDS)."""
    lock = threading.Lock()

    def opener(uri: str) -> Connection:
        with lock:
            calls["open"] += 1
        conn: Connection = Counting(open_connection(uri), calls, lock)  # type: ignore[assignment]
        return conn

    return opener


def measure(config: Config, opener: Any) -> tuple[Cluster, float, float]:
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    cluster = collect_cluster(config.collect_settings(), opener=opener)
    wall = time.monotonic() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    return cluster, wall, (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)


def report(name: str, cluster: Cluster, wall: float, cpu: float, calls: Counter[str]) -> dict[str, Any]:
    answered = sum(1 for h in cluster.hosts if h.state != "unreachable")
    result = {
        "benchmark": name,
        "hosts": len(cluster.hosts),
        "answered": answered,
        "guests": len(cluster.vms),
        "signatures": len(cluster.cpu_signatures),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "round_trips": sum(calls.values()),
        "round_trips_per_host": round(sum(calls.values()) / max(1, len(cluster.hosts)), 1),
        "compare_calls": calls["Connection.compareHypervisorCPU"],
        "by_method": dict(sorted(calls.items())),
    }
    if SECONDS:
        result["seconds_by_method"] = {k: round(v, 3) for k, v in sorted(SECONDS.items())}
    print(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="kind", required=True)
    fake = sub.add_parser("fake")
    fake.add_argument("--hosts", type=int, default=500)
    fake.add_argument("--guests", type=int, default=40)
    fake.add_argument("--latency-ms", type=float, default=20.0)
    fake.add_argument("--signatures", type=int, default=6)
    real = sub.add_parser("real")
    real.add_argument("--config", type=Path, required=True)
    args = parser.parse_args()
    if args.kind == "fake":
        world, config = fake_cluster(args.hosts, args.guests, args.latency_ms / 1000, args.signatures)
        cluster, wall, cpu = measure(config, world.open)
        report(f"fake {args.hosts}x{args.guests} @ {args.latency_ms:g} ms", cluster, wall, cpu, world.calls)
    else:
        calls: Counter[str] = Counter()
        cluster, wall, cpu = measure(load_config(args.config), counting_opener(calls))
        report(f"real {args.config}", cluster, wall, cpu, calls)


if __name__ == "__main__":
    main()
