"""`virt-rebalance approve RUN_ID`: approve the plan held for approval (virt_rebalance.jobs.approval)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import click

from virt_rebalance import output
from virt_rebalance.commands.options import config_option
from virt_rebalance.config import Config
from virt_rebalance.jobs import approval, lock


@click.command("approve")
@click.argument("run_id", metavar="RUN_ID")
@config_option
def approve(run_id: str, config: Config) -> None:
    """Approve the plan held under RUN_ID (printed by `run --plan-only`, or a run awaiting approval).

    With policy.automation = "approved" the next nightly run carries it out, once re-checked on the live
    cluster. Exit 2 when RUN_ID is not the plan held now (the message names the one that is).
    """
    # Under the run lock, so an approval never races a run reading or replacing the held plan.
    with lock.hold(config.state_dir, f"approve {run_id}"):
        held = approval.approve(config.state_dir, run_id, _who(), datetime.now(UTC))
    click.echo(
        f"approved {held.run_id}: {held.migrations} migration(s) in {held.plan} "
        f"(approved by {held.approved_by} at {held.approved_at})"
    )
    if config.policy.automation != "approved":
        output.warning(
            'policy.automation is "full": the nightly run plans and carries out its own plan; '
            'set policy.automation = "approved" for it to carry out only this one'
        )


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
