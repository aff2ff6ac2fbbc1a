"""`virt-rebalance evacuate` (being built)."""

from __future__ import annotations

import click


@click.command("evacuate")
def evacuate() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")


@click.command("maintenance")
def maintenance() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")
