"""A fluid simulator of live migrations over shared links, with dirty memory (the planner's pre-copy model).

Each host has one NIC, with its rate in each direction. The migrations active on a NIC share it max-min
fairly, each also held to its own cap (the bandwidth libvirt is given; none for the baselines). A migration
sends its rounds as in planner/schedule/precopy.py: round 0 is the whole memory, each next round what the
guest dirtied while the last one ran, until the rest fits the downtime limit at the current rate. So a
migration slowed by sharing a link re-sends more. Who starts when is a StartPolicy:

    Planned(migrations, ..)   Streaming, but none before its planned start (checks the estimates)
    Streaming(migrations, ..) as executor/runner.py runs a plan: in start order, any migration whose
                              dependencies are done and whose reserved bandwidth and counts fit the budgets;
                              with setup_s, a reservation holds from start + setup_s to start + its
                              estimate, as the schedule reserves it (else, as the executor does, from start
                              to end)
    Serial(migrations)        one at a time, in plan order
    Batches(migrations, k)    batch-and-wait: up to k ready ones (at most 2 per host each way), wait for all
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from planner.plan import Migration
from planner.schedule.precopy import Limits, Round, first_round, next_round

_EPS = 1e-9


@dataclass
class _Flow:
    migration: Migration
    cap: float
    started: float
    round: Round
    left: float
    round_started: float
    sent: float = 0.0
    rate: float = 0.0

    def ready(self, now: float) -> bool:
        """Past its set-up (limits.setup_s): it takes bandwidth from `round_started` on."""
        return now >= self.round_started - _EPS


@dataclass(frozen=True)
class Outcome:
    makespan_s: float
    sent_mib: float
    ends: Mapping[str, float] = field(default_factory=dict)


class StartPolicy:
    """Decides which migrations start now; `wake` is the next moment it wants to be asked again."""

    capped = False

    def __init__(self, migrations: Sequence[Migration]) -> None:
        self.order = list(migrations)

    def ready(self, done: set[str], started: set[str]) -> list[Migration]:
        return [m for m in self.order if m.id not in started and set(m.depends_on) <= done]

    def starts(
        self, now: float, running: Sequence[Migration], done: set[str], started: set[str]
    ) -> list[Migration]:
        raise NotImplementedError

    def wake(self, now: float, started: set[str]) -> float:
        return math.inf


class Streaming(StartPolicy):
    capped = True

    def __init__(
        self,
        migrations: Sequence[Migration],
        nic_mibps: Mapping[str, float],
        max_out: int,
        max_in: int,
        max_total: int,
        setup_s: float = 0.0,
    ) -> None:
        super().__init__(sorted(migrations, key=lambda m: m.start_s))
        self.nic, self.max_out, self.max_in, self.max_total = nic_mibps, max_out, max_in, max_total
        self.setup_s = setup_s
        self.now = 0.0
        self.began: dict[str, float] = {}

    def starts(
        self, now: float, running: Sequence[Migration], done: set[str], started: set[str]
    ) -> list[Migration]:
        run = list(running)
        out: list[Migration] = []
        for m in self.ready(done, started):
            if len(run) >= self.max_total:
                break
            src = [r for r in run if r.source == m.source]
            dst = [r for r in run if r.destination == m.destination]
            if len(src) >= self.max_out or len(dst) >= self.max_in:
                continue
            held = self.holding(now, run)
            sending = sum(r.bandwidth_mibps for r in held if r.source == m.source)
            into = sum(r.bandwidth_mibps for r in held if r.destination == m.destination)
            if sending + m.bandwidth_mibps > self.nic[m.source] + 1e-6:
                continue
            if into + m.bandwidth_mibps > self.nic[m.destination] + 1e-6:
                continue
            run.append(m)
            out.append(m)
            self.began[m.id] = now
        return out

    def holding(self, now: float, running: Sequence[Migration]) -> Sequence[Migration]:
        """The running migrations whose reservations a migration starting `now` must fit beside: with
        setup_s, not those estimated to end by now + setup_s, when it first sends (estimates are rounded
        to the millisecond)."""
        if self.setup_s <= 0:
            return running
        sends_at = now + self.setup_s + 2e-3
        return [r for r in running if self.expected_end(r) > sends_at]

    def expected_end(self, m: Migration) -> float:
        return self.began[m.id] + m.estimated_s


class Planned(Streaming):
    """Streaming, but none before its planned start (start times are rounded to the millisecond); a
    reservation ends at the planned end."""

    def expected_end(self, m: Migration) -> float:
        return m.start_s + m.estimated_s

    def ready(self, done: set[str], started: set[str]) -> list[Migration]:
        return [m for m in super().ready(done, started) if m.start_s <= self.now + 1e-6]

    def starts(
        self, now: float, running: Sequence[Migration], done: set[str], started: set[str]
    ) -> list[Migration]:
        self.now = now
        return super().starts(now, running, done, started)

    def wake(self, now: float, started: set[str]) -> float:
        return min(
            (m.start_s for m in self.order if m.id not in started and m.start_s > now + 1e-6),
            default=math.inf,
        )


class Serial(StartPolicy):
    def starts(
        self, now: float, running: Sequence[Migration], done: set[str], started: set[str]
    ) -> list[Migration]:
        return [] if running else self.ready(done, started)[:1]


class Batches(StartPolicy):
    def __init__(self, migrations: Sequence[Migration], size: int, per_host: int = 2) -> None:
        super().__init__(migrations)
        self.size, self.per_host = size, per_host

    def starts(
        self, now: float, running: Sequence[Migration], done: set[str], started: set[str]
    ) -> list[Migration]:
        if running:
            return []
        batch: list[Migration] = []
        out: dict[str, int] = {}
        into: dict[str, int] = {}
        for m in self.ready(done, started):
            if out.get(m.source, 0) < self.per_host and into.get(m.destination, 0) < self.per_host:
                batch.append(m)
                out[m.source] = out.get(m.source, 0) + 1
                into[m.destination] = into.get(m.destination, 0) + 1
            if len(batch) == self.size:
                break
        return batch


def simulate(
    policy: StartPolicy,
    nic_mibps: Mapping[str, float],
    dirty_mibps: Mapping[str, float],
    limits: Limits,
    resident_mib: Mapping[str, float] | None = None,
) -> Outcome:
    """Run `policy`'s migrations to the end; the makespan, every byte sent, and when each ended.

    Round 0 sends a guest's `resident_mib` when given (as the planner does), else all of its memory.
    """
    resident = resident_mib or {}
    now, sent = 0.0, 0.0
    active: dict[str, _Flow] = {}
    started: set[str] = set()
    done: set[str] = set()
    ends: dict[str, float] = {}
    total = len(policy.order)
    while len(done) < total:
        for m in policy.starts(now, [f.migration for f in active.values()], done, started):
            cap = float(m.bandwidth_mibps) if policy.capped and m.bandwidth_mibps > 0 else math.inf
            first = first_round(min(resident.get(m.vm_uuid, m.memory_mib), m.memory_mib))
            active[m.id] = _Flow(m, cap, now, first, first.to_send_mib, now + limits.setup_s)
            started.add(m.id)
        if not active:
            wake = policy.wake(now, started)
            if math.isinf(wake):
                raise RuntimeError(f"{total - len(done)} migration(s) can never start")
            now = wake
            continue
        moving = [f for f in active.values() if f.ready(now)]
        for f in active.values():
            f.rate = 0.0
        _share(moving, nic_mibps)
        step = min(
            [f.left / f.rate for f in moving]
            + [f.round_started - now for f in active.values() if not f.ready(now)]
        )
        step = min(step, policy.wake(now, started) - now)
        now += step
        for key, flow in list(active.items()):
            if flow.rate == 0.0:
                continue
            moved = flow.rate * step
            flow.left -= moved
            flow.sent += moved
            sent += moved
            if flow.left > _EPS * max(1.0, flow.round.to_send_mib):
                continue
            dirty = dirty_mibps[flow.migration.vm_uuid]
            after = next_round(
                flow.round, flow.migration.memory_mib, now - flow.round_started, flow.rate, dirty, limits
            )
            if after is None:
                del active[key]
                done.add(key)
                ends[key] = now
            else:
                flow.round, flow.left, flow.round_started = after, after.to_send_mib, now
    return Outcome(now, sent, ends)


def _share(flows: list[_Flow], nic_mibps: Mapping[str, float]) -> None:
    """Max-min fair rates (progressive filling) over each host's outgoing and incoming NIC, with caps."""
    left: dict[tuple[str, str], float] = {}
    for f in flows:
        for link in _links(f):
            left[link] = float(nic_mibps[link[1]])
    unfixed = list(flows)
    while unfixed:
        users: dict[tuple[str, str], int] = {}
        for f in unfixed:
            for link in _links(f):
                users[link] = users.get(link, 0) + 1
        bottleneck = {id(f): min(f.cap, *(left[link] / users[link] for link in _links(f))) for f in unfixed}
        level = min(bottleneck.values())
        for f in [f for f in unfixed if bottleneck[id(f)] <= level + _EPS]:
            f.rate = level
            for link in _links(f):
                left[link] -= level
            unfixed.remove(f)


def _links(f: _Flow) -> tuple[tuple[str, str], tuple[str, str]]:
    return ("out", f.migration.source), ("in", f.migration.destination)
