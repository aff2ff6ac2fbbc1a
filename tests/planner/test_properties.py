"""Properties over random small clusters: every plan passes every check; infeasible inputs are explained;
a balanced cluster gets an empty plan."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import InfeasibleError
from planner.model import Cluster, PlacementRule
from planner.optimize.optimizer import check_placement, optimize
from planner.policy import Policy
from tests.builders import make_cluster, make_host, make_vm

POLICY = Policy(time_limit_s=0.5)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def clusters(draw: st.DrawFn) -> Cluster:
    n_hosts = draw(st.integers(2, 4))
    hosts = [
        make_host(
            f"h{i}",
            cpus=draw(st.sampled_from([4, 8, 16])),
            memory_mib=draw(st.sampled_from([16384, 32768, 65536])),
        )
        for i in range(n_hosts)
    ]
    vms = []
    for i in range(draw(st.integers(1, 10))):
        vms.append(
            make_vm(
                f"v{i}",
                uuid=f"00000000-0000-0000-0000-{i:012d}",
                host=f"h{draw(st.integers(0, n_hosts - 1))}",
                memory_mib=draw(st.sampled_from([1024, 2048, 4096, 8192])),
                cpu_millicores=draw(st.integers(0, 3000)),
                cpu_signature=draw(st.sampled_from(["any", "new"])),
                migratable=draw(st.booleans()) or draw(st.booleans()),
            )
        )
    rules = []
    if len(vms) >= 2 and draw(st.booleans()):
        kind = draw(st.sampled_from(["affinity", "anti-affinity"]))
        rules.append(PlacementRule(kind, "g", vms=(vms[0].name, vms[1].name), hard=draw(st.booleans())))
    if draw(st.booleans()):
        rules.append(
            PlacementRule("avoid", "a", vms=(vms[-1].name,), hosts=("h0",), hard=draw(st.booleans()))
        )
    compat = {"any": tuple(h.name for h in hosts), "new": tuple(h.name for h in hosts[::2])}
    return make_cluster(hosts, vms, rules, compatibility=compat)


@SETTINGS
@given(clusters(), st.booleans(), st.sampled_from([None, 0, 1, 3]), st.booleans())
def test_every_plan_passes_every_check_or_the_conflict_is_explained(
    cluster: Cluster, evacuate: bool, budget: int | None, exclude: bool
) -> None:
    policy = Policy(
        time_limit_s=0.5,
        evacuate=("h1",) if evacuate else (),
        max_migrations=budget,
        exclude=("h0",) if exclude else (),
    )
    try:
        target = optimize(cluster, policy)
    except InfeasibleError as err:
        assert err.conflicts, "an infeasible input names its conflicts"
        return
    stays = frozenset(s.vm_uuid for s in target.stays)
    assert check_placement(cluster, target.placement, policy, stays) == []
    assert set(target.placement) == {vm.uuid for vm in cluster.vms}
    assert set(target.reasons) == {u for u, h in target.placement.items() if h != cluster.vm_by_uuid[u].host}
    if evacuate:
        left = {vm.uuid for vm in cluster.vms if target.placement[vm.uuid] == "h1" and vm.host == "h1"}
        assert left == {s.vm_uuid for s in target.stays if s.host == "h1"}


@SETTINGS
@given(st.integers(2, 5), st.integers(1, 4), st.sampled_from([1024, 4096]))
def test_balanced_cluster_gets_an_empty_plan(hosts: int, per_host: int, memory: int) -> None:
    vms = [make_vm(host=f"h{i}", memory_mib=memory) for i in range(hosts) for _ in range(per_host)]
    cluster = make_cluster([make_host(f"h{i}") for i in range(hosts)], vms)
    assert optimize(cluster, POLICY).reasons == {}


def test_contradictory_pins_are_infeasible_with_an_explanation() -> None:
    vm = make_vm("x", host="h0")
    rules = [
        PlacementRule("pin", "p", vms=("x",), hosts=("h1",)),
        PlacementRule("avoid", "q", vms=("x",), hosts=("h1",)),
    ]
    cluster = make_cluster([make_host("h0"), make_host("h1")], [vm], rules)
    try:
        optimize(cluster, POLICY)
    except InfeasibleError as err:
        assert "Pin(p)" in err.conflicts[0] and "Avoid(q)" in err.conflicts[0]
    else:
        raise AssertionError("expected InfeasibleError")
