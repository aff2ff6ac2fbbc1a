"""`virt-rebalance config_check` (being built)."""

from __future__ import annotations

import click


@click.command("config")
def config() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")
