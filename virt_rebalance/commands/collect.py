"""`virt-rebalance collect` (being built)."""

from __future__ import annotations

import click


@click.command("collect")
def collect() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")
