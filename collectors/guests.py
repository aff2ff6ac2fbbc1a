"""Every guest on one host: its definition, state and usage, with bulk stats calls.

`begin` takes the first reading and reads the definitions; the caller may do other work on the host
(read its capabilities) before `finish` waits out what is left of the CPU interval and takes the second.

Round trips per host: two getAllDomainStats (three when a dirty-rate measurement runs late), one
listAllDomains (transient guests), and per guest XMLDesc, plus jobInfo and startDirtyRateCalc for
running guests. The per-guest calls happen while the CPU interval elapses, so they cost no extra time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from collectors import constants as c
from collectors import usage
from collectors.compatibility import SignatureCase, signature_of
from collectors.disks import with_block_stats
from collectors.domain_xml import DomainDef, parse_domain
from collectors.host_reader import HostCpu
from collectors.seam import Connection, Domain, VirtError
from collectors.settings import CollectSettings
from planner.model import Vm, VmState

FIRST = c.VIR_DOMAIN_STATS_STATE | c.VIR_DOMAIN_STATS_CPU_TOTAL | c.VIR_DOMAIN_STATS_BLOCK
SECOND = FIRST | c.VIR_DOMAIN_STATS_BALLOON
SLOW_READING_S = 0.25  # a bulk reading slower than this is taken again (its moment is uncertain)
DIRTY_GRACE_S = 1.0  # how long to wait for a dirty-rate measurement that runs past its period

Reading = dict[str, tuple[Domain, dict[str, Any]]]

_STATES = {
    c.VIR_DOMAIN_RUNNING: VmState.RUNNING,
    c.VIR_DOMAIN_BLOCKED: VmState.RUNNING,
    c.VIR_DOMAIN_PAUSED: VmState.PAUSED,
    c.VIR_DOMAIN_PMSUSPENDED: VmState.PAUSED,
    c.VIR_DOMAIN_SHUTDOWN: VmState.SHUTOFF,
    c.VIR_DOMAIN_SHUTOFF: VmState.SHUTOFF,
}


@dataclass(frozen=True, slots=True)
class Guest:
    vm: Vm
    case: SignatureCase | None  # None when its definition could not be read


@dataclass
class Pending:
    """The first reading and every guest's definition, while the CPU interval (and dirty rate) runs."""

    first: Reading
    t1: float
    transient: set[str]
    dirty_until: float | None  # when the dirty-rate measurements end (None: none running)
    defs: dict[str, DomainDef]
    notes: dict[str, list[str]]


def begin(conn: Connection, cfg: CollectSettings, describe: Callable[[BaseException], str] = str) -> Pending:
    """First CPU reading, dirty-rate measurements started, definitions and jobs read."""
    first, t1 = _reading(conn, FIRST)
    transient = {d.UUIDString() for d in conn.listAllDomains(c.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)}
    running = [d for d, s in first.values() if s.get("state.state") == c.VIR_DOMAIN_RUNNING]
    dirty_until = (
        time.monotonic() + cfg.dirty_rate_s if _start_dirty_rate(running, cfg.dirty_rate_s) else None
    )
    notes: dict[str, list[str]] = {}
    defs: dict[str, DomainDef] = {}
    for uuid, (dom, stats) in first.items():
        try:
            defs[uuid] = parse_domain(dom.XMLDesc(0), cfg.storage_migration, cfg.shared_paths)
            if stats.get("state.state") == c.VIR_DOMAIN_RUNNING and _job_active(dom.jobInfo()[0]):
                notes.setdefault(uuid, []).append(
                    "a job is already in progress (a migration, save or backup)"
                )
        except (VirtError, ET.ParseError, ValueError) as exc:  # one guest's failure is that guest's
            notes.setdefault(uuid, []).append(f"could not be read: {describe(exc)}")
    return Pending(first, t1, transient, dirty_until, defs, notes)


def finish(
    conn: Connection, pending: Pending, host: str, host_cpu: HostCpu, cfg: CollectSettings
) -> list[Guest]:
    """Wait out the interval (if anything is left of it), take the second reading, build the guests."""
    first, t1, transient, dirty_until = pending.first, pending.t1, pending.transient, pending.dirty_until
    defs, notes = pending.defs, pending.notes
    until = max(t1 + cfg.interval_s, dirty_until or 0.0)
    time.sleep(max(0.0, until - time.monotonic()))
    second, t2 = _reading(conn, SECOND | (c.VIR_DOMAIN_STATS_DIRTYRATE if dirty_until else 0))
    if dirty_until:
        _await_dirty_rates(conn, second)
    out = []
    for uuid, (dom, stats) in second.items():
        before = first.get(uuid, (None, None))[1]
        reasons = _state_reasons(stats, uuid in transient) + notes.get(uuid, [])
        d = defs.get(uuid)
        if d is None:
            state = VmState.UNKNOWN if uuid in first else _state(stats)
            vm = Vm(
                uuid,
                dom.name(),
                host,
                0,
                0,
                state,
                migratable=False,
                unmigratable_reason="; ".join(reasons or ["appeared during collection"]),
            )
            out.append(Guest(vm, None))
            continue
        case = signature_of(d.cpu, d.domain_type, host_cpu)
        reasons += list(d.blockers)
        vm = Vm(
            uuid=uuid,
            name=d.name or dom.name(),
            host=host,
            vcpus=d.vcpus,
            memory_mib=d.memory_mib,
            state=_state(stats),
            cpu_millicores=usage.cpu_millicores(before, stats, t2 - t1),
            memory_used_mib=usage.memory_used_mib(stats),
            dirty_rate_mibps=usage.dirty_rate_mibps(stats) or 0,
            domain_type=d.domain_type,
            cpu_signature=case.signature.key,
            migratable=not reasons,
            unmigratable_reason="; ".join(reasons) or None,
            disks=with_block_stats(d.disks, before, stats, t2 - t1),
            rules=d.rules,
        )
        out.append(Guest(vm, case))
    return out


def _reading(conn: Connection, kinds: int) -> tuple[Reading, float]:
    """One bulk reading, keyed by UUID, and the moment it was taken (the middle of the call).

    When the call is slow, the moment is uncertain (libvirtd may spend seconds on its first CPU stats
    before it reads them), so a slow reading is taken once more.
    """
    for _ in range(2):
        before = time.monotonic()
        rows = conn.getAllDomainStats(kinds, 0)
        after = time.monotonic()
        if after - before <= SLOW_READING_S:
            break
    return {dom.UUIDString(): (dom, dict(stats)) for dom, stats in rows}, (before + after) / 2


def _start_dirty_rate(running: list[Domain], seconds: int) -> bool:
    """Start a dirty-rate measurement on every running guest; False when none could start (or 0 s)."""
    started = False
    for dom in running if seconds > 0 else []:
        try:
            dom.startDirtyRateCalc(seconds, 0)
            started = True
        except VirtError:  # older QEMU or a guest that just stopped: its dirty rate stays unknown
            continue
    return started


def _await_dirty_rates(conn: Connection, reading: Reading) -> None:
    """Re-read the dirty rates still being measured, for at most DIRTY_GRACE_S."""
    deadline = time.monotonic() + DIRTY_GRACE_S
    while any(usage.measuring(s) for _, s in reading.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
        for dom, stats in conn.getAllDomainStats(c.VIR_DOMAIN_STATS_DIRTYRATE, 0):
            row = reading.get(dom.UUIDString())
            if row is not None:
                row[1].update(stats)


def _job_active(job_type: int) -> bool:
    return job_type in (c.VIR_DOMAIN_JOB_BOUNDED, c.VIR_DOMAIN_JOB_UNBOUNDED)


def _state(stats: dict[str, Any]) -> VmState:
    return _STATES.get(int(stats.get("state.state", -1)), VmState.OTHER)


def _state_reasons(stats: dict[str, Any], transient: bool) -> list[str]:
    reasons = []
    state = _state(stats)
    if state is not VmState.RUNNING:
        reasons.append(f"not running ({state.value})")
    if transient:
        reasons.append("transient: it has no persistent definition to move with it")
    return reasons
