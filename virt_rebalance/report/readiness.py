"""The readiness report: a line per host (can it be emptied now, moves, memory, estimate and bound), the
guests that would stay and why, and the N+1 headroom per resource. As text, JSON or one HTML page."""

from __future__ import annotations

import html as escape
import io
import json
from typing import Any

from rich.console import Console

from virt_rebalance.jobs.readiness import Readiness
from virt_rebalance.report import units
from virt_rebalance.report.text import _table


def headline(r: Readiness) -> str:
    return (
        f"Readiness: {len(r.evacuable)} of {len(r.hosts)} host(s) can be emptied now "
        f"(snapshot {r.collected_at or '?'}; {len(r.hosts)} evacuation plan(s) in {units.duration(r.took_s)})"
    )


def rows(r: Readiness) -> list[list[str]]:
    """The host table: one row per host."""
    return [
        [
            h.host,
            h.state,
            str(h.guests),
            "yes" if h.evacuable else "no",
            str(h.migrations),
            units.size(h.moved_mib),
            units.duration(h.estimate_s),
            units.duration(h.lower_bound_s),
            h.blocker or "-",
        ]
        for h in r.hosts
    ]


HOST_COLUMNS = ("host", "state", "guests", "can empty", "moves", "memory", "estimate", "bound", "why not")
STAY_COLUMNS = ("guest", "host", "rule", "why", "another move could fix it")
HEADROOM_COLUMNS = ("resource", "worst host", "its load", "others free", "spare", "N+1")


def stay_rows(r: Readiness) -> list[list[str]]:
    return [
        [s.vm_name, s.host, s.rule, s.reason, "yes" if s.resolvable else "no"]
        for h in r.hosts
        for s in h.stays
    ]


def headroom_rows(r: Readiness) -> list[list[str]]:
    return [
        [
            x.resource,
            x.worst_host,
            f"{x.load} {x.unit}",
            f"{x.others_free} {x.unit}",
            f"{x.spare} {x.unit}",
            "holds" if x.ok else "FAILS",
        ]
        for x in r.headroom
    ]


def render_text(r: Readiness, *, plain: bool = True, width: int = 200) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, highlight=False, no_color=plain, force_terminal=not plain, soft_wrap=False
    )
    parts: list[object] = [headline(r), _filled(_table("Hosts", plain, *HOST_COLUMNS), rows(r))]
    if stays := stay_rows(r):
        parts.append(_filled(_table("Staying, and why", plain, *STAY_COLUMNS), stays))
    if r.headroom:
        title = "N+1 headroom (could the other hosts take any one host's guests)"
        parts.append(_filled(_table(title, plain, *HEADROOM_COLUMNS), headroom_rows(r)))
    for part in parts:
        console.print(part)
        console.print()
    text = buffer.getvalue()
    if plain:
        text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    return text + r.summary_line() + "\n"


def _filled(table: Any, data: list[list[str]]) -> Any:
    for row in data:
        table.add_row(*row)
    return table


def to_dict(r: Readiness) -> dict[str, Any]:
    return {
        "collected_at": r.collected_at,
        "took_s": r.took_s,
        "evacuable": list(r.evacuable),
        "summary": r.summary_line(),
        "hosts": [
            {
                "host": h.host,
                "state": str(h.state),
                "guests": h.guests,
                "evacuable": h.evacuable,
                "migrations": h.migrations,
                "moved_mib": h.moved_mib,
                "estimate_s": h.estimate_s,
                "lower_bound_s": h.lower_bound_s,
                "plan_s": h.plan_s,
                "problem": h.problem,
                "stays": [
                    {"vm": s.vm_name, "rule": s.rule, "reason": s.reason, "resolvable": s.resolvable}
                    for s in h.stays
                ],
            }
            for h in r.hosts
        ],
        "headroom": [
            {
                "resource": x.resource,
                "unit": x.unit,
                "worst_host": x.worst_host,
                "load": x.load,
                "others_free": x.others_free,
                "spare": x.spare,
                "ok": x.ok,
            }
            for x in r.headroom
        ],
    }


def render_json(r: Readiness) -> str:
    return json.dumps(to_dict(r), indent=2) + "\n"


STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
th,td{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}th{background:#f4f4f4}
.no{color:#b00;font-weight:600}.yes{color:#070}"""


def render_html(r: Readiness) -> str:
    """One self-contained page (inline CSS, no scripts)."""
    body = [f"<h1>{escape.escape(headline(r))}</h1>", _html_table("Hosts", HOST_COLUMNS, rows(r))]
    if stays := stay_rows(r):
        body.append(_html_table("Staying, and why", STAY_COLUMNS, stays))
    if r.headroom:
        body.append(_html_table("N+1 headroom", HEADROOM_COLUMNS, headroom_rows(r)))
    body.append(f"<p>{escape.escape(r.summary_line())}</p>")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>virt-rebalance readiness</title>'
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _html_table(title: str, columns: tuple[str, ...], data: list[list[str]]) -> str:
    def cell(value: str) -> str:
        mark = f' class="{value}"' if value in ("yes", "no") else ""
        return f"<td{mark}>{escape.escape(value)}</td>"

    head = "".join(f"<th>{escape.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in data)
    return f"<h2>{escape.escape(title)}</h2><table><tr>{head}</tr>{body}</table>"
