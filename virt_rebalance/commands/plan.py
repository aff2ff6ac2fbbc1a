"""`virt-rebalance plan` (being built)."""

from __future__ import annotations

import click


@click.command("plan")
def plan() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")
