"""Synthetic clusters for benchmarks and tests: `generate(hosts, guests, seed) -> Cluster`.

What makes them realistic enough to be hard: host sizes vary fourfold and come in three CPU generations
(a guest of generation k runs only on hosts of generation k or newer, so compatibility restricts);
load is skewed (hosts draw guests in proportion to a log-normal "heat"); guest sizes follow a cloud-like
mix from 1 vCPU / 1 GiB to 16 vCPUs / 64 GiB; about 2% of guests cannot migrate; about 1% of hosts are in
maintenance; a few affinity, anti-affinity and pin rules hold in the snapshot. Memory is about 60% used
overall (less when there are few guests per host: no host is smaller than 64 GiB). The same arguments give the same cluster.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from planner.model import Cluster, Disk, Host, HostState, PlacementRule, Vm

GENERATIONS = ("gen1", "gen2", "gen3")
# (vCPUs, memory GiB, share of guests)
SIZES = (
    (1, 1, 0.20),
    (1, 2, 0.15),
    (2, 4, 0.30),
    (4, 8, 0.20),
    (8, 16, 0.10),
    (16, 32, 0.03),
    (16, 64, 0.02),
)
MEAN_GUEST_GIB = sum(m * p for _, m, p in SIZES)


def _hosts(rng: np.random.Generator, count: int, guests: int) -> list[Host]:
    base_gib = max(128.0, guests / count * MEAN_GUEST_GIB / 0.6)
    scale = rng.choice([0.5, 1.0, 1.0, 1.5, 2.0], size=count) / 1.2
    gens = rng.choice(3, size=count, p=[0.3, 0.4, 0.3])
    hosts = []
    for i in range(count):
        gib = max(64, round(float(base_gib * scale[i]) / 16) * 16)
        state = HostState.MAINTENANCE if rng.random() < 0.01 else HostState.ACTIVE
        hosts.append(
            Host(
                name=f"host{i:05d}",
                uri=f"qemu+ssh://host{i:05d}/system",
                cpus=max(4, gib // 5),
                memory_mib=gib * 1024,
                reserved_memory_mib=2048 if gib > 32 else 0,
                state=state,
                cpu_model=GENERATIONS[gens[i]],
            )
        )
    return hosts


def generate(hosts: int, guests: int, seed: int = 0, local_disk_share: float = 0.0) -> Cluster:
    """A seeded synthetic cluster of `hosts` hosts and `guests` guests; `local_disk_share` of the guests
    get a disk on their host's local storage (drawn apart, so the rest of the cluster stays the same)."""
    rng = np.random.default_rng(seed)
    host_list = _hosts(rng, hosts, guests)
    gen_of = np.array([GENERATIONS.index(h.cpu_model or "gen1") for h in host_list])
    mem_cap = np.array([h.memory_capacity_mib for h in host_list], dtype=float)
    cpu_cap = np.array([h.cpu_capacity_millicores for h in host_list], dtype=float)
    vcpu_cap = np.array([h.vcpu_capacity for h in host_list], dtype=float)
    open_ = np.array([h.accepts_guests for h in host_list])
    heat = rng.lognormal(0.0, 0.6, size=hosts) * mem_cap * open_
    cdf = np.cumsum(heat) / heat.sum()
    used = np.zeros((3, hosts))
    sizes = rng.choice(len(SIZES), size=guests, p=[p for *_, p in SIZES])
    utils = rng.beta(2.0, 5.0, size=guests)
    vms = []
    for i in range(guests):
        vcpus, gib, _ = SIZES[sizes[i]]
        mem, cpu = gib * 1024, int(vcpus * 1000 * utils[i])
        for _ in range(20):
            h = int(np.searchsorted(cdf, rng.random()))
            h = min(h, hosts - 1)
            if (
                used[0, h] + mem <= 0.97 * mem_cap[h]
                and used[1, h] + cpu <= 1.1 * cpu_cap[h]
                and used[2, h] + vcpus <= vcpu_cap[h]
            ):
                break
        else:
            h = int(np.argmin(used[0] / mem_cap + (~open_) * 10))
        used[:, h] += (mem, cpu, vcpus)
        g = int(gen_of[h]) if rng.random() < 0.7 else int(rng.integers(0, gen_of[h] + 1))
        stuck = gib <= 16 and rng.random() < 0.02  # passthrough guests are small ones here
        vms.append(
            Vm(
                uuid=f"{seed:08x}-0000-4000-8000-{i:012x}",
                name=f"vm{i:06d}",
                host=host_list[h].name,
                vcpus=vcpus,
                memory_mib=mem,
                cpu_millicores=cpu,
                dirty_rate_mibps=int(rng.exponential(20.0)),
                cpu_signature=f"sig-{GENERATIONS[g]}",
                migratable=not stuck,
                unmigratable_reason="host device passthrough" if stuck else None,
            )
        )
    compat = {
        f"sig-{gen}": tuple(h.name for h, hg in zip(host_list, gen_of, strict=True) if hg >= k)
        for k, gen in enumerate(GENERATIONS)
    }
    if local_disk_share > 0:
        host_list, vms = _local_disks(seed, host_list, vms, local_disk_share)
    return Cluster(
        hosts=tuple(host_list),
        vms=tuple(vms),
        compatibility=compat,
        rules=_rules(rng, host_list, vms),
        source=f"generate({hosts}, {guests}, seed={seed})",
    )


def _local_disks(seed: int, hosts: list[Host], vms: list[Vm], share: float) -> tuple[list[Host], list[Vm]]:
    """A local qcow2 disk of 8-128 GiB allocated for `share` of the guests, and every host's pool with
    room for about twice the local disks it holds (at least 1 TiB free)."""
    rng = np.random.default_rng([seed, 1])
    picked = rng.random(len(vms)) < share
    alloc = rng.integers(8, 129, size=len(vms)) * 1024
    held: dict[str, int] = {}
    out = []
    for vm, has_disk, mib in zip(vms, picked, alloc, strict=True):
        if has_disk:
            disk = Disk(
                "vda",
                f"/var/lib/libvirt/images/{vm.name}.qcow2",
                shared=False,
                format="qcow2",
                capacity_mib=int(mib) * 2,
                allocation_mib=int(mib),
                write_kibps=int(rng.exponential(256.0)),
            )
            vm = dataclasses.replace(vm, disks=(disk,))
            held[vm.host] = held.get(vm.host, 0) + int(mib)
        out.append(vm)
    free = [dataclasses.replace(h, storage_free_mib=max(1 << 20, 2 * held.get(h.name, 0))) for h in hosts]
    return free, out


def _rules(rng: np.random.Generator, hosts: list[Host], vms: list[Vm]) -> tuple[PlacementRule, ...]:
    """A few rules that hold in the snapshot: affinity pairs already together, anti-affinity trios
    already apart, pins to the current host plus two others of the same generation."""
    by_host: dict[str, list[Vm]] = {}
    for vm in vms:
        if vm.migratable:
            by_host.setdefault(vm.host, []).append(vm)
    crowded = [h for h, vs in by_host.items() if len(vs) >= 2]
    model_of = {h.name: h.cpu_model for h in hosts}
    by_model: dict[str | None, list[str]] = {}
    for h in hosts:
        by_model.setdefault(h.cpu_model, []).append(h.name)
    rules = []
    for i in range(max(1, len(hosts) // 50)):
        if crowded:
            pair = by_host[crowded[int(rng.integers(len(crowded)))]][:2]
            rules.append(PlacementRule("affinity", f"db-{i}", vms=tuple(v.name for v in pair)))
        trio_hosts = rng.choice(len(crowded), size=min(3, len(crowded)), replace=False) if crowded else []
        trio = tuple(by_host[crowded[int(j)]][-1].name for j in trio_hosts)
        if len(trio) > 1:
            rules.append(PlacementRule("anti-affinity", f"web-{i}", vms=trio, hard=bool(i % 2)))
        vm = vms[int(rng.integers(len(vms)))]
        same = by_model[model_of[vm.host]]
        picks = {vm.host, *(same[int(j)] for j in rng.integers(0, len(same), size=2))}
        rules.append(PlacementRule("pin", f"licence-{i}", vms=(vm.name,), hosts=tuple(sorted(picks))))
    return tuple(rules)
