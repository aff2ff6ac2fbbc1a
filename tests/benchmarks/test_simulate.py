"""The fluid simulator against the worked example, and the benchmark's targets on its quick cases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.fluid import Batches, Serial, Streaming, simulate
from benchmarks.simulate import main
from planner.plan import Migration
from planner.schedule.precopy import Limits, estimate

MB = 1e6 / 2**20
PURE = Limits(auto_converge=False)


def _four_off_one_host(bandwidth: int = 0) -> list[Migration]:
    return [
        Migration(
            id=f"m{i}",
            vm_uuid=f"vm{i}",
            vm_name=f"vm{i}",
            source="src",
            destination=f"dst{i}",
            memory_mib=16384,
            reason="test",
            bandwidth_mibps=bandwidth,
        )
        for i in range(1, 5)
    ]


NIC = {"src": 1100 * MB, **{f"dst{i}": 10_000.0 for i in range(1, 5)}}
DIRTY = {f"vm{i}": 100 * MB for i in range(1, 5)}


@pytest.mark.parametrize(
    ("policy", "makespan", "gb_sent"),
    [
        pytest.param(Batches(_four_off_one_host(), 4, per_host=4), 98.1, 4 * 27.0, id="4-share-the-link"),
        pytest.param(Serial(_four_off_one_host()), 68.7, 4 * 18.9, id="one-after-another"),
    ],
)
def test_worked_example_4_guests_of_16gib_over_one_link(
    policy: object, makespan: float, gb_sent: float
) -> None:
    out = simulate(policy, NIC, DIRTY, PURE)  # type: ignore[arg-type]
    assert out.makespan_s == pytest.approx(makespan, abs=0.1)
    assert out.sent_mib / MB / 1000 == pytest.approx(gb_sent, abs=0.2)


def test_a_migration_at_its_reserved_rate_costs_what_the_model_says() -> None:
    moves = _four_off_one_host(bandwidth=250)  # 4 x 250 fit the 1,049 MiB/s NIC
    out = simulate(Streaming(moves, NIC, 4, 4, 8), NIC, DIRTY, Limits())
    single = estimate(16384, 250, 100 * MB)
    assert out.makespan_s == pytest.approx(single.duration_s, rel=1e-6)
    assert out.sent_mib == pytest.approx(4 * single.sent_mib, rel=1e-6)


def test_streaming_keeps_the_nic_reservations() -> None:
    moves = _four_off_one_host(bandwidth=1000)
    out = simulate(Streaming(moves, {**NIC, "src": 1000.0}, 4, 4, 8), {**NIC, "src": 1000.0}, DIRTY, Limits())
    single = estimate(16384, 1000, 100 * MB)
    assert sorted(out.ends.values()) == pytest.approx([k * single.duration_s for k in (1, 2, 3, 4)], rel=1e-6)


def test_dependencies_hold_in_every_policy() -> None:
    first, second = _four_off_one_host()[:2]
    second = replace(second, depends_on=("m1",))
    for policy in (
        Batches([first, second], 5),
        Serial([first, second]),
        Streaming([first, second], NIC, 2, 2, 2),
    ):
        out = simulate(policy, NIC, DIRTY, PURE)
        assert out.ends["m2"] == pytest.approx(2 * out.ends["m1"])


def test_the_quick_benchmark_meets_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    summary = main(["--quick"])
    assert summary["meets_bound_target"] and summary["meets_gain_target"]
    assert all(case["estimate_matches_simulation"] for case in summary["cases"])  # type: ignore[union-attr]
    assert "worst ours/bound" in capsys.readouterr().out


def test_the_simulator_sends_resident_memory_like_the_planner() -> None:
    moves = _four_off_one_host(bandwidth=250)
    resident = {f"vm{i}": 2048.0 for i in range(1, 5)}
    out = simulate(Streaming(moves, NIC, 4, 4, 8), NIC, DIRTY, Limits(), resident)
    single = estimate(16384, 250, 100 * MB, resident_mib=2048)
    assert out.makespan_s == pytest.approx(single.duration_s, rel=1e-6)
