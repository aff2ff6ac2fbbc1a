"""`virt-rebalance plan`: the dry-run plan report, as text, JSON (what `apply` runs) or one HTML file."""

from __future__ import annotations

import click

from files.safe_write import write_atomically
from planner.codec import plan_to_json
from virt_rebalance import output
from virt_rebalance.commands.apply import read_plan
from virt_rebalance.commands.options import PLAIN_WIDTH, config_option, show_plan
from virt_rebalance.config import Config
from virt_rebalance.jobs import steps
from virt_rebalance.report import html, text


@click.command("plan")
@config_option
@click.option(
    "--snapshot", type=click.Path(dir_okay=False), help="Plan from this snapshot instead of collecting."
)
@click.option(
    "--evacuate",
    "evacuate_hosts",
    multiple=True,
    metavar="HOST",
    help="Plan emptying HOST (repeat, or separate with commas).",
)
@click.option(
    "--plan-file",
    type=click.Path(dir_okay=False),
    help="Report this saved plan (JSON) instead of computing one; `apply` runs exactly that file.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True
)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def plan(
    config: Config,
    snapshot: str | None,
    evacuate_hosts: tuple[str, ...],
    plan_file: str | None,
    fmt: str,
    out: str | None,
) -> None:
    """Compute a plan and report it; moves nothing.

    The JSON form is the plan itself: `virt-rebalance apply PLAN.json` runs exactly it.
    """
    hosts = tuple(h for item in evacuate_hosts for h in item.split(",") if h)
    if unknown := [h for h in hosts if h not in {c.name for c in config.hosts}]:
        raise click.BadParameter(f"not in the config: {', '.join(unknown)}", param_hint="--evacuate")
    if plan_file and (snapshot or hosts):
        raise click.UsageError("--plan-file reports a saved plan: it takes neither --snapshot nor --evacuate")
    if plan_file:
        result = read_plan(plan_file)
    else:
        if snapshot:
            cluster = steps.load_snapshot(snapshot)
        else:
            cluster = steps.collect(config, window_hours=None if hosts else config.collect.window_hours)
        result = steps.plan(
            steps.current(config, cluster), config, "evacuate" if hosts else "rebalance", hosts
        )
    if fmt == "json":
        rendered = plan_to_json(result, indent=2) + "\n"
    elif fmt == "html":
        rendered = html.render(result)
    elif out:
        rendered = text.render(result, plain=True, width=PLAIN_WIDTH)
    else:
        show_plan(result, even_if_quiet=True)
        return
    if out:
        write_atomically(out, rendered, kind="output")
        output.info(f"wrote the {fmt} plan to {out}: {text.headline(result).splitlines()[0]}")
    else:
        click.echo(rendered, nl=False)
