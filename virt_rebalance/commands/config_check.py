"""`virt-rebalance config check`: validate the config file and try each host over libvirt.

A bad file exits 2 with the file, the line and the key; a host that does not answer exits 1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from collectors.uri import redact_text, redact_uri
from files.safe_write import Kind, check_directory
from planner.errors import UnsafeDirectoryError
from virt_rebalance import output
from virt_rebalance.commands.options import config_option
from virt_rebalance.config import Config, HostConfig
from virt_rebalance.hints import with_next_step

if TYPE_CHECKING:
    from collectors.seam import Connection


def open_host(uri: str) -> Connection:
    """Open a libvirt connection (the seam tests replace)."""
    from collectors.connect import open_connection

    return open_connection(uri)


@click.group("config")
def config() -> None:
    """The config file."""


@config.command("check")
@config_option
@click.option("--no-connect", is_flag=True, help="Only validate the file; do not contact the hosts.")
@click.pass_context
def check(ctx: click.Context, config: Config, no_connect: bool) -> None:
    """Validate the config file and try each host."""
    problems = 0
    click.echo(
        f"config: {len(config.hosts)} host(s), {len(config.rules)} rule(s), state_dir {config.state_dir}"
    )
    if not _writable(Path(config.state_dir)):
        output.warning(
            f"state_dir {config.state_dir} is not writable: runs, locks and maintenance marks need it"
        )
    _check_directories(config)
    for h in config.hosts:
        if not h.migration_uri:
            output.warning(f"{h.name}: no migration_uri; migrations to it use the libvirt URI's host name")
    if no_connect:
        return
    from collectors.parallel import run_each

    # Daemon threads, each host within collect.timeout_s: a host that never answers is abandoned, and
    # cannot keep the command from ending.
    timeout = config.collect.timeout_s
    for h, outcome in zip(config.hosts, run_each(config.hosts, _try, timeout), strict=True):
        if outcome.timed_out:
            line = f"no answer within {timeout:g}s"
        elif outcome.error is not None:
            line = f"FAILED: {with_next_step(redact_text(str(outcome.error)))}"
        else:
            line = str(outcome.value)
        problems += not outcome.ok
        click.echo(f"  {h.name:<16} {redact_uri(h.uri):<60} {line}")
    if problems:
        output.error(f"{problems} of {len(config.hosts)} host(s) did not answer")
        ctx.exit(1)
    click.echo("ok")


def _try(host: HostConfig) -> str:
    conn = open_host(host.uri)
    try:
        info = conn.getInfo()
        return f"ok: {conn.getHostname()}, {info[2]} CPUs, {info[1] / 1024:.1f} GiB"
    finally:
        conn.close()


def _check_directories(config: Config) -> None:
    """Warn about a state or metrics directory others may write to (runs refuse or warn the same way)."""
    state = Path(config.state_dir)
    dirs: list[tuple[Path, Kind]] = [(state, "state")]
    dirs.append((Path(config.metrics_dir) if config.metrics_dir else state / "metrics", "metrics"))
    for path, kind in dirs:
        if path.is_dir():
            try:
                check_directory(path, kind)  # a risky one is warned about there
            except UnsafeDirectoryError as exc:
                output.warning(f"{kind} directory: {exc}; runs will stop there")


def _writable(path: Path) -> bool:
    """Whether `path` is a writable directory or could be created as one: its nearest existing ancestor
    must be a writable directory (a regular file there means it can never be created)."""
    while not path.exists():
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)
