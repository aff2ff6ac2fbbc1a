"""The compatibility summary: guests whose CPU keeps them on some hosts, and what a baseline CPU would free.

`Cluster.compatibility` says which hosts can run each guest CPU signature (libvirt decided);
`Cluster.baseline_cpu` is the CPU model every host can run (baselineHypervisorCPU over the hosts). A guest
restricted to fewer hosts than the cluster offers would go anywhere with that baseline model instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.model import Cluster


@dataclass(frozen=True, slots=True)
class Restricted:
    guest: str
    host: str
    signature: str
    cpu: str
    runs_on: tuple[str, ...]
    freed_by_baseline: bool


def restricted_guests(cluster: Cluster) -> list[Restricted]:
    """Guests that can run on only part of the cluster's accepting hosts, most restricted first."""
    accepting = tuple(h.name for h in cluster.hosts if h.accepts_guests)
    signatures = {s.key: s for s in cluster.cpu_signatures}
    out = []
    for vm in cluster.vms:
        runs_on = tuple(h for h in accepting if cluster.can_run(vm, cluster.host_by_name[h]))
        if len(runs_on) == len(accepting):
            continue
        sig = signatures.get(vm.cpu_signature)
        cpu = (
            f"{sig.domain_type} {sig.mode}{' ' + sig.model if sig.model else ''}" if sig else vm.cpu_signature
        )
        offered = all(vm.domain_type in cluster.host_by_name[h].domain_types for h in accepting)
        passthrough = sig is not None and sig.mode == "host-passthrough"
        freed = cluster.baseline_cpu is not None and offered and not passthrough
        out.append(Restricted(vm.name, vm.host, vm.cpu_signature, cpu, runs_on, freed))
    return sorted(out, key=lambda r: (len(r.runs_on), r.guest))


def advice(cluster: Cluster, restricted: list[Restricted]) -> str:
    """One sentence on the baseline CPU, or an empty string when there is nothing to say."""
    if not restricted:
        return "Every guest can run on every host that accepts guests."
    freed = [r for r in restricted if r.freed_by_baseline]
    if cluster.baseline_cpu and freed:
        return (
            f"{len(freed)} of {len(restricted)} restricted guest(s) would run on every host with the "
            f"cluster's baseline CPU model {cluster.baseline_cpu} instead of their own CPU definition."
        )
    return (
        f"{len(restricted)} guest(s) can run on only part of the cluster; a narrower CPU model would not "
        "free them (their domain type or a host-passthrough CPU ties them to those hosts)."
    )
