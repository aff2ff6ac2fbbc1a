"""Hand-made plans and clusters for the CLI and report tests (no solver, no libvirt)."""

from __future__ import annotations

from dataclasses import replace

from planner.model import Cluster, CpuSignature, Placement
from planner.plan import Balance, HostLoad, Migration, Plan, Stay
from planner.policy import Budgets
from tests.builders import make_cluster, make_host, make_vm


def sample_cluster() -> Cluster:
    """Three hosts; h1 is busy; g-kvm is a KVM guest only h1 can run."""
    hosts = [make_host("h1"), make_host("h2"), make_host("h3", domain_types=("qemu",))]
    vms = [
        make_vm("web-1", "h1", uuid="u-web-1", cpu_millicores=3000, memory_mib=4096),
        make_vm("web-2", "h1", uuid="u-web-2", cpu_millicores=2500, memory_mib=2048),
        make_vm("db-1", "h1", uuid="u-db-1", cpu_millicores=1500, memory_mib=8192),
        make_vm("g-kvm", "h1", uuid="u-g-kvm", cpu_signature="kvm-host-model", memory_mib=512),
        make_vm("batch", "h2", uuid="u-batch", cpu_millicores=200, memory_mib=1024),
    ]
    compat = {"x86-generic": ("h1", "h2", "h3"), "kvm-host-model": ("h1",)}
    return make_cluster(
        hosts,
        vms,
        compatibility=compat,
        cpu_signatures=(
            CpuSignature("x86-generic", "qemu", "custom", "qemu64"),
            CpuSignature("kvm-host-model", "kvm", "host-model"),
        ),
        baseline_cpu="Skylake-Server-IBRS",
        collected_at="2026-11-26T06:00:00Z",
        source="test",
    )


def loads(cluster: Cluster, placement: Placement) -> tuple[HostLoad, ...]:
    per_host = cluster.vms_on(placement)
    return tuple(
        HostLoad(
            host=h.name,
            cpu_millicores=sum(v.cpu_demand_millicores for v in per_host[h.name]),
            cpu_capacity_millicores=h.cpu_capacity_millicores,
            memory_mib=sum(v.memory_mib for v in per_host[h.name]),
            memory_capacity_mib=h.memory_capacity_mib,
            vcpus=sum(v.vcpus for v in per_host[h.name]),
            vcpu_capacity=h.vcpu_capacity,
            guests=len(per_host[h.name]),
        )
        for h in cluster.hosts
    )


def plan_for(
    cluster: Cluster, moves: list[tuple[str, str]], *, goal: str = "rebalance", evacuate: tuple[str, ...] = ()
) -> Plan:
    """A plan moving each (guest name, destination) one after another, 10 s each."""
    migrations = []
    for n, (name, dest) in enumerate(moves):
        vm = cluster.vm_by_name[name]
        migrations.append(
            Migration(
                id=f"m{n + 1}",
                vm_uuid=vm.uuid,
                vm_name=vm.name,
                source=vm.host,
                destination=dest,
                memory_mib=vm.memory_mib,
                reason="h1 runs hot" if goal == "rebalance" else f"{vm.host} is being emptied",
                depends_on=(f"m{n}",) if n else (),
                bandwidth_mibps=500,
                start_s=10.0 * n,
                estimated_s=10.0,
                estimated_mib=vm.memory_mib,
            )
        )
    target = dict(cluster.placement) | {cluster.vm_by_name[n].uuid: d for n, d in moves}
    stays = (
        Stay(
            vm_uuid="u-g-kvm",
            vm_name="g-kvm",
            host="h1",
            rule="cpu-compatible",
            reason="no other host can run its CPU (kvm host-model)",
        ),
    )
    return Plan(
        snapshot=cluster,
        goal=goal,  # type: ignore[arg-type]
        created_at="2026-11-26T06:00:05Z",
        migrations=tuple(migrations),
        target=target,
        before=loads(cluster, cluster.placement),
        after=loads(cluster, target),
        balance_before=Balance(peak_pct=64.0, spread_pct=60.0, cv=1.2),
        balance_after=Balance(peak_pct=30.0, spread_pct=20.0, cv=0.4),
        stays=stays,
        evacuate=evacuate,
        peak_lower_bound_pct=28.0,
        makespan_s=10.0 * len(moves),
        makespan_lower_bound_s=8.0 * len(moves),
        solver_status="OPTIMAL",
        solve_s=0.3,
        notes=("a test plan",),
        policy={"max_migrations": 10},
        budgets=Budgets(max_concurrent=8, max_outgoing_per_host=2),
    )


def sample_plan() -> Plan:
    return plan_for(sample_cluster(), [("web-1", "h2"), ("db-1", "h3")])


def empty_plan() -> Plan:
    plan = plan_for(sample_cluster(), [])
    return replace(plan, stays=(), notes=("already balanced",))
