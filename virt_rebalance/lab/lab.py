"""A whole lab: N hosts on one bridge, their guests, the lab.json state file and the cluster config."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from virt_rebalance.lab import disks as storage
from virt_rebalance.lab import host as libvirtd
from virt_rebalance.lab import network, state
from virt_rebalance.lab.cluster_config import cluster_toml
from virt_rebalance.lab.errors import LabError
from virt_rebalance.lab.guest import DiskSource, GuestSpec, default_guests, domain_xml
from virt_rebalance.lab.host import LabHost
from virt_rebalance.lab.images import READY_MARKER, ensure_images
from virt_rebalance.lab.naming import LAB_ROOT, LabNames
from virt_rebalance.lab.state import HostRecord, LabState
from virt_rebalance.lab.status import DomainState, HostStatus, LabStatus
from virt_rebalance.lab.system import locked, preflight, run

DEFAULT_NIC_MIBPS = 256


class Lab:
    """A named lab on this machine; see the package docstring for the API tour."""

    def __init__(
        self,
        name: str = "default",
        root: Path = LAB_ROOT,
        nic_mibps: int = DEFAULT_NIC_MIBPS,
        storage_mib: int = storage.DEFAULT_STORAGE_MIB,
    ):
        self.names = LabNames(name, root)
        self.name = name
        self.nic_mibps = nic_mibps
        self.storage_mib = storage_mib  # each host's local storage, for local disks
        self._procs: dict[int, subprocess.Popen[bytes]] = {}

    # --- what tests read -------------------------------------------------------------------------

    @property
    def dir(self) -> Path:
        return self.names.dir

    @property
    def config_path(self) -> Path:
        return self.names.config_path

    @property
    def hosts(self) -> list[LabHost]:
        return [r.host for r in self._state().hosts]

    @property
    def guests(self) -> list[GuestSpec]:
        return list(self._state().guests)

    def host(self, name: str) -> LabHost:
        return self._state().record(name).host

    def uri(self, host: str) -> str:
        return self.host(host).uri

    def exists(self) -> bool:
        return self.names.state_file.exists()

    def connect(self, host: str) -> Any:
        """A read-write connection to the host through the seam (errors come as collectors.seam.VirtError).

        Opened by collectors.connect, the place that imports libvirt; the lab itself drives its hosts
        through virsh, so `lab up/down/status` work without the Python binding."""
        from collectors.connect import open_connection

        return open_connection(self.uri(host))

    # --- the life cycle ------------------------------------------------------------------------

    def up(
        self,
        hosts: int = 3,
        guests: int = 0,
        no_kvm_hosts: int = 0,
        skewed: bool = False,
        wait: bool = True,
        disks: str = "none",
    ) -> Lab:
        """Start the lab, or complete it if it is already (partly) up. Idempotent. With wait, returns
        once every tcg guest has booted (its load is running). disks: what the default guests get
        ("none", "shared", "local" or "mixed"; see guest.default_guests)."""
        if not 1 <= hosts <= 64 or not 0 <= no_kvm_hosts <= hosts or guests < 0:
            raise LabError(f"bad lab size: {hosts} hosts, {no_kvm_hosts} without KVM, {guests} guests")
        preflight()
        with locked(self.names.lock_file):
            images = ensure_images()
            current = self._ensure_hosts(hosts, no_kvm_hosts)
            self.names.console_dir.mkdir(exist_ok=True)
            specs = default_guests(guests, current.host_names, [], skewed, disks)
            self._ensure_guests(specs, current, images.kernel, images.initrd)
            self.config_path.write_text(
                cluster_toml(self.name, self.hosts, self.dir / "state", self.nic_mibps)
            )
        if wait:
            self.wait_booted()
        return self

    def _ensure_hosts(self, count: int, no_kvm: int) -> LabState:
        self.dir.mkdir(parents=True, exist_ok=True)
        current = state.load(self.names.state_file) or LabState(
            self.name, self.names.bridge, self.names.subnet, self.nic_mibps
        )
        kvm = Path("/dev/kvm").exists()  # on a machine without KVM no host offers it
        wanted = [self.names.new_host(i, kvm=kvm and i <= count - no_kvm) for i in range(1, count + 1)]
        if current.hosts and [r.host.name for r in current.hosts] != [h.name for h in wanted]:
            raise LabError(
                f"lab {self.name} already has {len(current.hosts)} hosts",
                f"run `virt-rebalance lab down --name {self.name}` first to change its size",
            )
        if current.hosts and [r.host.kvm for r in current.hosts] != [h.kvm for h in wanted]:
            raise LabError(
                f"lab {self.name} already has other hosts without KVM",
                f"run `virt-rebalance lab down --name {self.name}` first",
            )
        if not current.hosts:
            current = LabState(
                self.name,
                self.names.bridge,
                self.names.subnet,
                self.nic_mibps,
                tuple(HostRecord(h) for h in wanted),
            )
        network.ensure_bridge(current.bridge)
        starting = []
        for record in current.hosts:
            h = record.host
            network.ensure_host_network(current.bridge, h.netns, self.names.veth(h.name), h.address)
            storage.ensure_host_storage(h, self.storage_mib)
            if record.libvirtd_pid and libvirtd.is_our_libvirtd(h, record.libvirtd_pid):
                continue
            proc = libvirtd.start_libvirtd(h)
            self._procs[proc.pid] = proc
            current = current.with_pid(h.name, proc.pid)
            starting.append((h, proc.pid))
        state.save(self.names.state_file, current)
        for h, pid in starting:
            libvirtd.wait_ready(h, pid)
        libvirtd.probe_caps([h for h, _ in starting])
        return current

    def down(self) -> None:
        """Kill the lab's processes (recorded libvirtd pids and their hosts' qemu), remove its namespaces,
        bridge, veths and files. Idempotent: a lab that is not there is not an error."""
        preflight()
        with locked(self.names.lock_file):
            try:
                current = state.load(self.names.state_file)
            except LabError:  # a damaged lab.json: clean up by the names derived from the lab's name
                current = None
            records = list(current.hosts) if current else []
            pids: set[int] = set()
            for record in records:
                if record.libvirtd_pid and libvirtd.is_our_libvirtd(record.host, record.libvirtd_pid):
                    pids.add(record.libvirtd_pid)
                pids |= self._qemu_pids(record.host)
            netns_names = {r.host.netns for r in records} | set(network.list_netns(self.names.netns_prefix))
            for ns in [*netns_names, self.names.storage_netns]:
                pids |= set(network.netns_pids(ns))
            libvirtd.stop(sorted(pids), signal.SIGKILL)
            for ns in sorted(netns_names):
                host_name = ns.removeprefix(f"vrl-{self.name}-")
                network.remove_host_network(ns, self.names.veth(host_name))
            network.remove_host_network(self.names.storage_netns, self.names.storage_veth)
            network.remove_bridge(self.names.bridge)
            for host_dir in self.dir.glob("h[0-9]*"):
                storage.remove_host_storage(host_dir)
            shutil.rmtree(self.dir, ignore_errors=True)
        self.names.lock_file.unlink(missing_ok=True)

    def _qemu_pids(self, host: LabHost) -> set[int]:
        """The host's qemu processes, from libvirt's pid files, checked to live in the host's netns."""
        pids = set()
        for pid_path in (host.dir / "run" / "qemu").glob("*.pid"):
            try:
                pid = int(pid_path.read_text().strip())
            except ValueError:
                continue
            if "qemu" in libvirtd.cmdline(pid) and network.in_netns(pid, host.netns):
                pids.add(pid)
        return pids

    # --- guests --------------------------------------------------------------------------------

    def add_guest(self, spec: GuestSpec) -> str:
        """Define and start a guest; returns the host it runs on (spec.host, or the emptiest fitting one)."""
        images = ensure_images()
        with locked(self.names.lock_file):
            current = self._state()
            if any(g.name == spec.name for g in current.guests):
                raise LabError(f"lab {self.name} already has a guest {spec.name!r}")
            placed = self._ensure_guests([spec], current, images.kernel, images.initrd)
        return placed[0].host or ""

    def _ensure_guests(
        self, specs: list[GuestSpec], current: LabState, kernel: Path, initrd: Path
    ) -> list[GuestSpec]:
        """Define the guests no host has yet, start those not running; record where each one is.
        Hosts work in parallel (starting a guest waits on its qemu), each host one guest at a time."""
        defined = {r.host.name: self._virsh_names(r.host, all_states=True) for r in current.hosts}
        running = {r.host.name: self._virsh_names(r.host, all_states=False) for r in current.hosts}
        placed = []
        commands: dict[str, list[tuple[str, ...]]] = {h: [] for h in current.host_names}
        for spec in specs:
            where = [h for h, names in defined.items() if spec.name in names]
            host = where[0] if where else current.pick_host(spec)
            if spec.kind == "kvm" and not current.record(host).host.kvm:
                raise LabError(f"guest {spec.name} is a kvm guest but host {host} has no KVM")
            if not where:
                self.names.console_dir.mkdir(parents=True, exist_ok=True)
                xml_path = self.dir / "guests" / f"{spec.name}.xml"
                xml_path.parent.mkdir(exist_ok=True)
                disk, current = self._disk(spec, current.record(host).host, current)
                xml = domain_xml(spec, self.name, kernel, initrd, self.names.console_dir, disk)
                xml_path.write_text(xml)
                commands[host].append(("define", str(xml_path)))
            if spec.name not in running[host]:
                commands[host].append(("start", spec.name))
            placed.append(GuestSpec(**{**spec.to_json(), "host": host}))
            current = current.with_guest(placed[-1])
        work = {h: c for h, c in commands.items() if c}
        if work:
            with ThreadPoolExecutor(max_workers=len(work)) as pool:
                for done in [pool.submit(self._run_all, h, c) for h, c in work.items()]:
                    done.result()
        state.save(self.names.state_file, current)
        return placed

    def _disk(self, spec: GuestSpec, host: LabHost, current: LabState) -> tuple[DiskSource | None, LabState]:
        """The guest's disk, created (and for a shared one, served) now; shared disks' NBD ports are
        kept in lab.json so that a guest keeps its port."""
        if spec.disk == "local":
            return storage.local_disk(host, spec), current
        if spec.disk == "none":
            return None, current
        ports: dict[str, int] = dict(current.extra.get("nbd_ports", {}))
        port = ports.get(spec.name) or max([storage.NBD_FIRST_PORT - 1, *ports.values()]) + 1
        current = current.with_extra("nbd_ports", {**ports, spec.name: port})
        state.save(self.names.state_file, current)
        network.ensure_host_network(
            current.bridge, self.names.storage_netns, self.names.storage_veth, self.names.storage_address
        )
        source = storage.shared_disk(
            self.names.shared_dir / f"{spec.name}.qcow2",
            spec,
            self.names.storage_netns,
            self.names.storage_address,
            port,
            self.names.shared_dir / f"{spec.name}.nbd.pid",
        )
        return source, current

    def _run_all(self, host: str, commands: list[tuple[str, ...]]) -> None:
        for command in commands:
            self.virsh(host, *command)

    def wait_booted(self, guests: Iterable[str] | None = None, timeout: float = 120) -> None:
        """Wait until the tcg guests (all, or those named) print their ready line on the console."""
        names = set(guests) if guests is not None else {g.name for g in self.guests if g.kind == "tcg"}
        deadline = time.monotonic() + timeout
        while waiting := sorted(n for n in names if not self._booted(n)):
            if time.monotonic() > deadline:
                raise LabError(f"guests {', '.join(waiting)} did not boot in {timeout:.0f} s")
            time.sleep(0.2)

    def _booted(self, guest: str) -> bool:
        try:
            return READY_MARKER.encode() in (self.names.console_dir / f"{guest}.log").read_bytes()
        except FileNotFoundError:
            return False

    def where(self, guest: str) -> list[str]:
        """The hosts on which the guest is running now (a host with libvirtd stopped: by its qemu pid file)."""
        out = []
        for record in self._state().hosts:
            h = record.host
            if record.libvirtd_pid and libvirtd.is_alive(record.libvirtd_pid):
                running = guest in self._virsh_names(h, all_states=False)
            else:
                running = any(f"guest={guest}," in libvirtd.cmdline(p) for p in self._qemu_pids(h))
            if running:
                out.append(h.name)
        return out

    # --- libvirtd of one host ------------------------------------------------------------------

    def stop_libvirtd(self, host: str) -> None:
        """Stop the host's libvirtd; its qemu guests keep running."""
        with locked(self.names.lock_file):
            record = self._state().record(host)
            if record.libvirtd_pid and libvirtd.is_our_libvirtd(record.host, record.libvirtd_pid):
                libvirtd.stop([record.libvirtd_pid])
            state.save(self.names.state_file, self._state().with_pid(host, None))

    def start_libvirtd(self, host: str) -> None:
        """Start the host's libvirtd again (a no-op while it runs); it picks up its running guests."""
        with locked(self.names.lock_file):
            record = self._state().record(host)
            if record.libvirtd_pid and libvirtd.is_our_libvirtd(record.host, record.libvirtd_pid):
                return
            proc = libvirtd.start_libvirtd(record.host)
            self._procs[proc.pid] = proc
            state.save(self.names.state_file, self._state().with_pid(host, proc.pid))
            libvirtd.wait_ready(record.host, proc.pid)

    def restart_libvirtd(self, host: str, down_s: float = 0.0) -> None:
        """The lab's stand-in for a reboot: stop the host's libvirtd, stay down `down_s`, start it again."""
        self.stop_libvirtd(host)
        time.sleep(down_s)
        self.start_libvirtd(host)

    # --- status --------------------------------------------------------------------------------

    def status(self) -> LabStatus:
        current = state.load(self.names.state_file)
        if current is None:
            raise LabError(
                f"no lab named {self.name}", f"start it with `virt-rebalance lab up --name {self.name}`"
            )
        hosts, domains = [], []
        for record in current.hosts:
            up = bool(record.libvirtd_pid) and libvirtd.is_our_libvirtd(record.host, record.libvirtd_pid or 0)
            hosts.append(HostStatus(record.host, record.libvirtd_pid, up))
            if up:
                for line in self.virsh(record.host.name, "list", "--all").splitlines():
                    parts = line.split(None, 2)
                    if len(parts) == 3:
                        domains.append(DomainState(parts[1], record.host.name, parts[2].strip()))
            else:  # its guests may run on without libvirtd
                for pid in sorted(self._qemu_pids(record.host)):
                    match = re.search(r"-name guest=([^, ]+)", libvirtd.cmdline(pid))
                    if match:
                        domains.append(
                            DomainState(match.group(1), record.host.name, "running (libvirtd down)")
                        )
        return LabStatus(self.name, self.config_path, tuple(hosts), tuple(domains))

    # --- plumbing ------------------------------------------------------------------------------

    def virsh(self, host: str, *args: str) -> str:
        """Run one virsh command against the host; LabError when it fails."""
        return run(["virsh", "-q", "-c", self.uri(host), *args], timeout=60).stdout

    def _virsh_names(self, host: LabHost, all_states: bool) -> set[str]:
        args = ["list", "--name", "--all"] if all_states else ["list", "--name", "--state-running"]
        return {n.strip() for n in self.virsh(host.name, *args).splitlines() if n.strip()}

    def _state(self) -> LabState:
        current = state.load(self.names.state_file)
        if current is None:
            raise LabError(
                f"no lab named {self.name}", f"start it with `virt-rebalance lab up --name {self.name}`"
            )
        return current
