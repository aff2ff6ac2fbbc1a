"""The streaming queue: start each migration as soon as its dependencies are done and the budgets allow.

Not batch-and-wait. Each migration's blocking migrate call runs in a worker thread; this loop, the only
thread that touches the journal, starts what is ready, polls jobStats of every running migration (progress,
stall and time-limit aborts, the post-copy switch) and collects what finished. Budgets, the plan's (what
its schedule assumed): migrations out of and into each host, in the cluster, and the NIC bandwidth of each
host. The counts include migrations libvirt reports in flight on the move's hosts that this run did not
start (executor.elsewhere): a move waits for them, at most `wait_for_others_s`, and is skipped with that
reason at the deadline or after it. Nothing starts after the deadline or, with failure_policy = "stop",
after a failure; migrations already running always finish.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from collectors import constants as c
from collectors.seam import Connection, Domain, VirtError
from executor.elsewhere import Elsewhere, Others
from executor.interrupt import Interrupt
from executor.journal import Journal
from executor.locate import find_domain, where_is
from executor.options import MigrateCall, bandwidth_for, migrate_call
from executor.preflight import InFlight, check_move
from executor.report import EventKind, MigrationOutcome, ProgressEvent, Status
from executor.settings import ExecuteSettings
from executor.storage import Copy, StorageError, copied_disks, create_copies, remove_copies, settle_source
from executor.verify import MIB, Verdict, completed_mib, verify_moved
from executor.watch import Watch
from planner.errors import FileWriteError
from planner.plan import Migration, Plan
from planner.schedule.admission import Nic, admit
from planner.schedule.links import links

Clock = Callable[[], datetime]


@dataclass(kw_only=True)
class _Running:
    m: Migration
    dom: Domain
    call: MigrateCall
    watch: Watch
    memory_mib: int
    vcpus: int
    abort_reason: str | None = None
    aborted_at: float | None = None
    downtime_set: bool = False
    copies: list[Copy] | None = None  # destination images made for its local disks


class Runner:
    def __init__(
        self,
        plan: Plan,
        settings: ExecuteSettings,
        conns: Mapping[str, Connection],
        journal: Journal,
        *,
        now: Clock,
        deadline: datetime | None = None,
        progress: Callable[[ProgressEvent], None] | None = None,
        interrupt: Interrupt | None = None,
    ) -> None:
        self.plan, self.ex = plan, settings
        self.interrupt = interrupt or Interrupt()
        self.conns, self.journal = conns, journal
        self.now, self.deadline, self.progress = now, deadline, progress
        self.budgets = plan.budgets  # what the schedule assumed, not the config's
        self.net = links(plan.snapshot, plan.budgets)  # the same counts and NIC rates the schedule kept
        self.outcomes: dict[str, MigrationOutcome] = {}
        self.running: dict[str, _Running] = {}
        self.finished: queue.Queue[tuple[str, BaseException | None]] = queue.Queue()
        self.stop_reason: str | None = None
        self.journal_error: str | None = None
        # Others' migrations are read at most once a second (or a poll): the moves started in one pass
        # share a read, and a fast poll does not multiply the calls to hosts with many guests.
        self.elsewhere = Elsewhere(conns, max(settings.poll_interval_s, 1.0))
        self.waiting: dict[str, tuple[float, str]] = {}  # moves held by others' migrations: since, why

    def run(self, todo: list[Migration], earlier: Mapping[str, MigrationOutcome]) -> list[MigrationOutcome]:
        """Carry out `todo` (in plan order) given the outcomes of earlier runs; every one gets an outcome."""
        self.outcomes.update(earlier)
        pending = list(todo)
        while pending or self.running:
            pending = self._start_ready(pending)
            if pending and not self.running and not any(m.id in self.waiting for m in pending):
                for m in pending:
                    self._close(m, "not-started", "its dependencies never finished")
                break
            try:
                item = self.finished.get(timeout=self.ex.poll_interval_s)
                self._finish(*item)
                while not self.finished.empty():
                    self._finish(*self.finished.get_nowait())
            except queue.Empty:
                pass
            self._watch()
        return [self.outcomes[m.id] for m in self.plan.migrations if m.id in self.outcomes]

    # -- starting -------------------------------------------------------------------------------------

    def _start_ready(self, pending: list[Migration]) -> list[Migration]:
        if self.stop_reason is None and self.interrupt.reason is not None:
            self.stop_reason = self.interrupt.reason
        if self.stop_reason is None and self.deadline is not None and self.now() >= self.deadline:
            self.stop_reason = f"the deadline {self.deadline.isoformat(timespec='minutes')} passed"
        if self.stop_reason is not None:
            for m in pending:
                blocked = self._blocked_by(m) or self._waited(m, f"{self.stop_reason} while it waited")
                self._close(m, "skipped" if blocked else "not-started", blocked or self.stop_reason)
            return []
        while True:  # again until nothing changes: a skip late in the list may block an earlier move
            left = []
            for m in pending:
                blocked = self._blocked_by(m) or self._waited_too_long(m)
                if blocked is not None:
                    self._close(m, "skipped", blocked)
                elif not self._deps_done(m) or not self._may_start(m):
                    left.append(m)
                else:
                    self._try_start(m)
            if len(left) == len(pending):
                return left
            pending = left

    def _blocked_by(self, m: Migration) -> str | None:
        for dep in m.depends_on:
            o = self.outcomes.get(dep)
            if o is not None and o.status != "done":
                return f"depends on {dep} ({o.vm_name}), which was {o.status}"
            if o is None and dep not in {p.id for p in self.plan.migrations}:
                return f"depends on {dep}, which is not in the plan"
        return None

    def _deps_done(self, m: Migration) -> bool:
        return all(dep in self.outcomes for dep in m.depends_on)

    def _within_budgets(self, m: Migration) -> bool:
        """The schedule's admission (planner/schedule/admission.py) asked of what runs now: a migration
        needs its bandwidth only after its set-up, so what still sends then holds the links. It asks for
        its planned rate, at most what its links give alone (so one alone on them always starts); one
        without a rate (unlimited) asks for some bandwidth free."""
        if not {m.source, m.destination} <= self.net.nic_mibps.keys():
            return True  # a host the snapshot lacks: the checks before starting skip the move, saying so
        then = time.monotonic() + self.net.limits.setup_s
        out, into = self._nic(m.source, then, out=True), self._nic(m.destination, then, out=False)
        need = min(bandwidth_for(m, self.budgets) or 1, self.net.path_mibps(m.source, m.destination))
        return admit(self.net, len(self.running), out, into, need) >= need

    def _nic(self, host: str, then: float, out: bool) -> Nic:
        """`host`'s outgoing (or incoming) side now: the migrations through it, and the bandwidth left
        free at monotonic time `then` by those still sending (an unlimited one reserves nothing)."""
        mine = [r for r in self.running.values() if (r.m.source if out else r.m.destination) == host]
        held = sum(r.call.bandwidth_mibps for r in mine if self._sends_at(r, then))
        return Nic(running=len(mine), sendable_mibps=self.net.nic_mibps[host] - held)

    def _may_start(self, m: Migration) -> bool:
        """Within the budgets counting this run's migrations, then those libvirt reports that it did not
        start (read only when ours leave room); a move held by the latter is remembered as waiting."""
        if not self._within_budgets(m):
            self.waiting.pop(m.id, None)
            return False
        why = self._held_by_others(m)
        if why is None:
            self.waiting.pop(m.id, None)
            return True
        self.waiting[m.id] = (self.waiting.get(m.id, (time.monotonic(), ""))[0], why)
        return False

    def _held_by_others(self, m: Migration) -> str | None:
        """Why migrations that this run did not start leave `m` no room in the budgets now, or None."""
        run = [r.m for r in self.running.values()]
        ours = frozenset(r.m.vm_uuid for r in self.running.values())
        src = self.elsewhere.on(m.source, ours) or Others()
        dst = self.elsewhere.on(m.destination, ours) or Others()
        net = self.net  # the plan's counts as admission reads them (0 in the budgets: no limit)
        if src.outgoing and sum(r.source == m.source for r in run) + len(src.outgoing) >= net.max_out:
            return _others(m.source, "out of", src.outgoing, int(net.max_out))
        if (
            dst.incoming
            and sum(r.destination == m.destination for r in run) + len(dst.incoming) >= net.max_in
        ):
            return _others(m.destination, "into", dst.incoming, int(net.max_in))
        seen = {*src.outgoing, *src.incoming, *dst.outgoing, *dst.incoming}
        if seen and len(run) + len(seen) >= net.max_total:
            return _others(f"{m.source} and {m.destination}", "on", tuple(sorted(seen)), int(net.max_total))
        return None

    def _waited(self, m: Migration, prefix: str) -> str | None:
        if m.id not in self.waiting:
            return None
        since, why = self.waiting[m.id]
        return f"{prefix} {time.monotonic() - since:.0f}s: {why}"

    def _waited_too_long(self, m: Migration) -> str | None:
        since = self.waiting.get(m.id, (time.monotonic(), ""))[0]
        if time.monotonic() - since <= self.ex.wait_for_others_s:
            return None
        return self._waited(m, f"waited longer than wait_for_others_s ({self.ex.wait_for_others_s:g}s)")

    @staticmethod
    def _sends_at(r: _Running, t: float) -> bool:
        """Whether running migration `r` is expected to still send at monotonic time `t`: by QEMU's live ETA
        once it reports one, else by the plan's estimate; one past its estimate with no ETA counts as sending."""
        s = r.watch.last
        if s is not None and s.eta_s is not None:
            return r.watch.started + s.elapsed_s + s.eta_s > t
        end = r.watch.started + r.m.estimated_s
        return r.m.estimated_s <= 0 or end <= time.monotonic() or end > t

    def _try_start(self, m: Migration) -> None:
        try:
            reason = check_move(m, self.plan.snapshot, self.conns, self._in_flight())
            dom = find_domain(self.conns[m.source], m.vm_uuid)
            info = dom.info() if dom is not None else []
        except (VirtError, KeyError) as exc:  # a seam call failed, or a host could not be opened
            reason, dom = f"cannot check the hosts: {exc}", None
        if reason is not None or dom is None:
            self._close(m, "skipped", reason or f"{m.vm_name} vanished from {m.source}")
            return
        call = migrate_call(m, self.ex, self.budgets, self.ex.host(m.destination))
        # A migration has a fixed cost (starting QEMU on the destination) that small estimates miss.
        limit = (
            max(m.estimated_s * self.ex.time_limit_factor, self.ex.time_limit_floor_s)
            if m.estimated_s > 0
            else None
        )
        after = self.ex.postcopy_after_rounds if self.ex.postcopy else None
        watch = Watch(time.monotonic(), self.ex.stall_timeout_s, limit, after)
        try:  # written before acting: a migration the journal cannot record does not start
            self.journal.set(m.id, "started")
        except FileWriteError as exc:
            self._journal_failed(exc)
            self._close(m, "not-started", self.stop_reason or str(exc))
            return
        try:
            copies = create_copies(copied_disks(m, self.plan), dom, self.conns[m.destination], m.destination)
        except (VirtError, StorageError) as exc:  # no pool, a file in the way, or a seam call failed
            self._close(
                m, "failed", f"cannot create its disk copies on {m.destination}: {exc}; guest on {m.source}"
            )
            return
        self.running[m.id] = _Running(
            m=m, dom=dom, call=call, watch=watch, memory_mib=info[1] // 1024, vcpus=info[3], copies=copies
        )
        cap = f"{call.bandwidth_mibps} MiB/s" if call.bandwidth_mibps else "unlimited"
        self._emit("started", m, message=f"bandwidth {cap}")
        threading.Thread(target=self._migrate, args=(m.id,), name=f"migrate-{m.id}", daemon=True).start()

    def _in_flight(self) -> InFlight:
        mem: Counter[str] = Counter()
        cpus: Counter[str] = Counter()
        for r in self.running.values():
            mem[r.m.destination] += r.memory_mib
            cpus[r.m.destination] += r.vcpus
        return InFlight(frozenset(r.m.vm_uuid for r in self.running.values()), mem, cpus)

    def _migrate(self, mid: str) -> None:
        r = self.running[mid]
        try:
            if r.call.mode == "client":
                r.dom.migrate(
                    self.conns[r.m.destination],
                    r.call.flags,
                    r.call.dname,
                    r.call.uri,
                    r.call.bandwidth_mibps,
                )
            else:
                r.dom.migrateToURI3(r.call.dconnuri, r.call.params, r.call.flags)
            self.finished.put((mid, None))
        except BaseException as exc:
            self.finished.put((mid, exc))

    # -- watching -------------------------------------------------------------------------------------

    def _watch(self) -> None:
        for r in list(self.running.values()):
            if r.aborted_at is not None and time.monotonic() - r.aborted_at > self.ex.call_timeout_s:
                self._give_up(r)
                continue
            if self.interrupt.abort and r.abort_reason is None and not r.watch.postcopy:
                self._abort(r, f"{self.interrupt.reason}: aborted")
                continue
            try:
                stats = r.dom.jobStats()
            except VirtError:  # a seam call failed or the host does not answer: no progress, so the
                stats = {}  # stall limit fires on time all the same
            s, decision = r.watch.observe(time.monotonic(), stats)
            if s is not None and not r.downtime_set:  # settable only while the job runs
                r.downtime_set = True
                try:
                    r.dom.migrateSetMaxDowntime(self.budgets.downtime_limit_ms)
                except VirtError as exc:
                    self._emit("progress", r.m, message=f"cannot set the downtime limit: {exc}")
            if s is not None:
                self._emit(
                    "progress", r.m, elapsed_s=s.elapsed_s, total_mib=s.total_mib,
                    processed_mib=s.processed_mib, remaining_mib=s.remaining_mib, rate_mibps=s.rate_mibps,
                    dirty_mibps=s.dirty_mibps, round=s.round, eta_s=s.eta_s,
                )  # fmt: skip
            if decision is None:
                continue
            try:
                if decision.action == "abort":
                    self._abort(r, decision.reason)
                else:
                    r.dom.migrateStartPostCopy()
                    self._emit("postcopy", r.m, message=decision.reason)
            except VirtError as exc:
                self._emit("progress", r.m, message=f"{decision.action} failed: {exc}")

    def _abort(self, r: _Running, reason: str) -> None:
        r.abort_reason, r.watch.stopping, r.aborted_at = reason, True, time.monotonic()
        try:
            r.dom.abortJob()
        except VirtError as exc:
            self._emit("progress", r.m, message=f"abort failed: {exc}")

    # -- finishing ------------------------------------------------------------------------------------

    def _give_up(self, r: _Running) -> None:
        """An aborted migration whose call has not returned within call_timeout_s of the abort: a host
        does not answer. It fails now with where the guest is as far as the hosts say (a person looks);
        its thread is left behind and what it reports later is ignored."""
        del self.running[r.m.id]
        where = _whereabouts(r.m, self.conns)
        reason = (
            f"{r.abort_reason}; no end {self.ex.call_timeout_s:g}s after the abort; guest on {where}: "
            "look at it before running this plan again"
        )
        self._close(r.m, "failed", reason, actual_s=time.monotonic() - r.watch.started)
        self._after_failure(r.m)

    def _finish(self, mid: str, exc: BaseException | None) -> None:
        if mid not in self.running:  # given up on earlier
            return
        r = self.running.pop(mid)
        m, elapsed = r.m, time.monotonic() - r.watch.started
        verdict = (
            verify_moved(m, self.conns, expect_running=not self.ex.paused)
            if _reachable(self.conns, m)
            else Verdict(("a host is unreachable",))
        )
        if verdict.moved:
            dest = find_domain(self.conns[m.destination], m.vm_uuid)
            sent = completed_mib(dest)  # the memory; a disk copy is counted by the source's job alone
            if sent is not None:
                sent += r.watch.disk_processed / MIB
            elif r.watch.processed > 0:
                sent = r.watch.processed / MIB
            notes = [*verdict.notes, *([f"the call reported: {exc}"] if exc is not None else [])]
            disks = [c.disk for c in r.copies or ()]
            notes += settle_source(disks, self.conns[m.source], m.source, self.ex.remove_source_disks)
            self._close(m, "done", "; ".join(notes), actual_s=elapsed, actual_mib=sent)
            return
        where = _whereabouts(m, self.conns)
        if r.copies:
            paths = ", ".join(c.disk.source for c in r.copies)
            left = (
                ["(it may run there)"]
                if _active_on(self.conns, m.destination, m.vm_uuid)
                else remove_copies(r.copies)
            )
            where += (
                f"; disk copies left on {m.destination}: {', '.join(left)}"
                if left
                else f"; removed its half-written disk copies on {m.destination} ({paths})"
            )
        if r.abort_reason is not None:
            self._close(m, "aborted", f"{r.abort_reason}; aborted, guest on {where}", actual_s=elapsed)
        else:
            cause = str(exc) if exc is not None else "; ".join(verdict.problems)
            self._close(m, "failed", f"{cause}; guest on {where}", actual_s=elapsed)
        self._after_failure(m)

    def _after_failure(self, m: Migration) -> None:
        if self.ex.failure_policy == "stop" and self.stop_reason is None:
            self.stop_reason = f"stopped after {m.id} ({m.vm_name}) failed (failure_policy = stop)"

    def _close(
        self,
        m: Migration,
        status: Status,
        reason: str,
        *,
        actual_s: float | None = None,
        actual_mib: float | None = None,
    ) -> None:
        self.outcomes[m.id] = MigrationOutcome.of(m, status, reason, actual_s=actual_s, actual_mib=actual_mib)
        if status != "not-started":
            try:
                self.journal.set(m.id, status, reason, actual_s, actual_mib)
            except FileWriteError as exc:
                self._journal_failed(exc)
        kind: EventKind = status
        self._emit(kind, m, elapsed_s=actual_s or 0.0, processed_mib=actual_mib or 0.0, message=reason)

    def _journal_failed(self, exc: FileWriteError) -> None:
        """No new migration starts once the journal cannot be written; running ones finish and are reported."""
        self.journal_error = str(exc)
        if self.stop_reason is None:
            self.stop_reason = f"the journal cannot be written ({exc})"

    def _emit(self, kind: EventKind, m: Migration, **numbers: object) -> None:
        if self.progress is None:
            return
        event = ProgressEvent(
            kind=kind, migration_id=m.id, vm_name=m.vm_name, source=m.source, destination=m.destination,
            estimated_s=m.estimated_s, finished=len(self.outcomes), total=len(self.plan.migrations),
            **numbers,  # type: ignore[arg-type]
        )  # fmt: skip
        with contextlib.suppress(Exception):  # a broken display must not stop migrations
            self.progress(event)


def _others(host: str, way: str, guests: tuple[str, ...], limit: int) -> str:
    shown = ", ".join(guests[:5]) + (f" and {len(guests) - 5} more" if len(guests) > 5 else "")
    return f"{len(guests)} migration(s) {way} {host} not started by this run ({shown}) hold the budget of {limit}"


def _reachable(conns: Mapping[str, Connection], m: Migration) -> bool:
    try:
        for host in (m.source, m.destination):
            conns[host].listAllDomains(c.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
    except (VirtError, KeyError):  # a seam call failed, or a host could not be opened
        return False
    return True


def _active_on(conns: Mapping[str, Connection], host: str, uuid: str) -> bool:
    """Whether the guest may be running on `host` (an unanswering host counts as yes: keep its disks)."""
    try:
        dom = find_domain(conns[host], uuid)
        return dom is not None and bool(dom.isActive())
    except (VirtError, KeyError):  # a seam call failed, or a host could not be opened
        return True


def _whereabouts(m: Migration, conns: Mapping[str, Connection]) -> str:
    parts = []
    for host in (m.source, m.destination):
        try:
            seen = where_is(m.vm_uuid, {host: conns[host]})
        except (VirtError, KeyError) as exc:  # a seam call failed, or a host could not be opened
            parts.append(f"{host} unreachable ({exc})")
            continue
        parts.extend(s.describe() for s in seen.values())
    return ", ".join(parts) or "neither host"
