"""`virt-rebalance config init`: write a commented starting config for the hosts given.

    virt-rebalance config init --hosts node1,node2,node3 --uri 'qemu+ssh://root@{host}/system'

The text is the shipped example (virt_rebalance/examples/cluster.toml) with its hosts replaced by the
given ones and every other key commented out, so each key keeps its comment and the file starts from the
built-in defaults. Only the nightly window is set, since the nightly timer follows it.
"""

from __future__ import annotations

import json
import re
import socket
import sys
from importlib import resources
from pathlib import Path

import click

from files.safe_write import write_atomically
from planner.errors import InputError
from virt_rebalance.commands.options import DEFAULT_CONFIG
from virt_rebalance.config import load_config

LOCAL_URI = "qemu:///system"
# Keys the started config sets rather than shows: the window the scheduled nightly run follows.
KEPT_KEYS = frozenset({"window"})
KEPT_SECTIONS = frozenset({"[defaults]", "[policy]", "[collect]", "[execute]"})
_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=")


@click.command("init")
@click.option(
    "--hosts", default="", metavar="A,B,C", help="Host names, comma-separated (default: this machine)."
)
@click.option(
    "--uri",
    default=None,
    metavar="TEMPLATE",
    help="libvirt URI of each host, {host} standing for its name (default with --hosts: "
    "'qemu+ssh://root@{host}/system'; without: qemu:///system).",
)
@click.option(
    "-o",
    "--output",
    "out",
    default=DEFAULT_CONFIG,
    show_default=True,
    metavar="FILE",
    help="Where to write it; '-' for stdout.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(hosts: str, uri: str | None, out: str, force: bool) -> None:
    """Write a commented config for these hosts (then: `config check --config FILE`)."""
    names = [h.strip() for h in hosts.split(",") if h.strip()]
    text = render(names, uri)
    if out == "-":
        sys.stdout.write(text)
        return
    path = Path(out)
    if path.exists() and not force:
        raise InputError(str(path), None, "exists; keep it, or pass --force to overwrite it")
    write_atomically(path, text)
    load_config(str(path))  # what we wrote must load
    click.echo(f"wrote {path}; next: virt-rebalance config check --config {path}")


def render(names: list[str], uri: str | None) -> str:
    """The config text for hosts `names` (this machine over qemu:///system when empty)."""
    if not names:
        names, uri = [socket.gethostname()], uri or LOCAL_URI
    template = uri or "qemu+ssh://root@{host}/system"
    example = resources.files("virt_rebalance").joinpath("examples/cluster.toml").read_text()
    lines: list[str] = []
    in_hosts = False
    for line in example.splitlines():
        if line.startswith("# virt-rebalance: an example"):
            lines.append("# virt-rebalance cluster config, written by `virt-rebalance config init`.")
            lines.append("# Commented keys show examples; a key left commented takes its built-in default.")
            continue
        if line.startswith("# Copy it to"):
            continue
        if line == "[[hosts]]" and not in_hosts:
            lines.extend(_host_blocks(names, template))
            in_hosts = True
        if in_hosts and not line.startswith("#"):
            continue  # the example's own hosts, up to the next commented paragraph
        if in_hosts:
            lines.append("")
            in_hosts = False
        lines.append(_shown(line))
    return "\n".join(lines) + "\n"


def _host_blocks(names: list[str], template: str) -> list[str]:
    blocks: list[str] = []
    for name in names:
        blocks += [
            "[[hosts]]",
            f"name = {json.dumps(name)}",
            f"uri = {json.dumps(template.replace('{host}', name))}",
        ]
        blocks += [f'# migration_uri = "tcp://{name}"   # the migration network address of {name}', ""]
    return blocks[:-1]  # render() puts the blank line after the last block


def _shown(line: str) -> str:
    """A line of the example as the started config has it: keys commented out unless kept."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or stripped in KEPT_SECTIONS:
        return line
    key = _KEY.match(stripped)
    if key and key.group(1) in KEPT_KEYS:
        return line
    return f"# {line}"
