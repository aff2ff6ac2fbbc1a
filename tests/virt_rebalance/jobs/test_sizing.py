"""Reserves that leave a host no room for guests are said, with the key to change."""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner.model import HostState
from tests.builders import make_host
from tests.virt_rebalance.sample import sample_cluster
from virt_rebalance.jobs import sizing, steps


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({}, []),
        ({"reserved_memory_mib": 65536}, ["memory reserve (65536 MiB) is not below its memory (65536 MiB)"]),
        ({"reserved_millicores": 20000}, ["CPU reserve (20000 millicores) is not below its 16 CPUs"]),
        (
            {"reserved_memory_mib": 70000, "reserved_millicores": 16000},
            ["reserved_memory_mib", "reserved_millicores"],
        ),
        ({"reserved_memory_mib": 70000, "state": HostState.UNREACHABLE}, []),
    ],
    ids=["fine", "memory", "cpu", "both", "unreachable-says-so-elsewhere"],
)
def test_no_room(overrides: dict, words: list[str]) -> None:
    problems = sizing.no_room(make_host("h1", **overrides))
    assert len(problems) == len(words)
    for problem, word in zip(problems, words, strict=True):
        assert problem.startswith("h1: ") and word in problem


def test_the_jobs_warn_about_it(config, capsys) -> None:
    cluster = sample_cluster()
    hosts = tuple(replace(h, reserved_memory_mib=10**6) if h.name == "h2" else h for h in cluster.hosts)
    steps.current(config, replace(cluster, hosts=hosts))
    assert "h2: its memory reserve (1000000 MiB)" in capsys.readouterr().err
