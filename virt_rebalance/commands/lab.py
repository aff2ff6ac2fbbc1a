"""`virt-rebalance lab` (being built)."""

from __future__ import annotations

import click


@click.command("lab")
def lab() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")
