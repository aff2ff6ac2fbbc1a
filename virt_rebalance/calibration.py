"""Estimates that learn: each host pair's migrations in the journal calibrate the next plan's estimates.

For a link (source > destination), the newest RECENT done migrations give, by least squares with the
configured values as the starting point (each counts as one migration's worth of evidence):

    duration = setup_s + sent / (granted rate * rate_factor)
    sent = sent_fixed_mib + model's bytes * sent_factor

`setup_s` is the fixed cost (prepare, destination QEMU start, confirm), `rate_factor` the share of the
granted bandwidth really reached (at most 1), `sent_fixed_mib` and `sent_factor` what is really sent against
the pre-copy model's bytes (an idle guest sends about the same whatever its size; zero pages, compression,
a guest idler or busier than measured). The planner takes the result as
data (`Budgets.links`); a link with no history of its own uses what all links taught together (ANY_LINK:
hosts of one cluster are usually alike), and with no history at all the configured values. Each link also
says how far off its migrations' estimates were (`error_pct`), the running error the reports show.

A whole run takes more than its migrations: connecting to the hosts, the checks before each move, the
verification after. The newest RECENT_RUNS complete runs give that as `Budgets.apply_overhead_s` (what
they took beyond their migrations' estimated makespan, none counting as one run), which the plan adds.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from planner.policy import ANY_LINK, Budgets, LinkCalibration, link_key

#: The newest migrations per link, and the newest whole runs, that count.
RECENT, RECENT_RUNS = 20, 5
#: Bounds of what a link can learn (a few odd runs must not make estimates absurd).
MAX_SLOWDOWN = 20.0
SENT_FACTOR_RANGE = (0.0, 20.0)
#: How many migrations' worth the configured values count for: durations, and bytes (the model's bytes
#: are a weak guess: what an idle guest really sends hardly depends on its size; on the lab 73-80 MiB
#: for guests of 128-512 MiB).
DURATION_PRIOR, BYTES_PRIOR = 1.0, 0.01


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One done migration: what it was granted and expected, and what it took."""

    source: str
    destination: str
    bandwidth_mibps: int
    estimated_s: float
    model_mib: float
    actual_s: float
    actual_mib: float


def read_samples(journal: Path, recent: int = RECENT) -> list[Sample]:
    """The newest `recent` done migrations per link in the journal at `journal` (none if it is missing,
    unreadable or older than the columns this needs)."""
    if not journal.is_file():
        return []
    query = (
        "SELECT source, destination, bandwidth_mibps, estimated_s, model_mib, actual_s, actual_mib "
        "FROM migrations WHERE state = 'done' AND actual_s > 0 AND actual_mib > 0 AND bandwidth_mibps > 0 "
        "AND model_mib > 0 AND estimated_s IS NOT NULL ORDER BY ended_at DESC"
    )
    try:
        with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)) as db:
            rows = db.execute(query).fetchall()
    except sqlite3.Error:  # an older schema, a damaged or locked file: plan with the configured values
        return []
    kept: defaultdict[str, int] = defaultdict(int)
    out = []
    for src, dst, rate, est_s, model, act_s, act_mib in rows:
        kept[link_key(src, dst)] += 1
        if kept[link_key(src, dst)] <= recent:
            out.append(Sample(source=src, destination=dst, bandwidth_mibps=int(rate), estimated_s=float(est_s),
                              model_mib=float(model), actual_s=float(act_s), actual_mib=float(act_mib)))  # fmt: skip
    return out


def calibrate(samples: Iterable[Sample], setup_s: float) -> dict[str, LinkCalibration]:
    """Each link's calibration from its samples, starting from the configured `setup_s`, and all of them
    together under ANY_LINK."""
    by_link: defaultdict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_link[link_key(s.source, s.destination)].append(s)
    if not by_link:
        return {}
    pooled = [s for group in by_link.values() for s in group]
    return {ANY_LINK: _link(pooled, setup_s)} | {key: _link(g, setup_s) for key, g in sorted(by_link.items())}


def _link(samples: list[Sample], setup0: float) -> LinkCalibration:
    n = len(samples)
    # Bytes: actual = fixed + factor * model (an idle guest sends about the same whatever its size).
    models, sent = [s.model_mib for s in samples], [s.actual_mib for s in samples]
    factor = _slope(models, sent, 0.0, 1.0, SENT_FACTOR_RANGE, BYTES_PRIOR)
    fixed = _intercept(models, sent, factor, 0.0, (0.0, max(sent)), BYTES_PRIOR)
    if fixed == 0.0:  # no fixed part: the share alone, through the origin
        w = BYTES_PRIOR * (sum(models) / n) ** 2
        factor = (sum(m * a for m, a in zip(models, sent, strict=True)) + w) / (
            sum(m * m for m in models) + w
        )
        factor = min(max(factor, SENT_FACTOR_RANGE[0]), SENT_FACTOR_RANGE[1])
    # Duration y = setup + b x, x = the bytes really sent at the granted rate (s), b = 1 / rate_factor.
    xs = [s.actual_mib / s.bandwidth_mibps for s in samples]
    ys = [s.actual_s for s in samples]
    b = _slope(xs, ys, setup0, 1.0, (1.0, MAX_SLOWDOWN), DURATION_PRIOR)  # never faster than granted
    setup = _intercept(xs, ys, b, setup0, (0.0, max(ys)), DURATION_PRIOR)
    error = 100.0 * sum(abs(s.estimated_s - s.actual_s) / s.actual_s for s in samples) / n
    return LinkCalibration(
        setup_s=round(setup, 3),
        rate_factor=round(1.0 / b, 4),
        sent_factor=round(factor, 4),
        sent_fixed_mib=round(fixed, 1),
        samples=n,
        error_pct=round(error, 1),
    )


def _slope(
    xs: list[float], ys: list[float], a0: float, b0: float, bounds: tuple[float, float], prior: float = 1.0
) -> float:
    """b of y = a + b x by least squares, with the prior (a0, b0) weighing as `prior` points."""
    n, sx, sy = len(xs), sum(xs), sum(ys)
    sxx, sxy = sum(x * x for x in xs), sum(x * y for x, y in zip(xs, ys, strict=True))
    wa, wb = prior, prior * ((sx / n) ** 2 or 1.0)
    det = (n + wa) * (sxx + wb) - sx * sx
    b = ((n + wa) * (sxy + wb * b0) - sx * (sy + wa * a0)) / det
    return min(max(b, bounds[0]), bounds[1])


def _intercept(
    xs: list[float], ys: list[float], b: float, a0: float, bounds: tuple[float, float], prior: float = 1.0
) -> float:
    """a of y = a + b x for a given b, with the prior a0 weighing as `prior` points."""
    a = (sum(ys) - b * sum(xs) + prior * a0) / (len(xs) + prior)
    return min(max(a, bounds[0]), bounds[1])


def read_runs(journal: Path, recent: int = RECENT_RUNS) -> list[tuple[float, float]]:
    """(real, estimated) seconds of the newest `recent` runs that carried out every migration of their
    plan themselves (not a resumed run's rest; none if the journal is missing, unreadable or older than its
    runs table)."""
    if not journal.is_file():
        return []
    query = (
        "SELECT elapsed_s, estimated_s FROM runs WHERE status = 'done' AND elapsed_s > 0 AND estimated_s > 0 "
        "AND carried_out = (SELECT COUNT(*) FROM migrations m WHERE m.plan_id = runs.plan_id) "
        "ORDER BY finished_at DESC LIMIT ?"
    )
    try:
        with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)) as db:
            return [(float(e), float(s)) for e, s in db.execute(query, (recent,))]
    except sqlite3.Error:  # an older schema, a damaged or locked file
        return []


def apply_overhead(runs: list[tuple[float, float]]) -> float:
    """What whole runs took beyond their migrations' estimated makespan (journal `runs`, recorded without
    any overhead learned before), on average, with none (0 s) counting as one more run."""
    if not runs:
        return 0.0
    return round(max(0.0, sum(real - estimated for real, estimated in runs) / (len(runs) + 1)), 2)


def learned(budgets: Budgets, state_dir: str | Path) -> Budgets:
    """`budgets` with each link's calibration and apply's own time from the journal under `state_dir`."""
    journal = Path(state_dir) / "journal.sqlite"
    links = calibrate(read_samples(journal), budgets.setup_s)
    overhead = apply_overhead(read_runs(journal))
    return replace(budgets, links=links, apply_overhead_s=overhead) if links or overhead else budgets


def describe(budgets: Budgets) -> list[str]:
    """One line per calibrated link, and apply's own time, for the plan's report."""
    links = budgets.links
    overhead = (
        [f"apply's own work (connecting, checks, verifying): {budgets.apply_overhead_s:.1f}s a run"]
        if budgets.apply_overhead_s
        else []
    )
    return overhead + [
        f"{'any other link' if key == ANY_LINK else key.replace('>', ' -> ')}: set-up {c.setup_s:.1f}s, {100 * c.rate_factor:.0f}% of the granted rate, "
        f"{c.sent_fixed_mib:.0f} MiB + {100 * c.sent_factor:.0f}% of the model's bytes (from {c.samples} migration(s), whose estimates "
        f"were off by {c.error_pct:.0f}% on average)"
        for key, c in sorted(links.items())
    ]
