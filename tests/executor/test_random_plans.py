"""Random plans on fake hosts: whatever the plan, order and budgets hold and every guest ends up once."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.executor.harness import Lab, statuses
from tests.executor.test_runner import overlap


@pytest.mark.parametrize("seed", range(4))
def test_random_plan_keeps_every_promise(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lab = Lab(tmp_path, hosts=4, host_mib=100_000)
    hosts = list(lab.world.hosts)
    moves = []
    for i in range(10):
        src = rng.choice(hosts)
        lab.guest(f"g{i}", src, memory_mib=150)
        dst = rng.choice([h for h in hosts if h != src])
        deps = tuple(f"m{j}" for j in range(i) if rng.random() < 0.2)
        moves.append(lab.move(f"m{i}", f"g{i}", src, dst, bandwidth_mibps=300, depends_on=deps))
    caps = {"max_outgoing_per_host": rng.randint(1, 2), "max_incoming_per_host": rng.randint(1, 2)}
    caps["max_concurrent"] = rng.randint(1, 4)
    rng.shuffle(moves)
    report = lab.apply(lab.plan(*moves, **caps))
    assert set(statuses(report).values()) == {"done"}
    jobs = {j.dom.vm_name: j for j in lab.world.migrations}
    for m in moves:
        assert lab.where(m.vm_name) == [m.destination]
        for dep in m.depends_on:
            assert jobs[m.vm_name].started >= jobs[f"g{dep[1:]}"].ended
    for key, cap in (("source", "max_outgoing_per_host"), ("destination", "max_incoming_per_host")):
        for h in hosts:
            assert overlap([j for j in jobs.values() if getattr(j, key).name == h]) <= caps[cap]
    assert overlap(list(jobs.values())) <= caps["max_concurrent"]


def test_empty_plan_is_nothing_to_do(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    report = lab.apply(lab.plan())
    assert (report.status, report.outcomes) == ("nothing-to-do", ())
    assert lab.world.calls["open"] == 0


def test_unsafe_is_warned_in_the_report(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    lab.guest("a", "h1")
    report = lab.apply(lab.plan(lab.move("m1", "a", "h1", "h2")), lab.config(unsafe=True))
    assert report.status == "done" and any("unsafe" in w for w in report.warnings)
