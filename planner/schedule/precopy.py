"""The pre-copy cost model of a live migration (../shared/guides/migration-model.md), round by round.

Round 0 sends the guest's memory M; each later round re-sends what the guest dirtied during the round
before. QEMU switches over (pauses the guest and sends the rest) once the rest fits the downtime limit at
the current rate, or after `max_rounds`. With auto-converge, two rounds in a row that dirty more than half
of what they sent throttle the guest's CPU (20% first, then +10% a step, up to 99%), which slows its writes.

A guest with local disks first has them copied (QEMU's drive-mirror, through libvirt's NBD storage
migration): the disks' allocation, plus what the guest writes meanwhile (a write rate w of the rate R sends
A / (1 - w) in all, as pre-copy rounds do), then the memory pre-copy, during which the mirror keeps
carrying the guest's writes. Disk and memory share the one rate.

The round step (`next_round`) is shared with the fluid simulator in benchmarks/, so a migration that keeps a
constant rate costs exactly what `estimate` says.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: A guest dirtying at least this share of its bandwidth is flagged (needs auto-converge or post-copy).
NEAR_LIMIT = 0.8
_TRIGGER = 0.5  # QEMU's throttle-trigger-threshold: dirtied / sent in one round
_THROTTLE_FIRST, _THROTTLE_STEP, _THROTTLE_MAX = 0.2, 0.1, 0.99


@dataclass(frozen=True, slots=True)
class Limits:
    """QEMU's switchover settings and whether auto-converge may throttle the guest."""

    downtime_limit_ms: int = 300
    max_rounds: int = 30
    auto_converge: bool = True
    setup_s: float = 0.0  # fixed cost outside the transfer: prepare, destination QEMU start, confirm


@dataclass(frozen=True, slots=True)
class Round:
    """The round a migration is sending: its index, what it sends, and the throttle in force."""

    index: int
    to_send_mib: float
    final: bool = False
    throttle: float = 0.0
    high_rounds: int = 0


def first_round(memory_mib: float) -> Round:
    return Round(index=0, to_send_mib=float(memory_mib))


def next_round(
    done: Round, memory_mib: float, round_s: float, rate_mibps: float, dirty_mibps: float, limits: Limits
) -> Round | None:
    """The round after `done`, which took `round_s` seconds; None once the final round is sent."""
    if done.final:
        return None
    dirtied = min(float(memory_mib), dirty_mibps * (1.0 - done.throttle) * round_s)
    index = done.index + 1
    if dirtied <= rate_mibps * limits.downtime_limit_ms / 1000.0 or index >= limits.max_rounds:
        return replace(done, index=index, to_send_mib=dirtied, final=True)
    throttle, high = done.throttle, done.high_rounds
    if limits.auto_converge and index > 1 and dirtied > _TRIGGER * done.to_send_mib:
        high += 1
        if high >= 2:
            high = 0
            throttle = _THROTTLE_FIRST if throttle == 0 else min(_THROTTLE_MAX, throttle + _THROTTLE_STEP)
    elif index > 1:
        high = 0
    return Round(index=index, to_send_mib=dirtied, throttle=throttle, high_rounds=high)


@dataclass(frozen=True, slots=True)
class Precopy:
    """The cost of one migration at a constant rate.

    `rounds` is n, the index of the final (stop-and-copy) round; `sent_mib` counts every round and the
    disk copy, `disk_mib` the disk copy alone;
    `converges` says whether the guest dirties slower than the rate; `near_limit` flags a guest dirtying
    at least NEAR_LIMIT of it, or one auto-converge had to throttle (it needs auto-converge or post-copy).
    """

    rounds: int
    sent_mib: float
    duration_s: float
    downtime_s: float
    converges: bool
    throttle_pct: int
    near_limit: bool
    disk_mib: float = 0.0
    model_mib: float | None = None  # what the model alone says is sent, when calibration changed it


#: The most disk-copy passes counted for a guest writing as fast as the copy goes (it never catches up).
_DISK_PASSES = 30


def disk_copy_mib(disk_mib: float, rate_mibps: float, write_mibps: float) -> float:
    """What copying `disk_mib` sends while the guest writes `write_mibps` to it: A * (1 + w + w^2 ...)."""
    if disk_mib <= 0:
        return 0.0
    w = write_mibps / rate_mibps
    if w < 1:
        return disk_mib / (1 - w)
    return disk_mib * _DISK_PASSES


def estimate(
    memory_mib: float,
    rate_mibps: float,
    dirty_mibps: float,
    limits: Limits | None = None,
    resident_mib: float | None = None,
    disk_mib: float = 0.0,
    disk_write_mibps: float = 0.0,
) -> Precopy:
    """Rounds, bytes, duration and downtime of migrating `memory_mib` at a constant `rate_mibps`.

    The duration includes `limits.setup_s`, the fixed cost of every migration besides its transfer.

    Round 0 sends `resident_mib` when known (pages never touched are zero, and QEMU sends a zero page
    as a few bytes), else all of the guest's memory. `disk_mib` of local disks (their allocation), written
    at `disk_write_mibps`, are copied first.
    """
    if rate_mibps <= 0:
        raise ValueError(f"a migration needs a positive rate, got {rate_mibps} MiB/s")
    limits = limits or Limits()
    current: Round | None = first_round(memory_mib if resident_mib is None else min(resident_mib, memory_mib))
    sent = 0.0
    last = current
    while current is not None:
        last = current
        sent += current.to_send_mib
        current = next_round(
            current, memory_mib, current.to_send_mib / rate_mibps, rate_mibps, dirty_mibps, limits
        )
    assert last is not None
    disk = disk_copy_mib(disk_mib, rate_mibps, disk_write_mibps)
    if disk:
        disk += disk_write_mibps * sent / rate_mibps  # the mirror carries writes during the memory phase
    return Precopy(
        rounds=last.index,
        sent_mib=sent + disk,
        duration_s=limits.setup_s + (sent + disk) / rate_mibps,
        downtime_s=last.to_send_mib / rate_mibps,
        converges=dirty_mibps < rate_mibps,
        throttle_pct=round(last.throttle * 100),
        near_limit=dirty_mibps >= NEAR_LIMIT * rate_mibps or last.throttle > 0,
        disk_mib=disk,
    )
