"""collect_cluster: read every configured host over libvirt into one Cluster snapshot.

    hosts, concurrently, each within timeout_s (on top of the CPU interval): size and CPU
        (host_reader), guests and usage (guests)
    -> CPU compatibility of each distinct guest CPU signature on each host, and the baseline (compatibility)
    -> with a history: each answering host's reading replaces its last one; an unreachable host's guests
       come back from its last reading as unknown (last_seen)
    -> optionally: append the usage to the history, summarise a window of it (history)

A host whose reading fails with a transient error (a connection reset or refused, an RPC error, a busy
domain lock) is read again from the start, on a new connection, after a short pause (READ_BACKOFF_S),
as long as another attempt fits in its deadline: a blip does not make a host unreachable for the night.
A host that still fails or times out is in the snapshot as unreachable with its error; only when no host
answers does collection fail (CollectError). Without a history its guests are missing, and a note says
so. URIs are redacted in the snapshot and in every error.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collectors import guests
from collectors.compatibility import Reachable, SignatureCase, baseline, decide
from collectors.connect import describe_error, open_connection
from collectors.constants import VIR_ERR_OPERATION_TIMEOUT, VIR_ERR_RPC, VIR_ERR_SYSTEM_ERROR
from collectors.disks import storage_free_mib
from collectors.guests import Guest
from collectors.history import History
from collectors.host_reader import HostFacts, read_host
from collectors.last_seen import stand_ins
from collectors.parallel import Outcome, run_each
from collectors.seam import Connection, Opener, VirtError
from collectors.settings import CollectSettings, HostSource
from collectors.uri import redact_uri
from planner.errors import CollectError
from planner.model import Cluster, Host, HostState, Vm, VmState

#: Pauses before reading a host again after a transient failure.
READ_BACKOFF_S = (0.5, 2.0)
#: libvirt's errors worth another try: I/O and connection errors, RPC errors, a domain's busy job lock.
#: Not these: authentication, an unknown URI or driver, bad arguments (trying again changes nothing).
TRANSIENT = frozenset({VIR_ERR_SYSTEM_ERROR, VIR_ERR_RPC, VIR_ERR_OPERATION_TIMEOUT})


@dataclass(frozen=True, slots=True)
class _Answer:
    conn: Connection
    facts: HostFacts
    guests: list[Guest]
    storage_free_mib: int | None


def collect_cluster(
    settings: CollectSettings,
    *,
    opener: Opener | None = None,
    record: bool = False,
    window_hours: float | None = None,
    now: datetime | None = None,
) -> Cluster:
    """The cluster as libvirt reports it now. Raises CollectError only when no host answered."""
    open_ = opener or open_connection
    now = now or datetime.now(UTC)
    # The timeout is for the host's answers; waiting out the CPU interval and the dirty rate is on us.
    waiting = max(settings.interval_s, float(settings.dirty_rate_s)) + guests.DIRTY_GRACE_S
    budget_s = settings.timeout_s + waiting
    outcomes = run_each(settings.hosts, lambda hc: read_with_retries(open_, hc, settings, budget_s), budget_s)

    hosts: list[Host] = []
    vms: list[Vm] = []
    reachable: list[Reachable] = []
    cases: dict[str, SignatureCase] = {}
    running_on: dict[str, set[str]] = {}
    failures: dict[str, str] = {}
    seen: dict[str, list[Vm]] = {}
    for hc, outcome in zip(settings.hosts, outcomes, strict=True):
        answer = outcome.value
        if answer is None:
            failures[hc.name] = _why(outcome, hc.uri)
            hosts.append(_host(hc, None, failures[hc.name]))
            continue
        hosts.append(replace(_host(hc, answer.facts, None), storage_free_mib=answer.storage_free_mib))
        reachable.append(Reachable(hc.name, answer.conn, answer.facts.cpu, answer.facts.domain_types))
        seen[hc.name] = [g.vm for g in answer.guests]
        for guest in answer.guests:
            vms.append(guest.vm)
            if guest.case is not None:
                cases.setdefault(guest.case.signature.key, guest.case)
                running_on.setdefault(guest.case.signature.key, set()).add(hc.name)
    if not reachable:
        raise CollectError(failures)
    vms = _one_per_uuid(vms)

    try:
        compatibility = decide(reachable, list(cases.values()), running_on, settings.timeout_s)
        baseline_cpu = baseline(reachable)
    finally:
        for r in reachable:
            _close(r.conn)

    window = f"instant {settings.interval_s:g} s reading"
    retention = timedelta(days=settings.retention_days)
    path = Path(settings.history_path or Path(settings.state_dir) / "history.sqlite")
    notes: list[str] = []
    # Configured or asked for, the history keeps every reading; left by an earlier --record, it is only read.
    keeps = record or window_hours is not None or bool(settings.history_path)
    if keeps or path.exists():
        with History(path) as history:
            readings = history.last_readings(list(failures), now - retention)
            unknown, notes = stand_ins(failures, readings, {v.uuid for v in vms})
            vms += unknown
            if keeps:
                history.saw(now, seen, retention)
            if record:
                history.record(now, vms, retention)
            if window_hours is not None:
                vms, window = _summarise(history, vms, now, window_hours, instant=window)
    else:
        notes = stand_ins(failures, None, set())[1]

    return Cluster(
        hosts=tuple(hosts),
        vms=tuple(sorted(vms, key=lambda v: (v.host, v.name))),
        compatibility=compatibility,
        cpu_signatures=tuple(sorted((c.signature for c in cases.values()), key=lambda s: s.key)),
        rules=settings.rules,
        collected_at=now.isoformat(timespec="seconds"),
        source=f"libvirt: {len(reachable)} of {len(hosts)} hosts answered",
        window=window,
        baseline_cpu=baseline_cpu,
        notes=tuple(notes),
    )


def read_with_retries(
    open_: Opener,
    hc: HostSource,
    settings: CollectSettings,
    budget_s: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> _Answer:
    """One host's reading; after a transient failure, again after each pause of READ_BACKOFF_S, when the
    pause and another attempt as long as the last one still end within `budget_s` of the start."""
    deadline = clock() + budget_s
    for pause in (*READ_BACKOFF_S, None):
        began = clock()
        try:
            return _read(open_, hc, settings)
        except VirtError as exc:
            if pause is None or exc.code not in TRANSIENT or 2 * clock() - began + pause > deadline:
                raise
        sleep(pause)
    raise AssertionError("unreachable")


def _read(open_: Opener, hc: HostSource, settings: CollectSettings) -> _Answer:
    conn = open_(hc.uri)
    try:
        pending = guests.begin(conn, settings, lambda e: describe_error(e, hc.uri))
        facts = read_host(conn)  # while the CPU interval runs
        storage = storage_free_mib(conn, settings.storage_pool)
        found = guests.finish(conn, pending, hc.name, facts.cpu, settings)
    except BaseException:
        _close(conn)
        raise
    return _Answer(conn, facts, found, storage)


def _why(outcome: Outcome[_Answer], uri: str) -> str:
    assert outcome.error is not None
    return describe_error(outcome.error, uri)


def _close(conn: Connection) -> None:
    # closing a connection to a host that went away cannot fail the collection
    with contextlib.suppress(Exception):
        conn.close()


def _host(hc: HostSource, facts: HostFacts | None, error: str | None) -> Host:
    state = HostState.UNREACHABLE if error else HostState.EXCLUDED if hc.excluded else HostState.ACTIVE
    return Host(
        name=hc.name,
        uri=redact_uri(hc.uri),
        cpus=facts.cpus if facts else 0,
        memory_mib=facts.memory_mib if facts else 0,
        migration_uri=redact_uri(hc.migration_uri) if hc.migration_uri else None,
        reserved_memory_mib=hc.reserved_memory_mib,
        reserved_millicores=hc.reserved_millicores,
        cpu_overcommit=hc.cpu_overcommit,
        memory_overcommit=hc.memory_overcommit,
        cpu_ceiling_pct=hc.cpu_ceiling_pct,
        nic_mibps=hc.nic_mibps,
        reserved_storage_mib=hc.reserved_storage_mib,
        state=state,
        error=error,
        domain_types=facts.domain_types if facts else (),
        cpu_vendor=facts.cpu.vendor if facts else None,
        cpu_model=facts.cpu.model if facts else None,
        cpu_features=facts.cpu.features if facts else (),
        groups=hc.groups,
    )


def _one_per_uuid(vms: list[Vm]) -> list[Vm]:
    """A guest seen on two hosts is being migrated: keep the running copy (the source), unmigratable."""
    by_uuid: dict[str, list[Vm]] = {}
    for vm in vms:
        by_uuid.setdefault(vm.uuid, []).append(vm)
    out = []
    for copies in by_uuid.values():
        if len(copies) == 1:
            out.append(copies[0])
            continue
        keep = next((v for v in copies if v.state is VmState.RUNNING), copies[0])
        others = ", ".join(sorted(v.host for v in copies if v is not keep))
        reason = f"also defined on {others} (a migration in progress?)"
        reasons = "; ".join(r for r in (keep.unmigratable_reason, reason) if r)
        out.append(replace(keep, migratable=False, unmigratable_reason=reasons))
    return out


def _summarise(
    history: History, vms: list[Vm], now: datetime, hours: float, instant: str
) -> tuple[list[Vm], str]:
    """The guests with their CPU mean and p95 over the last `hours`, and what the plan stands on, plainly."""
    summary = history.summarise(now - timedelta(hours=hours), now)
    out = []
    for vm in vms:
        s = summary.get(vm.uuid)
        out.append(
            vm
            if s is None
            else replace(vm, cpu_millicores=s.mean_millicores, cpu_p95_millicores=s.p95_millicores)
        )
    samples = max((s.samples for s in summary.values()), default=0)
    if not samples:
        return out, f"{instant}: the history holds 0 samples of the last {hours:g} h"
    return out, f"CPU mean and p95 of the last {hours:g} h: up to {samples} samples per guest"
