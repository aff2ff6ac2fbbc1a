"""`virt-rebalance run` (being built)."""

from __future__ import annotations

import click


@click.command("run")
def run() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")
