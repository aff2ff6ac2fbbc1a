"""The `virt-rebalance` command. The only place that maps errors to exit codes and prints them.

Exit codes: 0 success, 1 failure, 2 usage or bad input; `run` and `evacuate` add their own (see
virt_rebalance.jobs.exitcodes) so a scheduler can act on the outcome.
"""

from __future__ import annotations

import sys

import click

from planner.errors import InputError, VirtRebalanceError
from virt_rebalance import output
from virt_rebalance.commands import (
    apply,
    approve,
    collect,
    config_check,
    config_init,
    evacuate,
    lab,
    plan,
    readiness,
    rolling,
    run,
)
from virt_rebalance.commands.options import ROOT_CONFIG
from virt_rebalance.hints import with_next_step


class _Group(click.Group):
    """Turns our errors into one clear line on stderr and an exit code; never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            output.error(str(exc))
            sys.exit(2)
        except VirtRebalanceError as exc:
            output.error(with_next_step(str(exc)))
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quiet", "-q", is_flag=True, help="Only errors and the final result.")
@click.option("--verbose", "-v", is_flag=True, help="More detail.")
@click.option("--log-json", is_flag=True, help="Log lines as JSON objects on stderr.")
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    help="The cluster config, for any command (same as the command's own --config).",
)
@click.version_option(package_name="virt-rebalance")
@click.pass_context
def main(ctx: click.Context, quiet: bool, verbose: bool, log_json: bool, config_path: str | None) -> None:
    """Rebalance and evacuate plain KVM/libvirt hosts with planned live migrations.

    Shell completion (bash): eval "$(_VIRT_REBALANCE_COMPLETE=bash_source virt-rebalance)" in ~/.bashrc;
    zsh and fish: zsh_source, fish_source.
    """
    output.configure(quiet=quiet, verbose=verbose, log_json=log_json)
    if config_path:
        ctx.meta[ROOT_CONFIG] = config_path


for command in (
    lab.lab,
    collect.collect,
    plan.plan,
    apply.apply,
    run.run,
    approve.approve,
    evacuate.evacuate,
    evacuate.maintenance,
    readiness.readiness_command,
    rolling.rolling_command,
    config_check.config,
):
    main.add_command(command)
config_check.config.add_command(config_init.init)
