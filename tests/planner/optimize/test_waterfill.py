"""Water-filling: hosts above the band drain towards those below it, each move paying for itself."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from planner.load import host_loads
from planner.model import Cluster, PlacementRule
from planner.optimize.filler import GUESTS_PER_HOST, Filler
from planner.optimize.load_state import LoadState, Mover
from planner.optimize.optimizer import check_placement, optimize
from planner.optimize.solve import build_problem, objective_points
from planner.optimize.waterfill import waterfill
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm


def test_a_big_group_on_a_small_host_moves_as_one_when_that_lowers_the_peak() -> None:
    # The pair (64 + 16 GiB, hard affinity) holds a 96 GiB host at 83%; big hosts sit at 50%.
    small = make_host("small", memory_mib=98304)
    bigs = [make_host(f"big{i}", memory_mib=393216) for i in range(4)]
    pair = [
        make_vm("db0", host="small", memory_mib=65536, cpu_millicores=0),
        make_vm("db1", host="small", memory_mib=16384, cpu_millicores=0),
    ]
    filler = [make_vm(host=f"big{i}", memory_mib=8192, cpu_millicores=0) for i in range(4) for _ in range(24)]
    rules = [PlacementRule("affinity", "db", vms=("db0", "db1"))]
    cluster = make_cluster([small, *bigs], [*pair, *filler], rules)
    policy = Policy()
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    got = waterfill(p, dict(cluster.placement))
    assert got[pair[0].uuid] == got[pair[1].uuid] != "small"
    assert check_placement(cluster, got, policy) == []
    assert objective_points(p, got) < objective_points(p, cluster.placement)


def test_hosts_under_a_fixed_peak_are_still_drained_to_the_level() -> None:
    # h0's guest cannot move (52.7%): the peak stays there, yet the hosts at 50% drain towards 31%.
    hosts = [make_host(f"h{i}") for i in range(8)]
    anchor = make_vm(host="h0", memory_mib=34537, cpu_millicores=0, migratable=False)
    hot = [make_vm(host=f"h{i}", memory_mib=4096, cpu_millicores=0) for i in (1, 2, 3) for _ in range(8)]
    cool = [make_vm(host=f"h{i}", memory_mib=4096, cpu_millicores=0) for i in (4, 5, 6, 7) for _ in range(3)]
    cluster = make_cluster(hosts, [anchor, *hot, *cool])
    target = optimize(cluster, Policy(time_limit_s=3.0))
    shares = {hl.host: hl.memory_pct for hl in host_loads(cluster, target.placement)}
    assert shares["h0"] > 52
    assert max(shares[f"h{i}"] for i in range(1, 8)) <= 37.5  # at most one guest above the level


def crowded_cluster(bigs_on_crowd: int = 3) -> Cluster:
    """ "crowd" (256 GiB) holds `bigs_on_crowd` guests of 64 GiB and four of 4 GiB; four 400 GiB hosts
    sit at half full with 8 GiB guests (the cluster's level is about 54%)."""
    crowd = make_host("crowd", cpus=64, memory_mib=262144)
    bigs = [make_host(f"big{i}", cpus=64, memory_mib=409600) for i in range(4)]
    heavy = [
        make_vm(f"heavy{i}", host="crowd", memory_mib=65536, cpu_millicores=0) for i in range(bigs_on_crowd)
    ]
    light = [make_vm(f"light{i}", host="crowd", memory_mib=4096, cpu_millicores=0) for i in range(4)]
    fill = [make_vm(host=f"big{i}", memory_mib=8192, cpu_millicores=0) for i in range(4) for _ in range(25)]
    return make_cluster([crowd, *bigs], [*heavy, *light, *fill])


def filler_for(cluster: Cluster) -> Filler:
    policy = Policy()
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    state = LoadState(cluster, dict(cluster.placement), policy.cpu_weight, policy.memory_weight)
    return Filler(p, Mover(state, None, None), {})


def test_the_big_guest_that_cannot_stay_beside_the_bigger_ones_is_crowded() -> None:
    # Three 64 GiB guests are 75% of "crowd": no one guest brings it under its target (no cover),
    # but two of them fit under it, so the third is the one that must go.
    fill = filler_for(crowded_cluster())
    assert fill.cover("crowd", frozenset()) is None
    crowded = fill.crowded("crowd", frozenset())
    assert crowded is not None and crowded.memory_mib == 65536
    assert fill.crowded("big0", frozenset()) is None  # under its targets


def test_a_big_guest_does_not_land_where_it_and_the_big_guests_there_exceed_the_target() -> None:
    fill = filler_for(crowded_cluster(bigs_on_crowd=2))
    by_name = {vm.name: vm for vm in fill.state.cluster.vms}
    assert not fill.crowds(by_name["heavy0"], "big0")  # one 64 GiB guest fits a 400 GiB host
    fill.move(by_name["heavy0"], "big0")
    assert fill.crowds(by_name["heavy1"], "big0") is False  # two fit (128 of 400 GiB)
    crowded = filler_for(crowded_cluster())
    third = {vm.name: vm for vm in crowded.state.cluster.vms}["heavy2"]
    crowded.move(third, "big0")
    assert crowded.crowds(third, "crowd")  # back beside two others: 192 of 256 GiB


def test_no_big_guest_covers_a_host_whose_smaller_guests_bring_it_under_the_target() -> None:
    """A 256 GiB host at 56 % (one 64 GiB guest, ten of 8 GiB) against a target near 51 %: the
    64 GiB guest alone would bring it under, but at 25 % below the level, for others to fill back (the
    through-traffic that moved 15-23 % more memory than the excess on 100/2,000 with memory alone);
    two of its 8 GiB guests do it."""
    crowd = make_host("crowd", cpus=64, memory_mib=262144)
    bigs = [make_host(f"big{i}", cpus=64, memory_mib=409600) for i in range(4)]
    vms = [make_vm(host="crowd", memory_mib=65536, cpu_millicores=0)]
    vms += [make_vm(host="crowd", memory_mib=8192, cpu_millicores=0) for _ in range(10)]
    vms += [make_vm(host=f"big{i}", memory_mib=8192, cpu_millicores=0) for i in range(4) for _ in range(25)]
    fill = filler_for(make_cluster([crowd, *bigs], vms))
    assert fill.state.use["crowd"][1] > fill.target_bp["memory"] * fill.state.cap["crowd"][1] / 10_000
    assert fill.cover("crowd", frozenset()) is None
    crowded = fill.crowded("crowd", frozenset())  # the first guest that does not fit beside bigger ones
    assert crowded is not None and crowded.memory_mib == 8192


def test_a_big_guest_does_not_land_where_the_guests_half_its_size_would_be_stuck_above_the_target() -> None:
    """A 128 GiB guest beside two 64 GiB ones on a 256 GiB host: none there is as big as it, but
    once the other hosts are level no host has room for a 64 GiB guest either, so all three would be
    stuck there at 100 % (1,000/20,000 seed 18 ended with a host of 64+64+32+32 GiB at 63.6 % against
    a bound of 60.7, its 32 GiB guests having been there when the 64s came)."""
    cluster = crowded_cluster(bigs_on_crowd=2)
    huge = make_vm("huge", host="big0", memory_mib=131072, cpu_millicores=0)
    cluster = make_cluster(cluster.hosts, [*cluster.vms, huge])
    fill = filler_for(cluster)
    assert fill.crowds(huge, "crowd")
    assert not fill.crowds(huge, "big1")  # 200 + 128 of 400 GiB: its 8 GiB guests are not half its size
    light = {vm.name: vm for vm in cluster.vms}["light0"]
    assert not fill.crowds(light, "big1")


def test_water_filling_moves_the_crowded_big_guest_off_while_the_big_hosts_have_room() -> None:
    cluster = crowded_cluster()
    policy = Policy()
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    got = waterfill(p, dict(cluster.placement))
    shares = {hl.host: hl.memory_pct for hl in host_loads(cluster, got)}
    assert sum(got[vm.uuid] == "crowd" for vm in cluster.vms if vm.memory_mib == 65536) <= 2
    assert max(shares.values()) < 62
    assert check_placement(cluster, got, policy) == []


def two_generations(n1: int = 6, n2: int = 14, o2: int = 10) -> Cluster:
    """n1, n2 run a newer CPU: guests of that signature run only there; generic guests run anywhere.
    The new guests fill n1 + n2 to 62.5 % of memory, against a level of about 70 %; o1 is the hot host."""
    hosts = [make_host(h, cpus=16, memory_mib=65536) for h in ("n1", "n2", "o1", "o2")]
    gib = 4096
    vms = [
        *(
            make_vm(f"new-a{i}", host="n1", memory_mib=gib, cpu_millicores=0, cpu_signature="new")
            for i in range(n1)
        ),
        *(
            make_vm(f"new-b{i}", host="n2", memory_mib=gib, cpu_millicores=0, cpu_signature="new")
            for i in range(n2)
        ),
        *(make_vm(f"hot{i}", host="o1", memory_mib=gib, cpu_millicores=0) for i in range(15)),
        *(make_vm(f"warm{i}", host="o2", memory_mib=gib, cpu_millicores=0) for i in range(o2)),
    ]
    compat = {"new": ("n1", "n2"), "x86-generic": ("n1", "n2", "o1", "o2")}
    return make_cluster(hosts, vms, compatibility=compat)


def test_a_class_its_own_guests_nearly_fill_is_reserved_for_them() -> None:
    fill = filler_for(two_generations())
    assert fill.reserved == [frozenset({"n1", "n2"})]
    new, generic = (fill.state.cluster.vm_by_name[n] for n in ("new-a0", "hot0"))
    assert fill.kept_out(new) == frozenset()
    assert fill.kept_out(generic) == frozenset({"n1", "n2"})
    # Its own ten guests fill 31 % of it, the level is 61 %: nothing is reserved.
    assert filler_for(two_generations(n1=5, n2=5, o2=14)).reserved == []


def test_a_guest_allowed_elsewhere_lands_in_a_reserved_class_only_when_no_other_host_gains() -> None:
    fill = filler_for(two_generations())
    hot = fill.state.cluster.vm_by_name["hot0"]
    assert fill.best_dest(hot) is not None and fill.best_dest(hot)[1] == "o2"  # n1 is lighter
    fill.reserved, fill.keep_out = [], {}
    assert fill.best_dest(hot)[1] == "n1"  # type: ignore[index]
    fill.reserved, fill.keep_out = [frozenset({"n1", "n2", "o2"})], {}
    assert fill.best_dest(hot)[1] == "n1"  # type: ignore[index]  # every landing reserved: the best


def test_a_reserved_class_host_gives_up_the_guest_allowed_elsewhere_though_it_gains_least() -> None:
    """n1 holds nine guests of the new CPU (2-10 GiB, more than a move asks about) and one generic
    guest of 1 GiB, the one whose leaving gains least; n2, the class's other host, is as full. Only the
    generic guest can leave, to o1 or o2: it is asked too."""
    gib = 1024
    hosts = [make_host(h, memory_mib=64 * gib) for h in ("n1", "n2", "o1", "o2")]
    vms = [
        *(
            make_vm(f"new{s}", host="n1", memory_mib=s * gib, cpu_millicores=0, cpu_signature="new")
            for s in range(2, 11)
        ),
        make_vm("generic", host="n1", memory_mib=gib, cpu_millicores=0),
        *(
            make_vm(f"n2-{i}", host="n2", memory_mib=5 * gib, cpu_millicores=0, cpu_signature="new")
            for i in range(11)
        ),
        *(make_vm(f"o{i}", host=f"o{1 + i % 2}", memory_mib=gib, cpu_millicores=0) for i in range(26)),
    ]
    cluster = make_cluster(
        hosts, vms, compatibility={"new": ("n1", "n2"), "x86-generic": ("n1", "n2", "o1", "o2")}
    )
    fill = filler_for(cluster)
    assert fill.reserved == [frozenset({"n1", "n2"})]
    assert len(fill.shortlist("n1", frozenset())) > GUESTS_PER_HOST
    move = fill.best_move("n1", frozenset())
    assert move is not None and move[1].name == "generic" and move[2] in ("o1", "o2")


def held_by_generic(o_guests: int = 7) -> Cluster:
    """n1, n2 (new CPU) each hold nine guests of their own and three generic ones (4 GiB each, 48 of
    64 GiB); o1-o3 hold `o_guests` generic guests each. With 7, the level is 56.25 %: exactly what the
    new guests need of n1 + n2, and the generic guests on them are what holds the class above it."""
    gib = 1024
    hosts = [make_host(h, memory_mib=64 * gib) for h in ("n1", "n2", "o1", "o2", "o3")]
    vms = [
        *(
            make_vm(f"new-{h}{i}", host=h, memory_mib=4 * gib, cpu_millicores=0, cpu_signature="new")
            for h in ("n1", "n2")
            for i in range(9)
        ),
        *(
            make_vm(f"gen-{h}{i}", host=h, memory_mib=4 * gib, cpu_millicores=0)
            for h in ("n1", "n2")
            for i in range(3)
        ),
        *(
            make_vm(f"gen-{h}{i}", host=h, memory_mib=4 * gib, cpu_millicores=0)
            for h in ("o1", "o2", "o3")
            for i in range(o_guests)
        ),
    ]
    compat = {"new": ("n1", "n2"), "x86-generic": ("n1", "n2", "o1", "o2", "o3")}
    return make_cluster(hosts, vms, compatibility=compat)


def test_guests_allowed_elsewhere_leave_a_reserved_class_held_above_its_level() -> None:
    fill = filler_for(held_by_generic())
    assert fill.reserved == [frozenset({"n1", "n2"})]
    assert fill.clear_reserved(frozenset()) == 6
    where = fill.state.placement
    by_name = fill.state.cluster.vm_by_name
    # Every generic guest left n1 and n2, two to each of o1-o3 (the band, 58.25 %, takes two more);
    # the class's own guests stay and fill it to the level.
    assert sorted(where[by_name[f"gen-{h}{i}"].uuid] for h in ("n1", "n2") for i in range(3)) == [
        "o1",
        "o1",
        "o2",
        "o2",
        "o3",
        "o3",
    ]
    assert all(where[vm.uuid] == vm.host for vm in fill.state.cluster.vms if vm.name.startswith("new"))
    assert fill.clear_reserved(frozenset()) == 0  # at its level: nothing more leaves


def test_clearing_a_reserved_class_never_lands_above_a_band_nor_in_a_full_reserved_class() -> None:
    fill = filler_for(held_by_generic(o_guests=9))  # o1-o3 at 56 %, the level 61.25 %: room for one each
    moved = fill.clear_reserved(frozenset())
    assert moved == 3
    assert all(fill.room(h, 1) >= 0 for h in ("o1", "o2", "o3"))
    fill = filler_for(held_by_generic())
    generic = fill.state.cluster.vm_by_name["gen-n10"]
    class_ = frozenset({"n1", "n2"})
    assert fill._outside(generic, "n1", class_, {}) in ("o1", "o2", "o3")
    # o1 and o2 in a reserved class with no room to spare (at its level): only o3 takes it.
    assert fill._outside(generic, "n1", class_, {frozenset({"o1", "o2"}): (0.0, 0.0)}) == "o3"
    assert fill._outside(generic, "n1", class_, {frozenset({"o1", "o2", "o3"}): (0.0, 1024.0)}) is None


@st.composite
def reserved(draw: st.DrawFn) -> Cluster:
    """Clusters whose newer half runs 10-20 guests of its own CPU and generic guests too, with a hard
    anti-affinity rule among the generic guests now and then."""
    n_hosts = draw(st.integers(3, 6))
    hosts = [make_host(f"h{i}", cpus=16, memory_mib=32768) for i in range(n_hosts)]
    new_hosts = [h.name for h in hosts[: (n_hosts + 1) // 2]]
    sizes = st.sampled_from([1024, 2048, 3072])
    vms = [
        make_vm(
            f"new{i}",
            host=draw(st.sampled_from(new_hosts)),
            memory_mib=draw(sizes),
            cpu_millicores=draw(st.integers(0, 1500)),
            cpu_signature="new",
        )
        for i in range(draw(st.integers(10, 20)))
    ]
    vms += [
        make_vm(
            f"gen{i}",
            host=f"h{draw(st.integers(0, n_hosts - 1))}",
            memory_mib=draw(sizes),
            cpu_millicores=draw(st.integers(0, 1500)),
        )
        for i in range(draw(st.integers(2, 16)))
    ]
    rules = []
    if draw(st.booleans()):
        names = tuple(f"gen{i}" for i in range(draw(st.integers(2, 3))))
        rules.append(PlacementRule("anti-affinity", "apart", vms=names, hard=True))
    compat = {"new": tuple(new_hosts), "x86-generic": tuple(h.name for h in hosts)}
    return make_cluster(hosts, vms, rules, compatibility=compat)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reserved(), st.sampled_from([None, 1, 3]))
def test_clearing_a_reserved_class_keeps_every_rule_the_budget_and_the_bands(
    cluster: Cluster, budget: int | None
) -> None:
    """Guests allowed elsewhere that leave a reserved class: every hard rule and the budget hold, the
    class's own guests stay, each lands outside every reserved class it may avoid and within its new
    host's band, and the state's loads stay those of its placement."""
    policy = Policy(max_migrations=budget)
    if check_placement(cluster, cluster.placement, policy):
        return  # the snapshot already breaks a rule: the solver's business, not the heuristics'
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    state = LoadState(cluster, dict(cluster.placement), policy.cpu_weight, policy.memory_weight)
    fill = Filler(p, Mover(state, budget, None), {})
    moved = fill.clear_reserved(frozenset())
    event(f"reserved: {bool(fill.reserved)}, moved: {min(moved, 2)}")
    got = dict(state.placement)
    assert check_placement(cluster, got, policy) == []
    gone = [vm for vm in cluster.vms if got[vm.uuid] != vm.host]
    assert len(gone) == moved and (budget is None or moved <= budget)
    for vm in gone:
        assert not vm.name.startswith("new")
        assert got[vm.uuid] not in fill.kept_out(vm)
        assert all(fill.room(got[vm.uuid], i) >= 0 for i in (0, 1))
    for host in state.use:
        on = [vm for vm in cluster.vms if got[vm.uuid] == host]
        assert state.use[host][:2] == [
            sum(v.cpu_demand_millicores for v in on),
            sum(v.memory_mib for v in on),
        ]
