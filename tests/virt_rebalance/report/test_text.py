"""The text report: each section there, in order, with the plan's numbers; plain mode for pipes."""

from __future__ import annotations

import pytest

from tests.virt_rebalance.sample import empty_plan, plan_for, sample_cluster, sample_plan
from virt_rebalance.report import text, units


def test_sections_in_reading_order() -> None:
    out = text.render(sample_plan(), plain=True)
    order = ["Plan: rebalance", "Migrations, in order", "Hosts, before -> after", "Balance:", "Staying, and why",
             "Budgets used", "Guests a CPU ties to some hosts", "Notes:"]  # fmt: skip
    positions = [out.index(h) for h in order]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    "words",
    [
        "1  web-1  h1    h2  4.0 GiB   0.0s   10s  -",  # guest, from, to, size, start, estimate, after
        "2  db-1   h1    h3  8.0 GiB    10s   10s  1",
        "h1 runs hot",  # reason
        "h1    active  55% (7.5/13.6 cores) -> 22%",  # cpu before -> after
        "peak load 64.0% -> 30.0% (lower bound 28.0%)",
        "g-kvm  h1    cpu-compatible  no other host can run its CPU",
        "makespan                 20s        lower bound 16s (1.25x)",
        "migrations               2          10",
    ],
    ids=["move-1", "move-2", "reason", "host-load", "balance", "stay", "makespan", "budget"],
)
def test_plain_report_carries_the_numbers(words: str) -> None:
    assert words in text.render(sample_plan(), plain=True)


def test_plain_has_no_escape_codes_or_box_lines() -> None:
    out = text.render(sample_plan(), plain=True)
    assert "\x1b[" not in out and "─" not in out
    assert all(line == line.rstrip() for line in out.splitlines())


def test_terminal_has_tables() -> None:
    assert "─" in text.render(sample_plan(), plain=False)


def test_empty_plan_says_nothing_to_do() -> None:
    out = text.render(empty_plan(), plain=True)
    assert "nothing to do" in out and "Migrations" not in out and "already balanced" in out


def test_evacuation_headline_and_host_marked() -> None:
    plan = plan_for(sample_cluster(), [("web-1", "h2")], goal="evacuate", evacuate=("h1",))
    out = text.render(plan, plain=True)
    assert out.startswith("Plan: evacuate h1 (3 hosts, 5 guests): 1 migration(s)")
    assert "active (evacuate)" in out


@pytest.mark.parametrize(
    ("mib", "shown"),
    [(512, "512 MiB"), (4096, "4.0 GiB"), (3 * 1024 * 1024, "3.0 TiB")],
    ids=["mib", "gib", "tib"],
)
def test_sizes(mib: int, shown: str) -> None:
    assert units.size(mib) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.42, "0.4s"), (42, "42s"), (185, "3m 05s"), (3720, "1h 02m")],
    ids=["sub", "s", "m", "h"],
)
def test_durations(seconds: float, shown: str) -> None:
    assert units.duration(seconds) == shown


def test_an_unreachable_host_has_no_capacity_and_the_plan_says_partial_first() -> None:
    from dataclasses import replace

    from planner.model import HostState
    from tests.virt_rebalance.sample import plan_for, sample_cluster
    from virt_rebalance.report import html

    cluster = sample_cluster()
    hosts = tuple(replace(h, state=HostState.UNREACHABLE) if h.name == "h3" else h for h in cluster.hosts)
    plan = plan_for(replace(cluster, hosts=hosts), [])
    out = text.render(plan, plain=True)
    assert out.startswith("PARTIAL PLAN: h3 did not answer")
    h3 = next(line for line in out.splitlines() if line.startswith("h3 "))
    assert "no capacity known" in h3 and "-" not in h3.replace("->", "")
    page = html.render(plan)
    assert page.index('id="warnings"') < page.index('class="sub"') and "PARTIAL PLAN: h3" in page


def test_what_the_usage_stands_on_is_said_plainly() -> None:
    from dataclasses import replace

    from tests.virt_rebalance.sample import plan_for, sample_cluster

    window = "instant 2 s reading: the history holds 0 samples of the last 24 h"
    plan = plan_for(replace(sample_cluster(), window=window), [])
    assert f"usage: {window})" in text.render(plan, plain=True)
