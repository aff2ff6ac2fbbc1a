"""`virt-rebalance readiness`: could each host be emptied now, how long would it take, what would stay;
and the cluster's N+1 headroom (see virt_rebalance.jobs.readiness)."""

from __future__ import annotations

import click

from files.safe_write import write_atomically
from virt_rebalance import output
from virt_rebalance.commands.options import config_option
from virt_rebalance.config import Config
from virt_rebalance.jobs import readiness, steps
from virt_rebalance.report import readiness as report


@click.command("readiness")
@config_option
@click.option(
    "--snapshot", type=click.Path(dir_okay=False), help="Assess this snapshot instead of collecting."
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True
)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def readiness_command(config: Config, snapshot: str | None, fmt: str, out: str | None) -> None:
    """For every host: can it be emptied now (every rule, budget and the others' capacity), how long it
    would take, how much memory moves, which guests would stay and why; and the N+1 headroom.

    Moves nothing. One evacuation plan per host on one snapshot, each with a short solver time limit.
    """
    cluster = steps.current(config, steps.load_snapshot(snapshot)) if snapshot else None
    result = readiness.check(config, cluster)
    renderers = {"text": report.render_text, "json": report.render_json, "html": report.render_html}
    rendered = renderers[fmt](result)
    if out:
        write_atomically(out, rendered, kind="output")
        output.info(f"wrote the {fmt} readiness report to {out}: {result.summary_line()}")
    else:
        click.echo(rendered, nl=False)
