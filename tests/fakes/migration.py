"""Live migration for the fake (tests.fakes.world): a pre-copy simulation in the calling thread.

`migrateToURI3` / `migrate` on a FakeDomain block while memory is sent at the migration's bandwidth (or
`LINK_MIBPS`) and the guest dirties `dirty_rate_mibps`; jobStats shows the numbers libvirt shows; the
migration switches over when the remainder fits the downtime limit (300 ms of bandwidth), as QEMU does.
AUTO_CONVERGE throttles the guest's writes (20%, +10% a round); post-copy finishes at once; abortJob or a
dead host fails the call and leaves the guest running on its source. While it runs, the destination holds
the incoming guest paused for migration, whose job statistics libvirt refuses there, as the lab shows. Faults are injected per guest with
`dom.migrate_fault = Fault(at=0.5, kind="stall")`. Every migration is logged in `world.migrations`.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from collectors import constants as c
from collectors.seam import VirtError

# The guest and hosts are tests.fakes.world's FakeDomain and FakeHost, which import this module: typed
# loosely here so the import runs one way.
FakeDomain = Any
FakeHost = Any

MIB = 1024 * 1024
LINK_MIBPS = 2048  # an unlimited migration's speed
DOWNTIME_S = 0.3
STEP_S = 0.005
JOB_COMPLETED = 3


@dataclass
class Fault:
    """At `at` (fraction of the guest's memory sent) the migration fails, or stalls until aborted."""

    at: float = 0.5
    kind: Literal["fail", "stall"] = "fail"
    message: str = "internal error: qemu unexpectedly closed the monitor"


@dataclass
class FakeMigration:
    dom: FakeDomain
    source: FakeHost
    destination: FakeHost
    flags: int
    bandwidth_mibps: int
    dname: str | None = None
    started: float = dataclasses.field(default_factory=time.monotonic)
    ended: float | None = None
    ok: bool | None = None
    processed_mib: float = 0.0
    remaining_mib: float = 0.0
    iteration: int = 1
    throttle: float = 0.0
    rate_mibps: float = 0.0
    aborted: threading.Event = dataclasses.field(default_factory=threading.Event)
    postcopy: bool = False
    downtime_s: float = DOWNTIME_S
    completed: dict[str, Any] | None = None
    incoming: FakeDomain | None = None  # the guest as the destination shows it meanwhile

    def run(self) -> None:
        dom, total = self.dom, float(self.dom.memory_mib)
        self.remaining_mib = total
        dom.job_type = c.VIR_DOMAIN_JOB_UNBOUNDED
        if dom.vm_uuid not in self.destination.domains:
            self.incoming = dataclasses.replace(
                dom, run_state=c.VIR_DOMAIN_PAUSED, state_reason=c.VIR_DOMAIN_PAUSED_MIGRATION,
                persistent=False, incoming=True, job_type=c.VIR_DOMAIN_JOB_NONE, migration=None, host=None,
                fail=set(), migrate_fault=None,
            )  # fmt: skip
            dom.host.world.place(self.incoming, self.destination)
        try:
            while not self._converged():
                self._check()
                self._step(total)
                time.sleep(STEP_S)
        except VirtError:
            self._end(ok=False)
            raise
        self._end(ok=True)
        self._switch_over()

    def _converged(self) -> bool:
        return self.postcopy or self.remaining_mib <= self.bandwidth_mibps * self.downtime_s

    def _check(self) -> None:
        if self.aborted.is_set():
            raise VirtError(
                "operation aborted: migration out job: canceled by client", c.VIR_ERR_OPERATION_ABORTED
            )
        for host in (self.source, self.destination):
            if not host.alive:
                raise VirtError(f"Cannot recv data: {host.name}: Connection reset by peer")

    def _step(self, total: float) -> None:
        fault = self.dom.migrate_fault
        if fault is not None and self.processed_mib >= fault.at * total:
            if fault.kind == "fail":
                raise VirtError(fault.message)
            self.rate_mibps = 0.0
            return
        self.rate_mibps = float(self.bandwidth_mibps)
        sent = self.rate_mibps * STEP_S
        before = self.processed_mib
        self.processed_mib += sent
        dirty = self.dom.dirty_rate_mibps * (1 - self.throttle) * STEP_S
        self.remaining_mib = min(total, max(0.0, self.remaining_mib - sent) + dirty)
        if int(self.processed_mib // total) > int(before // total):  # crude: a round per guest's worth
            self.iteration += 1
            if self.flags & c.VIR_MIGRATE_AUTO_CONVERGE:
                self.throttle = min(0.99, self.throttle + 0.1 if self.throttle else 0.2)

    def _end(self, ok: bool) -> None:
        self.ended, self.ok = time.monotonic(), ok
        if ok:  # the last remainder goes while the guest is paused
            self.processed_mib, self.remaining_mib = self.processed_mib + self.remaining_mib, 0.0
        self.completed = {**self.stats(), "type": JOB_COMPLETED if ok else c.VIR_DOMAIN_JOB_NONE}
        self.dom.job_type = c.VIR_DOMAIN_JOB_NONE
        if self.incoming is not None and self.destination.domains.get(self.dom.vm_uuid) is self.incoming:
            del self.destination.domains[self.dom.vm_uuid]

    def _switch_over(self) -> None:
        dom, world = self.dom, self.source.world
        if not self.flags & c.VIR_MIGRATE_UNDEFINE_SOURCE and dom.persistent:
            left = dataclasses.replace(dom, run_state=c.VIR_DOMAIN_SHUTOFF, migration=None)
            world.place(dom, self.destination)
            world.place(left, self.source)
        else:
            world.place(dom, self.destination)
        dom.persistent = bool(self.flags & c.VIR_MIGRATE_PERSIST_DEST) or dom.persistent
        dom.run_state = c.VIR_DOMAIN_PAUSED if self.flags & c.VIR_MIGRATE_PAUSED else c.VIR_DOMAIN_RUNNING
        if self.dname:
            dom.vm_name = self.dname

    def stats(self) -> dict[str, Any]:
        end = self.ended if self.ended is not None else time.monotonic()
        return {
            "type": self.dom.job_type,
            "operation": c.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT,
            "time_elapsed": int((end - self.started) * 1000),
            "memory_total": int(self.dom.memory_mib * MIB),
            "memory_processed": int(self.processed_mib * MIB),
            "memory_remaining": int(self.remaining_mib * MIB),
            "memory_bps": int(self.rate_mibps * MIB),
            "memory_dirty_rate": int(self.dom.dirty_rate_mibps * (1 - self.throttle) * MIB / 4096),
            "memory_page_size": 4096,
            "memory_iteration": self.iteration,
            "auto_converge_throttle": int(self.throttle * 100),
        }


def migrate(
    dom: FakeDomain, destination: FakeHost, flags: int, params: dict[str, Any], client: bool = False
) -> FakeDomain:
    """Carry out one migration of `dom` to `destination`, as libvirt would; returns the moved domain."""
    if flags & c.VIR_MIGRATE_TUNNELLED and not flags & c.VIR_MIGRATE_PEER2PEER:
        raise VirtError("invalid argument: tunnelled migration requires peer2peer")
    if not client and not flags & c.VIR_MIGRATE_PEER2PEER:
        raise VirtError("this function is not supported by the connection driver: direct migration")
    if not flags & c.VIR_MIGRATE_TUNNELLED and "migrate_uri" not in params:
        raise VirtError(f"unable to resolve '{destination.name}': Name or service not known")
    if dom.job_type != c.VIR_DOMAIN_JOB_NONE:
        raise VirtError("Timed out during operation: cannot acquire state change lock")
    if dom.run_state != c.VIR_DOMAIN_RUNNING:
        raise VirtError("Requested operation is not valid: domain is not running")
    source = dom.host
    assert source is not None
    if destination is source:
        raise VirtError("internal error: Attempt to migrate guest to the same host")
    bandwidth = int(params.get("bandwidth", 0)) or LINK_MIBPS
    job = FakeMigration(dom, source, destination, flags, bandwidth, params.get("destination_name"))
    dom.migration = job
    source.world.migrations.append(job)
    job.run()
    return dom
