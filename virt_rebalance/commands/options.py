"""Options the job commands share: `--config FILE` (loaded and validated) and how a plan is shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

import click

from planner.plan import Plan
from virt_rebalance import output
from virt_rebalance.config import Config, load_config
from virt_rebalance.jobs.summary import RunSummary
from virt_rebalance.report import text

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_CONFIG = "/etc/virt-rebalance/cluster.toml"
PLAIN_WIDTH = 200


ROOT_CONFIG = "virt_rebalance.config"  # ctx.meta key: `virt-rebalance --config FILE COMMAND`


def _load(ctx: click.Context, param: click.Parameter, value: str) -> Config:
    """The command's own --config wins, then one given before the command, then the environment, the default."""
    given_before = ctx.meta.get(ROOT_CONFIG)
    if given_before and ctx.get_parameter_source("config") is not click.core.ParameterSource.COMMANDLINE:
        value = given_before
    return load_config(value)


def config_option(f: F) -> F:
    return click.option(
        "--config",
        "config",
        envvar="VIRT_REBALANCE_CONFIG",
        default=DEFAULT_CONFIG,
        show_default=True,
        metavar="FILE",
        callback=_load,
        help="The cluster config (TOML); also $VIRT_REBALANCE_CONFIG.",
    )(f)


def show_plan(plan: Plan, *, even_if_quiet: bool = False) -> None:
    """The text report on stdout: tables on a terminal, plain aligned lines otherwise.

    With --quiet only where the report is the command's result (`plan`), not a step on the way.
    """
    if output.is_quiet() and not even_if_quiet:
        return
    if output.is_terminal():
        text.print_report(output.console, plan)
    else:
        click.echo(text.render(plan, plain=True, width=PLAIN_WIDTH), nl=False)


def show_result(summary: RunSummary) -> None:
    """The outcome of a run: one line, then a line per migration that did not finish (always shown);
    with --log-json the whole summary as one JSON object on one line."""
    if output.is_log_json():
        click.echo(json.dumps(asdict(summary), default=str))
        return
    moved = sum(1 for o in summary.outcomes if o.status == "done")
    took = f"in {summary.duration_s:.0f}s"
    if summary.planned:
        took += f" (schedule estimate {summary.makespan_s:.0f}s)"
    balance = (
        f"peak load {summary.balance_before.peak_pct:.1f}% -> {summary.balance_after.peak_pct:.1f}% planned"
    )
    click.echo(
        f"{summary.job} {summary.status} (exit {summary.exit_code}): {moved} of {summary.planned} migration(s) "
        f"done {took}; {balance}"
    )
    for o in summary.outcomes:
        if o.status != "done":
            click.echo(
                f"  {o.vm} {o.source} -> {o.destination}: {o.status}" + (f": {o.reason}" if o.reason else "")
            )
    if summary.message and summary.status != "outside-window":
        click.echo(f"  {summary.message}")
    if summary.readiness:
        click.echo(summary.readiness)
