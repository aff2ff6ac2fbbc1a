"""`readiness` and `rolling` on real libvirt hosts (one lab for the module, driven through the CLI).

Hosts: h1 with KVM, h2-h4 without. Guests: four TCG guests spread round robin and `kvm1`, a KVM guest on
h1 that no other host can run, so h1 cannot be emptied. The round's --exec restarts each emptied host's
libvirtd (the lab's stand-in for a reboot). The round is SIGKILLed once mid-way and resumed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.lab_fixture import MakeLab
from tests.virt_rebalance.test_jobs_lab import KVM_GUEST, KVM_XML, cli, host_memory_mib
from virt_rebalance.config import load_config
from virt_rebalance.jobs.rolling_journal import load_round
from virt_rebalance.lab import Lab
from virt_rebalance.lab.errors import LabError

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(make_lab: MakeLab) -> Lab:
    lab = make_lab(hosts=4, guests=4, no_kvm_hosts=3)
    conn = lab.connect("h1")
    try:
        conn.defineXML(KVM_XML).create()
    finally:
        conn.close()
    text = lab.config_path.read_text()
    policy = "min_improvement_pct = 5.0\n"  # above this busy machine's CPU noise
    text = (
        text.replace("\n[policy]\n", "\n[policy]\n" + policy)
        if "\n[policy]\n" in text
        else text + "\n[policy]\n" + policy
    )
    lab.config_path.write_text(text)
    return lab


def guests_seen(lab: Lab) -> dict[str, list[tuple[str, str]]] | None:
    """Guest -> (host, state) for each host it is on (None when a host was mid-restart)."""
    try:
        domains = lab.status().domains
    except LabError:
        return None
    seen: dict[str, list[tuple[str, str]]] = {}
    for d in domains:
        if d.state != "shut off":
            seen.setdefault(d.name, []).append((d.host, d.state))
    return seen


def still_running_on_both(lab: Lab, guest: str, hosts: list[str]) -> bool:
    """Hosts are read one after another, so a guest that just moved from an earlier-read host to a later
    one looks running on both. Read them again, latest first: a guest truly running twice still is."""
    try:
        states = [lab.virsh(h, "domstate", guest).strip() for h in reversed(hosts)]
    except LabError:
        return False  # gone from one of them: it was a move
    return all(s == "running" for s in states)


class Watch(threading.Thread):
    """Checks every second that each guest is running exactly once (a paused copy is a migration's)."""

    def __init__(self, lab: Lab, names: list[str]) -> None:
        super().__init__(daemon=True)
        self.lab, self.names, self.stop, self.checks, self.bad = lab, names, threading.Event(), 0, []

    def run(self) -> None:
        while not self.stop.is_set():
            seen = guests_seen(self.lab)
            if seen is not None:
                self.checks += 1
                for name in self.names:
                    where = seen.get(name, [])
                    running = [h for h, s in where if s.startswith("running")]
                    if not where or (len(running) > 1 and still_running_on_both(self.lab, name, running)):
                        self.bad.append((name, where))
            self.stop.wait(1.0)


def test_readiness_names_the_kvm_guest_and_times_the_rest(lab: Lab) -> None:
    started = time.monotonic()
    result = cli(lab, "readiness", "--format", "json")
    took = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    by_host = {h["host"]: h for h in data["hosts"]}
    assert data["evacuable"] == ["h2", "h3", "h4"], data
    assert [s["vm"] for s in by_host["h1"]["stays"]] == [KVM_GUEST]
    assert "CpuCompatible" in by_host["h1"]["stays"][0]["rule"]
    assert all(h["estimate_s"] > 0 for h in data["hosts"] if h["guests"] and h["evacuable"])
    print(f"readiness on the lab: {took:.1f} s (plans {data['took_s']:.1f} s)")
    if os.environ.get("SHOW_OUTPUT"):  # the README's example
        print(cli(lab, "readiness").stdout)


def test_dry_run_plans_the_whole_round(lab: Lab) -> None:
    result = cli(lab, "rolling", "--all", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"h1: skipped: {KVM_GUEST} stays: " in result.stdout
    assert "Total: " in result.stdout
    print(result.stdout)


def test_round_killed_and_resumed_goes_round_every_host_but_the_kvm_one(lab: Lab) -> None:
    names = [KVM_GUEST, *(g.name for g in lab.guests)]
    state = Path(load_config(lab.config_path).state_dir)
    restart = f"{sys.executable} -m virt_rebalance lab restart-host --name {lab.name} {{host}}"
    argv = [
        sys.executable,
        "-m",
        "virt_rebalance",
        "rolling",
        "--all",
        "--exec",
        restart,
        "--wait-ready",
        "60",
    ]
    watch = Watch(lab, names)
    watch.start()
    started = time.monotonic()
    try:
        first = subprocess.Popen(
            [*argv, "--config", str(lab.config_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        killed_at = _kill_mid_round(first, state)
        resumed = cli(lab, "rolling", "--resume")
    finally:
        watch.stop.set()
        watch.join()
    took = time.monotonic() - started
    out = resumed.stdout + resumed.stderr
    assert resumed.returncode == 4, out  # partly done: h1 skipped
    journal = load_round(state)
    assert journal is not None and journal.status == "partial"
    steps = {t.host: t.step for t in journal.turns}
    assert steps == {"h1": "skipped", "h2": "done", "h3": "done", "h4": "done"}, (steps, killed_at)
    assert f"{KVM_GUEST} stays" in next(t.reason for t in journal.turns if t.host == "h1")
    assert watch.checks >= 5 and watch.bad == [], watch.bad
    seen = guests_seen(lab)
    assert seen is not None and all([s for _, s in seen.get(n, [])] == ["running"] for n in names), seen
    memory = host_memory_mib(lab)
    biggest = max(g.memory_mib for g in lab.guests)
    others = [memory[h] for h in ("h2", "h3", "h4")]
    assert max(others) - min(others) <= biggest + 64, memory  # balanced to within one guest
    print(f"rolling round on the lab: {took:.1f} s, killed at {killed_at}")
    print(first.stdout.read().decode() if first.stdout else "", resumed.stdout)


def _kill_mid_round(proc: subprocess.Popen[bytes], state: Path) -> str:
    """SIGKILL the round once one host is done and the next is under way; returns where it was."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        journal = load_round(state) if (state / "rolling" / "round.json").exists() else None
        if journal is not None:
            steps = [t.step for t in journal.turns]
            if "done" in steps and any(s in ("evacuate", "exec", "wait") for s in steps):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return ",".join(f"{t.host}:{t.step}" for t in journal.turns)
        time.sleep(0.2)
    output = proc.communicate()[0].decode() if proc.poll() is not None else ""
    proc.kill()
    pytest.fail(f"the round never reached a point to kill it: {output}")
