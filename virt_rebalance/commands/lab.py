"""`virt-rebalance lab up|status|down`: real libvirt hosts on this machine (see virt_rebalance.lab)."""

from __future__ import annotations

import json
import time

import click

from virt_rebalance import output
from virt_rebalance.lab import GuestSpec, Lab, LabStatus

_name = click.option("--name", default="default", show_default=True, help="Lab name; labs run side by side.")


@click.group("lab")
def lab() -> None:
    """Start, show and remove a lab of real libvirt hosts on this machine (needs root)."""


@lab.command("up")
@_name
@click.option("--hosts", default=3, show_default=True, type=click.IntRange(1, 64), help="Number of hosts.")
@click.option("--guests", default=0, show_default=True, type=click.IntRange(0, 200), help="Number of guests.")
@click.option(
    "--no-kvm-hosts",
    default=0,
    show_default=True,
    type=click.IntRange(0, 64),
    help="How many of the hosts (the last ones) offer no KVM.",
)
@click.option("--skewed", is_flag=True, help="Put most guests and two CPU burners on the first host.")
@click.option(
    "--disks",
    type=click.Choice(["none", "shared", "local", "mixed"]),
    default="none",
    show_default=True,
    help="Give each guest a 64 MiB virtio disk its init writes and checks: shared (an NBD export of the "
    "lab's storage server), local (a qcow2 file in its host's own storage pool) or mixed (alternating). "
    "none keeps guests diskless, so that labs start and migrate as fast as before.",
)
@click.option(
    "--kvm-guests",
    default=0,
    show_default=True,
    type=click.IntRange(0, 16),
    help="Also start kvm1..kvmN on h1: KVM guests (128 MiB) that no host without KVM can run.",
)
def up(
    name: str, hosts: int, guests: int, no_kvm_hosts: int, skewed: bool, disks: str, kvm_guests: int
) -> None:
    """Start the lab (idempotent) and write its cluster config."""
    if no_kvm_hosts > hosts:
        raise click.BadParameter("cannot exceed --hosts", param_hint="--no-kvm-hosts")
    if kvm_guests and no_kvm_hosts == hosts:
        raise click.BadParameter("needs a host with KVM (h1)", param_hint="--kvm-guests")
    started = time.monotonic()
    the_lab = Lab(name).up(hosts=hosts, guests=guests, no_kvm_hosts=no_kvm_hosts, skewed=skewed, disks=disks)
    present = {g.name for g in the_lab.guests}
    for n in range(1, kvm_guests + 1):
        if f"kvm{n}" not in present:
            the_lab.add_guest(GuestSpec(f"kvm{n}", memory_mib=128, vcpus=1, kind="kvm", host="h1"))
    output.info(f"lab {name} is up in {time.monotonic() - started:.1f} s; config: {the_lab.config_path}")


@lab.command("status")
@_name
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(name: str, as_json: bool) -> None:
    """List the lab's hosts and guests."""
    report = Lab(name).status()
    if as_json:
        click.echo(json.dumps(_status_json(report), indent=2))
    else:
        _print_status(report)


@lab.command("restart-host")
@_name
@click.argument("host")
@click.option("--down-for", default=0.0, show_default=True, type=float, help="Seconds to stay down.")
def restart_host(name: str, host: str, down_for: float) -> None:
    """Stop HOST's libvirtd and start it again (the lab's stand-in for a reboot); its guests keep running."""
    Lab(name).restart_libvirtd(host, down_for)
    output.info(f"lab {name}: libvirtd of {host} restarted")


@lab.command("down")
@_name
def down(name: str) -> None:
    """Stop everything the lab started and remove its namespaces, bridge and files."""
    Lab(name).down()
    output.info(f"lab {name} is down")


def _status_json(report: LabStatus) -> dict[str, object]:
    return {
        "name": report.name,
        "config": str(report.config_path),
        "hosts": [
            {
                "name": h.host.name,
                "uri": h.host.uri,
                "migration_uri": h.host.migration_uri,
                "kvm": h.host.kvm,
                "libvirtd_pid": h.libvirtd_pid,
                "up": h.up,
            }
            for h in report.hosts
        ],
        "guests": [{"name": d.name, "host": d.host, "state": d.state} for d in report.domains],
    }


def _print_status(report: LabStatus) -> None:
    from rich.table import Table

    hosts = Table(title=f"lab {report.name} — {report.config_path}")
    for column in ("host", "address", "kvm", "libvirtd", "guests running", "uri"):
        hosts.add_column(column)
    for h in report.hosts:
        running = [d.name for d in report.domains if d.host == h.host.name and d.state == "running"]
        hosts.add_row(
            h.host.name,
            h.host.address,
            "yes" if h.host.kvm else "no",
            f"up (pid {h.libvirtd_pid})" if h.up else "down",
            " ".join(running) or "-",
            h.host.uri,
        )
    output.console.print(hosts)
    guests = Table()
    for column in ("guest", "host", "state"):
        guests.add_column(column)
    for d in report.domains:
        guests.add_row(d.name, d.host, d.state)
    output.console.print(guests)
