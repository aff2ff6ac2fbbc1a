"""An in-memory implementation of the libvirt seam (collectors.seam) for unit tests and simulated clusters.

    world = FakeWorld(latency_s=0.02)
    h1 = world.add_host("h1", cpus=32, memory_mib=262144, cpu_model="Skylake-Server-IBRS")
    world.add_domain("h1", "web1", vcpus=2, memory_mib=4096, cpu_millicores=800, dirty_rate_mibps=12)
    conn = world.open(h1.uri)          # world.open is an Opener

Every call on a FakeConnection or FakeDomain sleeps its host's latency, fails when the host is dead
(`alive=False`), blocks for `hang_s` when the host hangs, and is counted in `world.calls` (the number of
libvirt round trips). Guests burn CPU at a constant rate (`cpu_millicores`), so two readings of cpu.time
an interval apart give that rate back, and measure their dirty rate with startDirtyRateCalc as libvirt does.

Every failure is the seam's own `VirtError` with libvirt's code, as the real connection raises it. Live
migration (migrateToURI3, migrate, jobStats, abortJob, post-copy) is simulated by tests.fakes.migration.
Deliberately small and open to extension: FakeHost and FakeDomain are plain dataclasses.
"""

from __future__ import annotations

import threading
import time
import uuid as uuidlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from collectors import constants as c
from collectors.constants import (
    VIR_ERR_CONFIG_UNSUPPORTED,
    VIR_ERR_NO_DOMAIN,
    VIR_ERR_OPERATION_INVALID,
    VIR_ERR_SYSTEM_ERROR,
)
from collectors.seam import Connection, Domain, Opener, VirtError
from tests.fakes.migration import FakeMigration, Fault, migrate

QEMU64 = "<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>"


@dataclass(eq=False)
class FakeDomain:
    """A guest. `cpu_xml` and `devices_xml` go verbatim into the domain XML."""

    vm_name: str
    vm_uuid: str = field(default_factory=lambda: str(uuidlib.uuid4()))
    vcpus: int = 1
    memory_mib: int = 1024
    domain_type: str = "kvm"
    cpu_xml: str = QEMU64
    devices_xml: str = ""
    run_state: int = c.VIR_DOMAIN_RUNNING
    state_reason: int = 1
    persistent: bool = True
    cpu_millicores: int = 0
    memory_used_mib: int | None = None
    dirty_rate_mibps: int = 0
    job_type: int = c.VIR_DOMAIN_JOB_NONE
    incoming: bool = False  # the destination's side of a migration in flight (tests.fakes.migration)
    fail: set[str] = field(default_factory=set)  # method names that raise VirtError
    host: FakeHost | None = None
    started_at: float = field(default_factory=time.monotonic)
    dirty_calc: tuple[float, int] | None = None  # (started at, seconds)
    migration: FakeMigration | None = None  # running or last finished
    migrate_fault: Fault | None = None  # to inject
    disk_bytes: dict[str, int] = field(default_factory=dict)  # target -> capacity (blockInfo)
    metadata_xml: str = ""  # what its <metadata> holds, verbatim

    def _call(self, method: str) -> None:
        assert self.host is not None, f"{self.vm_name} is on no host"
        self.host.call(f"Domain.{method}")
        if method in self.fail:
            raise VirtError(f"internal error: {method} failed on {self.vm_name}")

    @property
    def active(self) -> bool:
        return self.run_state not in (c.VIR_DOMAIN_SHUTOFF, c.VIR_DOMAIN_NOSTATE)

    def cpu_time_ns(self) -> int:
        return int(self.cpu_millicores * 1e6 * (time.monotonic() - self.started_at))

    def xml(self) -> str:
        kib = self.memory_mib * 1024
        dom_id = " id='1'" if self.active else ""
        return (
            f"<domain type='{self.domain_type}'{dom_id}><name>{self.vm_name}</name><uuid>{self.vm_uuid}</uuid>"
            f"<memory unit='KiB'>{kib}</memory><currentMemory unit='KiB'>{kib}</currentMemory>"
            f"<vcpu placement='static'>{self.vcpus}</vcpu>"
            "<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>"
            f"{self.cpu_xml}<devices>{self.devices_xml}</devices>"
            f"{f'<metadata>{self.metadata_xml}</metadata>' if self.metadata_xml else ''}</domain>"
        )

    def stats(self, stats: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if stats & c.VIR_DOMAIN_STATS_STATE:
            out.update({"state.state": self.run_state, "state.reason": 1})
        if not self.active:
            return out
        if stats & c.VIR_DOMAIN_STATS_CPU_TOTAL:
            out["cpu.time"] = self.cpu_time_ns()
        if stats & c.VIR_DOMAIN_STATS_BALLOON:
            kib = self.memory_mib * 1024
            rss = kib if self.memory_used_mib is None else self.memory_used_mib * 1024
            out.update({"balloon.current": kib, "balloon.maximum": kib, "balloon.rss": rss})
        if stats & c.VIR_DOMAIN_STATS_VCPU:
            out.update({"vcpu.current": self.vcpus, "vcpu.maximum": self.vcpus})
        if stats & c.VIR_DOMAIN_STATS_DIRTYRATE:
            out.update(self._dirty_stats())
        return out

    def _dirty_stats(self) -> dict[str, Any]:
        if self.dirty_calc is None:
            return {"dirtyrate.calc_status": c.VIR_DOMAIN_DIRTYRATE_UNSTARTED}
        started, seconds = self.dirty_calc
        if time.monotonic() < started + seconds:
            return {"dirtyrate.calc_status": c.VIR_DOMAIN_DIRTYRATE_MEASURING}
        return {
            "dirtyrate.calc_status": c.VIR_DOMAIN_DIRTYRATE_MEASURED,
            "dirtyrate.calc_period": seconds,
            "dirtyrate.megabytes_per_second": self.dirty_rate_mibps,
        }

    # --- the seam's Domain (name and UUID are cached client-side by libvirt: no round trip) ---
    def name(self) -> str:
        return self.vm_name

    def UUIDString(self) -> str:
        return self.vm_uuid

    def XMLDesc(self, flags: int = 0) -> str:
        self._call("XMLDesc")
        return self.xml()

    def state(self, flags: int = 0) -> list[int]:
        self._call("state")
        return [self.run_state, self.state_reason]

    def isActive(self) -> int:
        self._call("isActive")
        return int(self.active)

    def isPersistent(self) -> int:
        self._call("isPersistent")
        return int(self.persistent)

    def info(self) -> list[int]:
        self._call("info")
        kib = self.memory_mib * 1024
        return [self.run_state, kib, kib, self.vcpus, self.cpu_time_ns()]

    def _only_on_source(self) -> None:
        if self.incoming:  # what libvirt answers on a migration's destination
            raise VirtError(
                "Operation not supported: migration statistics are available only on the source host",
                c.VIR_ERR_OPERATION_UNSUPPORTED,
            )

    def jobInfo(self) -> list[int]:
        self._call("jobInfo")
        self._only_on_source()
        return [self.job_type] + [0] * 11

    def jobStats(self, flags: int = 0) -> dict[str, Any]:
        self._call("jobStats")
        self._only_on_source()
        if flags & c.VIR_DOMAIN_JOB_STATS_COMPLETED:
            done = self.migration.completed if self.migration is not None else None
            return dict(done) if done else {"type": c.VIR_DOMAIN_JOB_NONE}
        if self.migration is not None and self.job_type != c.VIR_DOMAIN_JOB_NONE:
            return dict(self.migration.stats())
        return {"type": self.job_type}

    def abortJob(self) -> int:
        self._call("abortJob")
        if self.migration is None or self.job_type == c.VIR_DOMAIN_JOB_NONE:
            raise VirtError("Requested operation is not valid: no job is active", VIR_ERR_OPERATION_INVALID)
        self.migration.aborted.set()
        return 0

    def startDirtyRateCalc(self, seconds: int, flags: int = 0) -> None:
        self._call("startDirtyRateCalc")
        if not self.active:
            raise VirtError("Requested operation is not valid: domain is not running")
        self.dirty_calc = (time.monotonic(), seconds)

    def migrateToURI3(self, dconnuri: str, params: dict[str, Any], flags: int = 0) -> int:
        self._call("migrateToURI3")
        assert self.host is not None
        migrate(self, self.host.world.host_for(dconnuri), flags, params)
        return 0

    def migrate(
        self,
        dconn: Connection,
        flags: int = 0,
        dname: str | None = None,
        uri: str | None = None,
        bandwidth: int = 0,
    ) -> Domain:
        self._call("migrate")
        if not isinstance(dconn, FakeConnection):
            raise VirtError("invalid argument: not a fake connection")
        params: dict[str, Any] = {"bandwidth": bandwidth}
        if uri:
            params["migrate_uri"] = uri
        if dname:
            params["destination_name"] = dname
        return migrate(self, dconn.host, flags, params, client=True)

    def migrateSetMaxSpeed(self, bandwidth: int, flags: int = 0) -> int:
        self._call("migrateSetMaxSpeed")
        if self.migration is not None and self.job_type != c.VIR_DOMAIN_JOB_NONE:
            self.migration.bandwidth_mibps = bandwidth
        return 0

    def migrateSetMaxDowntime(self, downtime: int, flags: int = 0) -> int:
        self._call("migrateSetMaxDowntime")
        if self.migration is not None and self.job_type != c.VIR_DOMAIN_JOB_NONE:
            self.migration.downtime_s = downtime / 1000
        return 0

    def blockInfo(self, path: str, flags: int = 0) -> list[int]:
        self._call("blockInfo")
        if path not in self.disk_bytes:
            raise VirtError(f"invalid argument: invalid path {path} not assigned to domain")
        return [self.disk_bytes[path], self.disk_bytes[path], self.disk_bytes[path]]

    def migrateStartPostCopy(self, flags: int = 0) -> None:
        self._call("migrateStartPostCopy")
        job = self.migration
        if job is None or self.job_type == c.VIR_DOMAIN_JOB_NONE or not job.flags & c.VIR_MIGRATE_POSTCOPY:
            raise VirtError("Requested operation is not valid: post-copy was not enabled")
        job.postcopy = True


@dataclass(eq=False)
class FakeHost:
    """A libvirt host. `capabilities_xml` / `domcaps_xml` override the generated XML (recorded fixtures).

    compareHypervisorCPU here: a guest CPU model runs if it is the host's model or in `runs_models`, and
    every required feature is in `cpu_features`; a domain type the host does not offer raises, as QEMU does.
    """

    name: str
    world: FakeWorld
    uri: str = ""
    cpus: int = 32
    memory_mib: int = 262144
    free_mib: int | None = None
    cpu_vendor: str = "Intel"
    cpu_model: str = "Skylake-Server-IBRS"
    cpu_features: tuple[str, ...] = ()
    runs_models: tuple[str, ...] = ("qemu64",)
    domain_types: tuple[str, ...] = ("qemu", "kvm")
    capabilities_xml: str | None = None
    domcaps_xml: str | None = None
    latency_s: float | None = None  # None: the world's
    alive: bool = True
    hang_s: float = 0.0
    domains: dict[str, FakeDomain] = field(default_factory=dict)
    pools: list[Any] = field(default_factory=list)  # tests.fakes.storage.FakePool

    def __post_init__(self) -> None:
        self.uri = self.uri or f"test:///{self.name}"  # libvirt's own test driver scheme

    def call(self, method: str) -> None:
        self.world.count(method)
        latency = self.world.latency_s if self.latency_s is None else self.latency_s
        if self.hang_s:
            self.world.release.wait(self.hang_s)
        elif latency:
            time.sleep(latency)
        if not self.alive:
            raise VirtError("Cannot recv data: Connection reset by peer", VIR_ERR_SYSTEM_ERROR)

    def cpu_element(self) -> str:
        feats = "".join(f"<feature name='{f}'/>" for f in self.cpu_features)
        return (
            f"<cpu><arch>x86_64</arch><model>{self.cpu_model}</model><vendor>{self.cpu_vendor}</vendor>"
            f"<topology sockets='1' dies='1' cores='{self.cpus}' threads='1'/>{feats}</cpu>"
        )

    def capabilities(self) -> str:
        if self.capabilities_xml is not None:
            return self.capabilities_xml
        domains = "".join(f"<domain type='{t}'/>" for t in self.domain_types)
        return (
            f"<capabilities><host><uuid>{uuidlib.uuid5(uuidlib.NAMESPACE_DNS, self.name)}</uuid>"
            f"{self.cpu_element()}</host><guest><os_type>hvm</os_type><arch name='x86_64'>"
            f"<wordsize>64</wordsize><emulator>/usr/bin/qemu-system-x86_64</emulator>{domains}"
            "</arch></guest></capabilities>"
        )

    def domain_capabilities(self, virttype: str) -> str:
        if virttype not in self.domain_types:
            raise VirtError(
                "invalid argument: KVM is not supported by '/usr/bin/qemu-system-x86_64' on this host"
                if virttype == "kvm"
                else f"invalid argument: unknown virttype: {virttype}",
                VIR_ERR_CONFIG_UNSUPPORTED,
            )
        if self.domcaps_xml is not None:
            return self.domcaps_xml
        feats = "".join(f"<feature policy='require' name='{f}'/>" for f in self.cpu_features)
        models = "".join(f"<model usable='yes'>{m}</model>" for m in (self.cpu_model, *self.runs_models))
        return (
            "<domainCapabilities><path>/usr/bin/qemu-system-x86_64</path>"
            f"<domain>{virttype}</domain><arch>x86_64</arch><cpu>"
            "<mode name='host-passthrough' supported='yes'/>"
            f"<mode name='host-model' supported='yes'><model fallback='forbid'>{self.cpu_model}</model>"
            f"<vendor>{self.cpu_vendor}</vendor>{feats}</mode>"
            f"<mode name='custom' supported='yes'>{models}</mode></cpu></domainCapabilities>"
        )

    def compare(self, virttype: str | None, xml_cpu: str) -> int:
        if virttype and virttype not in self.domain_types:
            raise VirtError(f"unsupported configuration: the accel '{virttype}' is not supported")
        cpu = ET.fromstring(xml_cpu)
        model = cpu.findtext("model")
        required = {
            f.get("name") for f in cpu.iter("feature") if f.get("policy", "require") in ("require", "force")
        }
        if model not in (self.cpu_model, *self.runs_models) or not required <= set(self.cpu_features):
            return c.VIR_CPU_COMPARE_INCOMPATIBLE
        if model == self.cpu_model and required == set(self.cpu_features):
            return c.VIR_CPU_COMPARE_IDENTICAL
        return c.VIR_CPU_COMPARE_SUPERSET


class FakeConnection:
    """One open connection to a FakeHost: the seam's Connection."""

    def __init__(self, host: FakeHost) -> None:
        self.host = host
        self.closed = False

    def _call(self, method: str) -> None:
        if self.closed:
            raise VirtError("internal error: client socket is closed")
        self.host.call(f"Connection.{method}")

    def getInfo(self) -> list[Any]:
        self._call("getInfo")
        h = self.host
        return ["x86_64", h.memory_mib, h.cpus, 2400, 1, 1, h.cpus, 1]

    def getHostname(self) -> str:
        self._call("getHostname")
        return self.host.name

    def getCapabilities(self) -> str:
        self._call("getCapabilities")
        return self.host.capabilities()

    def getDomainCapabilities(
        self,
        emulatorbin: str | None = None,
        arch: str | None = None,
        machine: str | None = None,
        virttype: str | None = None,
        flags: int = 0,
    ) -> str:
        self._call("getDomainCapabilities")
        return self.host.domain_capabilities(virttype or self.host.domain_types[-1])

    def getMemoryStats(self, cellNum: int, flags: int = 0) -> dict[str, int]:
        self._call("getMemoryStats")
        h = self.host
        free = h.free_mib if h.free_mib is not None else h.memory_mib // 2
        return {"total": h.memory_mib * 1024, "free": free * 1024, "buffers": 0, "cached": 0}

    def listAllDomains(self, flags: int = 0) -> list[Domain]:
        self._call("listAllDomains")
        out: list[FakeDomain] = list(self.host.domains.values())
        if flags & c.VIR_CONNECT_LIST_DOMAINS_ACTIVE:
            out = [d for d in out if d.active]
        if flags & c.VIR_CONNECT_LIST_DOMAINS_PERSISTENT:
            out = [d for d in out if d.persistent]
        if flags & c.VIR_CONNECT_LIST_DOMAINS_TRANSIENT:
            out = [d for d in out if not d.persistent]
        return list(out)

    def lookupByUUIDString(self, uuid: str) -> FakeDomain:
        self._call("lookupByUUIDString")
        if uuid in self.host.domains:
            return self.host.domains[uuid]
        raise VirtError(f"Domain not found: no domain with matching uuid '{uuid}'", VIR_ERR_NO_DOMAIN)

    def lookupByName(self, name: str) -> FakeDomain:
        self._call("lookupByName")
        for d in self.host.domains.values():
            if d.vm_name == name:
                return d
        raise VirtError(f"Domain not found: no domain with matching name '{name}'", VIR_ERR_NO_DOMAIN)

    def getAllDomainStats(self, stats: int = 0, flags: int = 0) -> list[tuple[Domain, dict[str, Any]]]:
        self._call("getAllDomainStats")
        doms = list(self.host.domains.values())
        if flags & c.VIR_CONNECT_LIST_DOMAINS_ACTIVE:
            doms = [d for d in doms if d.active]
        return [(d, d.stats(stats)) for d in doms]

    def compareHypervisorCPU(
        self,
        emulator: str | None,
        arch: str | None,
        machine: str | None,
        virttype: str | None,
        xmlCPU: str,
        flags: int = 0,
    ) -> int:
        self._call("compareHypervisorCPU")
        return self.host.compare(virttype, xmlCPU)

    def baselineHypervisorCPU(
        self,
        emulator: str | None,
        arch: str | None,
        machine: str | None,
        virttype: str | None,
        xmlCPUs: list[str],
        flags: int = 0,
    ) -> str:
        """The common model when all agree (else qemu64) with the features every CPU has."""
        self._call("baselineHypervisorCPU")
        cpus = [ET.fromstring(x) for x in xmlCPUs]
        models = {cpu.findtext("model") for cpu in cpus}
        model = models.pop() if len(models) == 1 else "qemu64"
        common = set.intersection(*({f.get("name") for f in cpu.iter("feature")} for cpu in cpus))
        feats = "".join(f"<feature policy='require' name='{f}'/>" for f in sorted(n for n in common if n))
        return f"<cpu mode='custom' match='exact'><model fallback='forbid'>{model}</model>{feats}</cpu>"

    def storagePoolLookupByName(self, name: str) -> Any:
        self._call("storagePoolLookupByName")
        return self._pool(lambda p: p.pool_name == name, f"no storage pool with matching name '{name}'")

    def storagePoolLookupByTargetPath(self, path: str) -> Any:
        self._call("storagePoolLookupByTargetPath")
        return self._pool(lambda p: p.target == path, f"no storage pool with matching target path '{path}'")

    def storageVolLookupByPath(self, path: str) -> Any:
        self._call("storageVolLookupByPath")
        for pool in self.host.pools:
            if path in pool.volumes:
                return pool.volumes[path]
        raise VirtError(f"Storage volume not found: no storage vol with matching path '{path}'")

    def _pool(self, match: Any, missing: str) -> Any:
        for pool in self.host.pools:
            if match(pool):
                return pool
        raise VirtError(f"Storage pool not found: {missing}")

    def close(self) -> int:
        self.closed = True
        return 0


class FakeWorld:
    """Hosts by name, the round-trip counter, and `open`, the Opener collectors take."""

    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.hosts: dict[str, FakeHost] = {}
        self.calls: Counter[str] = Counter()
        self.release = threading.Event()  # set() wakes hosts that hang
        self.migrations: list[FakeMigration] = []  # in start order
        self._lock = threading.Lock()

    def count(self, method: str) -> None:
        with self._lock:
            self.calls[method] += 1

    @property
    def round_trips(self) -> int:
        return sum(self.calls.values())

    def add_host(self, name: str, **fields: Any) -> FakeHost:
        host = FakeHost(name=name, world=self, **fields)
        self.hosts[name] = host
        return host

    def add_domain(self, host: str, name: str, **fields: Any) -> FakeDomain:
        dom = FakeDomain(vm_name=name, **fields)
        self.place(dom, self.hosts[host])
        return dom

    def place(self, dom: FakeDomain, host: FakeHost) -> None:
        """Put `dom` on `host`, taking it off its current host (what a finished migration does)."""
        if dom.host is not None:
            dom.host.domains.pop(dom.vm_uuid, None)
        dom.host = host
        host.domains[dom.vm_uuid] = dom

    def host_for(self, uri: str) -> FakeHost:
        for h in self.hosts.values():
            if h.uri == uri:
                return h
        raise VirtError(f"no connection driver available for {uri}", VIR_ERR_SYSTEM_ERROR)

    def open(self, uri: str) -> FakeConnection:
        host = self.host_for(uri)
        host.call("open")
        return FakeConnection(host)


def _conforms(world: FakeWorld) -> Opener:
    """Static check (mypy): the fake implements the seam."""
    return world.open
