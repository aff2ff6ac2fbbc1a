"""`virt-rebalance apply` (being built)."""

from __future__ import annotations

import click


@click.command("apply")
def apply() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")
