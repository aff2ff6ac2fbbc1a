"""One lab host: a libvirtd in its own network, mount and UTS namespaces, with private libvirt dirs.

The daemon runs as `ip netns exec NS unshare --mount --uts --propagation private -- sh -c SCRIPT`, where
SCRIPT bind-mounts the host's directories over /run/libvirt, /var/lib/libvirt, /etc/libvirt,
/var/cache/libvirt and /var/log/libvirt (plus an empty file over /dev/kvm for a host without KVM), sets
the hostname and execs libvirtd. Every step execs the next, so the pid we start is libvirtd's pid.
Stopping libvirtd (SIGTERM) leaves its qemu processes running; a new libvirtd picks them up again.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from virt_rebalance.lab.errors import LabError
from virt_rebalance.lab.system import run

CAPS_CACHE = Path("/var/cache/virt-rebalance/qemu-caps")
IMAGES_IN_HOST = "/var/lib/libvirt/images"
POOL_XML = f"<pool type='dir'><name>default</name><target><path>{IMAGES_IN_HOST}</path></target></pool>\n"

#: host dir subdirectory -> where it is mounted inside the host's mount namespace
PRIVATE_MOUNTS: dict[str, str] = {
    "run": "/run/libvirt",
    "lib": "/var/lib/libvirt",
    "etc": "/etc/libvirt",
    "cache": "/var/cache/libvirt",
    "log": "/var/log/libvirt",
}


@dataclass(frozen=True)
class LabHost:
    """One lab host as tests see it."""

    name: str
    uri: str  # control connection from the root namespace
    migration_uri: str  # tcp://ADDRESS, for VIR_MIGRATE_PARAM_URI
    address: str  # its address in its network namespace
    dir: Path
    netns: str
    kvm: bool
    host_uuid: str
    hostname: str


def libvirtd_conf(host_uuid: str, log_path: Path) -> str:
    """A distinct host_uuid per host: libvirt refuses a migration 'to the same host' otherwise."""
    return (
        f'host_uuid = "{host_uuid}"\n'
        'auth_unix_rw = "none"\n'
        'auth_unix_ro = "none"\n'
        'unix_sock_rw_perms = "0770"\n'
        f'log_outputs = "3:file:{log_path}"\n'
    )


def qemu_conf(migration_address: str) -> str:
    """Root guests without a security driver, cgroups, virtlogd or a private /dev per guest (it would
    trip over the empty file hiding /dev/kvm); migrations arrive on the host's address."""
    return (
        'user = "root"\n'
        'group = "root"\n'
        'security_driver = "none"\n'
        'stdio_handler = "file"\n'
        "cgroup_controllers = [ ]\n"
        "namespaces = [ ]\n"
        f'migration_address = "{migration_address}"\n'
    )


def prepare(host: LabHost) -> None:
    """Create the host's directories and write its config files (idempotent)."""
    for sub in PRIVATE_MOUNTS:
        (host.dir / sub).mkdir(parents=True, exist_ok=True)
    (host.dir / "log" / "qemu").mkdir(exist_ok=True)
    (host.dir / "etc" / "libvirtd.conf").write_text(libvirtd_conf(host.host_uuid, host.dir / "libvirtd.log"))
    (host.dir / "etc" / "qemu.conf").write_text(qemu_conf(host.address))
    (host.dir / "nokvm").touch()
    # The "default" directory pool over its images directory, defined and autostarted by libvirtd itself.
    autostart = host.dir / "etc" / "storage" / "autostart"
    autostart.mkdir(parents=True, exist_ok=True)
    (host.dir / "etc" / "storage" / "default.xml").write_text(POOL_XML)
    if not (autostart / "default.xml").is_symlink():
        (autostart / "default.xml").symlink_to("/etc/libvirt/storage/default.xml")


def start_script(host: LabHost) -> str:
    """The shell script run inside the host's new mount and UTS namespaces."""
    lines = ["set -e"]
    for sub, target in PRIVATE_MOUNTS.items():
        lines.append(f"mkdir -p {target}")
        lines.append(f"mount --bind {shlex.quote(str(host.dir / sub))} {target}")
    images = host.dir / "images"  # the host's local storage (disks.py), when the lab gave it one
    lines.append(f"mkdir -p {IMAGES_IN_HOST}")
    lines.append(
        f"if mountpoint -q {shlex.quote(str(images))}; then mount --bind {shlex.quote(str(images))} {IMAGES_IN_HOST}; fi"
    )
    if not host.kvm:
        # Read-only, so that libvirtd also sees /dev/kvm as unusable (access(W_OK) fails even for root)
        # and trusts its cached capabilities; a writable empty file makes it probe QEMU on every call.
        nokvm = shlex.quote(str(host.dir / "nokvm"))
        lines.append(
            f"if [ -e /dev/kvm ]; then mount --bind {nokvm} /dev/kvm; mount -o remount,bind,ro /dev/kvm; fi"
        )
    lines.append(f"hostname {shlex.quote(host.hostname)}")
    lines.append(
        f"exec libvirtd --config {shlex.quote(str(host.dir / 'etc' / 'libvirtd.conf'))}"
        f" --pid-file {shlex.quote(str(pid_file(host)))}"
    )
    return "\n".join(lines)


def caps_template(host: LabHost) -> Path:
    """Probing QEMU's capabilities takes libvirtd 3 s, and 20 s on a host without KVM; a probe's result
    is valid on every host of the same kind on this machine, so it is kept and seeded into new hosts.
    libvirtd checks the cached file (binary times, kernel, KVM usable) and probes again when stale."""
    return CAPS_CACHE / ("kvm" if host.kvm else "tcg")


def _caps_dir(host: LabHost) -> Path:
    return host.dir / "cache" / "qemu" / "capabilities"


def seed_caps(host: LabHost) -> None:
    target = _caps_dir(host)
    if caps_template(host).is_dir() and not any(target.glob("*.xml")):
        target.mkdir(parents=True, exist_ok=True)
        for cached in caps_template(host).glob("*.xml"):
            shutil.copy2(cached, target / cached.name)


def probe_caps(hosts: list[LabHost]) -> None:
    """Make the hosts' libvirtds probe QEMU in parallel, and keep the first result of each kind."""
    procs = [
        subprocess.Popen(
            ["virsh", "-q", "-c", h.uri, "domcapabilities", "--virttype", "kvm" if h.kvm else "qemu"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for h in hosts
    ]
    for proc in procs:
        proc.wait(timeout=120)
    for h in hosts:
        template = caps_template(h)
        if not template.is_dir() and any(_caps_dir(h).glob("*.xml")):
            tmp = template.with_name(template.name + f".{os.getpid()}")
            shutil.copytree(_caps_dir(h), tmp, dirs_exist_ok=True)
            with contextlib.suppress(OSError):  # a concurrent lab got there first
                tmp.rename(template)
            shutil.rmtree(tmp, ignore_errors=True)


def pid_file(host: LabHost) -> Path:
    return host.dir / "libvirtd.pid"


def start_libvirtd(host: LabHost) -> subprocess.Popen[bytes]:
    """Start the host's libvirtd (in the background); `wait_ready` tells when it answers."""
    prepare(host)
    seed_caps(host)
    pid_file(host).unlink(missing_ok=True)
    host.dir.joinpath("run", "libvirt-sock").unlink(missing_ok=True)
    argv = ["ip", "netns", "exec", host.netns, "unshare", "--mount", "--uts", "--propagation", "private"]
    with open(host.dir / "daemon.out", "ab") as out:
        return subprocess.Popen(
            [*argv, "--", "sh", "-c", start_script(host)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(host: LabHost, pid: int, timeout: float = 30.0) -> None:
    """Wait until libvirtd answers on its socket; LabError with its last log lines if it dies or hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            raise LabError(f"libvirtd of {host.name} exited: {log_tail(host)}")
        answered = host.dir.joinpath("run", "libvirt-sock").exists() and (
            run(["virsh", "-q", "-c", host.uri, "uri"], check=False, timeout=10).returncode == 0
        )
        if answered:
            return
        time.sleep(0.1)
    raise LabError(f"libvirtd of {host.name} did not answer in {timeout:.0f} s: {log_tail(host)}")


def log_tail(host: LabHost, lines: int = 3) -> str:
    text = ""
    for name in ("daemon.out", "libvirtd.log"):
        path = host.dir / name
        if path.exists():
            text += path.read_text(errors="replace")
    errors = [line for line in text.splitlines() if "error" in line.lower() and "dmidecode" not in line]
    return " | ".join((errors or text.splitlines() or ["(no log)"])[-lines:])


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (reaping it when it is our child)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def is_our_libvirtd(host: LabHost, pid: int) -> bool:
    """Guards against pid reuse: the process must be libvirtd started with this host's config."""
    line = cmdline(pid)
    return is_alive(pid) and "libvirtd" in line and str(host.dir) in line


def stop(pids: list[int], sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Signal the processes and wait until they are gone; SIGKILL whatever outlives the timeout."""
    for pid in pids:
        _signal(pid, sig)
    deadline = time.monotonic() + timeout
    killed = False
    while alive := [p for p in pids if is_alive(p)]:
        if time.monotonic() > deadline:
            if killed:
                raise LabError(f"processes {alive} outlived SIGKILL")
            for pid in alive:
                _signal(pid, signal.SIGKILL)
            deadline, killed = time.monotonic() + 10, True
        time.sleep(0.05)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
