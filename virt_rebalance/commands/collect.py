"""`virt-rebalance collect --config FILE -o snapshot.json [--record] [--window HOURS]`."""

from __future__ import annotations

import sys
import time

import click

from files.safe_write import write_atomically
from planner.codec import cluster_to_json
from planner.model import HostState
from virt_rebalance import output
from virt_rebalance.config import load_config


@click.command("collect")
@click.option(
    "--config",
    "config_path",
    envvar="VIRT_REBALANCE_CONFIG",
    default="/etc/virt-rebalance/cluster.toml",
    show_default=True,
    metavar="FILE",
    help="The cluster config (TOML); also $VIRT_REBALANCE_CONFIG.",
)
@click.option(
    "-o",
    "--output",
    "out",
    default=None,
    metavar="FILE",
    help="Where to write the snapshot (- = stdout; the default, except with --record alone).",
)
@click.option("--record", is_flag=True, help="Append the usage to the history (collect.history_path).")
@click.option(
    "--window",
    "window_hours",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="HOURS",
    help="CPU as the mean and p95 of the history's last HOURS (after recording, with --record).",
)
def collect(config_path: str, out: str | None, record: bool, window_hours: float | None) -> None:
    """Read every host over libvirt into a cluster snapshot (JSON).

    Unreachable hosts are in the snapshot with their error and reported here; the command fails only
    when no host answered.
    """
    from collectors.collect import collect_cluster

    config = load_config(config_path)
    start = time.monotonic()
    cluster = collect_cluster(config.collect_settings(), record=record, window_hours=window_hours)
    took = time.monotonic() - start
    for host in cluster.hosts:
        if host.state is HostState.UNREACHABLE:
            output.warning(f"{host.name} is unreachable: {host.error}", host=host.name)
    for vm in cluster.vms:
        if vm.state == "unknown":
            output.warning(f"{vm.name} on {vm.host}: {vm.unmigratable_reason}", vm=vm.name, host=vm.host)
    for note in cluster.notes:
        output.warning(note)
    if out is None and not record:
        out = "-"
    if out == "-":
        sys.stdout.write(cluster_to_json(cluster, indent=2) + "\n")
    elif out is not None:
        write_atomically(out, cluster_to_json(cluster, indent=2) + "\n", kind="output")
    answered = sum(1 for h in cluster.hosts if h.state is not HostState.UNREACHABLE)
    output.info(
        f"collected {answered} of {len(cluster.hosts)} hosts, {len(cluster.vms)} guests, "
        f"{len(cluster.cpu_signatures)} CPU signatures in {took:.1f}s"
        + (f" -> {out}" if out not in (None, "-") else "")
        + (" (recorded)" if record else ""),
        seconds=round(took, 3),
    )
