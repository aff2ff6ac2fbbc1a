"""The HTML report: ONE self-contained file that opens offline (inline CSS, JS and SVG; no external URL).

Tables (moves, hosts, stays, budgets, compatibility) are plain HTML written here; the charts (per-host
CPU and memory before/after bars, the migration timeline per host) are drawn as inline SVG by the page's
own script from the plan data embedded in it. A script error shows in a red box (#js-error) rather than
silently; when drawing succeeds the body gets data-rendered="ok".
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from typing import Any

from planner.model import HostState
from planner.plan import HostLoad, Plan
from virt_rebalance.report import compat, units
from virt_rebalance.report.text import headline, partial_warning
from virt_rebalance.report.usage import budget_use


def render(plan: Plan) -> str:
    template = resources.files("virt_rebalance.report").joinpath("template.html").read_text()
    title = f"virt-rebalance plan: {plan.goal}" + (f" {', '.join(plan.evacuate)}" if plan.evacuate else "")
    return (
        template.replace("{{TITLE}}", escape(title))
        .replace("{{DATA}}", _script_json(chart_data(plan)))
        .replace("{{BODY}}", _body(plan, title))
    )


def chart_data(plan: Plan) -> dict[str, Any]:
    """What the page's script draws: hosts with their loads, and the timeline."""
    after = {load.host: load for load in plan.after}
    states = {h.name: h.state.value for h in plan.snapshot.hosts}

    def load(x: HostLoad) -> dict[str, float]:
        if (
            states.get(x.host) == HostState.UNREACHABLE.value
        ):  # no capacity known: drawn empty, never negative
            return {"cpu_pct": 0.0, "memory_pct": 0.0}
        return {"cpu_pct": round(x.cpu_pct, 1), "memory_pct": round(x.memory_pct, 1)}

    hosts: list[dict[str, Any]] = [
        {
            "name": b.host,
            "state": states.get(b.host, "?"),
            "evacuate": b.host in plan.evacuate,
            "before": load(b),
            "after": load(after.get(b.host, b)),
        }
        for b in plan.before
    ]
    peak = max(
        [100.0] + [h[w][k] for h in hosts for w in ("before", "after") for k in ("cpu_pct", "memory_pct")]
    )
    migrations = [
        {
            "n": n,
            "guest": m.vm_name,
            "source": m.source,
            "destination": m.destination,
            "size": units.size(m.memory_mib),
            "start": m.start_s,
            "est": m.estimated_s,
        }
        for n, m in enumerate(plan.migrations, 1)
    ]
    return {
        "hosts": hosts,
        "scale": peak,
        "migrations": migrations,
        "makespan": plan.makespan_s,
        "bound": plan.makespan_lower_bound_s,
    }


def _script_json(data: dict[str, Any]) -> str:
    # Inside <script>, "</" would end the element: escape "<", ">" and "&" as JSON unicode escapes.
    text = json.dumps(data, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:  # type: ignore[assignment]
    head = "".join(
        f"<th{' class=num' if i in numeric else ''}>{escape(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in numeric else ''}>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _body(plan: Plan, title: str) -> str:
    e = escape
    b, a = plan.balance_before, plan.balance_after
    cards = [
        ("migrations", str(len(plan.migrations))),
        ("memory moved", units.size(plan.moved_mib)),
        ("estimated makespan", units.duration(plan.makespan_s)),
        ("makespan lower bound", units.duration(plan.makespan_lower_bound_s)),
        ("peak load", f"{b.peak_pct:.1f}% → {a.peak_pct:.1f}%"),
        ("spread", f"{b.spread_pct:.1f} → {a.spread_pct:.1f} pts"),
    ]
    parts = [
        f"<h1>{e(title)}</h1>",
        _warnings(plan),
        f'<div class="sub">{e(headline(plan)).replace(chr(10), "<br>")}</div>',
        '<div class="cards">'
        + "".join(f'<div class="card"><span class="muted">{e(k)}</span><b>{e(v)}</b></div>' for k, v in cards)
        + "</div>",
        "<section><h2>CPU and memory per host, before → after</h2>"
        '<div class="legend muted"><span><i class="swatch" style="background:var(--cpu)"></i>CPU</span>'
        '<span><i class="swatch" style="background:var(--mem)"></i>memory</span>'
        "<span>pale: before, solid: after</span>"
        f"<span>{e(_ceiling_legend(plan))}</span></div>"
        '<div id="loads"></div></section>',
        "<section><h2>Migration timeline per host</h2>"
        '<div class="legend muted"><span><i class="swatch" style="background:var(--out)"></i>outgoing</span>'
        '<span><i class="swatch" style="background:var(--in)"></i>incoming</span>'
        '<span><i class="swatch" style="background:var(--bad)"></i>makespan lower bound</span></div>'
        '<div id="timeline"></div></section>',
        _moves(plan),
        _stays(plan),
        _budgets(plan),
        _compatibility(plan),
    ]
    if plan.notes or plan.solver_status:
        notes = [*plan.notes, f"solver: {plan.solver_status} in {plan.solve_s:.1f}s"]
        parts.append(
            "<section><h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul></section>"
        )
    return "\n".join(parts)


def _warnings(plan: Plan) -> str:
    """What a reader must know before anything else: a partial plan, guests that stay."""
    items = [w for w in (partial_warning(plan),) if w]
    items += [f"{s.vm_name} stays on {s.host}: {s.reason}" for s in plan.stays]
    if not items:
        return ""
    lines = "".join(f"<li>{escape(w)}</li>" for w in items)
    return f'<section id="warnings" class="warn"><h2>Warnings</h2><ul>{lines}</ul></section>'


def _ceiling_legend(plan: Plan) -> str:
    """CPU bars are shares of each host's CPU ceiling: the dashed 100% line is that ceiling."""
    ceilings = sorted({h.cpu_ceiling_pct for h in plan.snapshot.hosts})
    shown = "/".join(f"{c}%" for c in ceilings)
    return f"CPU: share of the ceiling ({shown} of the CPUs minus the reserve) — the dashed 100% line"


def _moves(plan: Plan) -> str:
    if not plan.migrations:
        return '<section><h2>Migrations</h2><p id="moves">Nothing to move.</p></section>'
    index = {m.id: str(n) for n, m in enumerate(plan.migrations, 1)}
    rows = []
    for n, m in enumerate(plan.migrations, 1):
        reason = escape(m.reason) + (" <i>(temporary hop)</i>" if m.temporary else "")
        reason += "".join(f'<div class="warn">{escape(w)}</div>' for w in m.warnings)
        rows.append(
            [
                str(n),
                escape(m.vm_name),
                escape(m.source),
                escape(m.destination),
                units.size(m.memory_mib),
                units.duration(m.start_s),
                units.duration(m.estimated_s),
                escape(",".join(index.get(d, d) for d in m.depends_on) or "-"),
                reason,
            ]
        )
    headers = ["#", "guest", "from", "to", "size", "start", "est.", "after", "reason"]
    return f'<section id="moves"><h2>Migrations, in order</h2>{_table(headers, rows, {0, 4, 5, 6})}</section>'


def _stays(plan: Plan) -> str:
    if not plan.stays:
        return ""
    rows = [
        [escape(s.vm_name), escape(s.host), escape(s.rule), escape(s.reason), "yes" if s.resolvable else "no"]
        for s in plan.stays
    ]
    headers = ["guest", "host", "rule", "why", "another move could fix it"]
    return f'<section id="stays"><h2>Staying, and why</h2>{_table(headers, rows)}</section>'


def _budgets(plan: Plan) -> str:
    rows = [[escape(u.name), escape(u.used), escape(u.limit)] for u in budget_use(plan)]
    return f"<section><h2>Budgets used</h2>{_table(['budget', 'used', 'limit'], rows)}</section>"


def _compatibility(plan: Plan) -> str:
    cluster = plan.snapshot
    restricted = compat.restricted_guests(cluster)
    rows = [
        [
            escape(r.guest),
            escape(r.host),
            escape(r.cpu),
            escape(", ".join(r.runs_on)),
            "yes" if r.freed_by_baseline else "no",
        ]
        for r in restricted
    ]
    table = _table(["guest", "on", "cpu", "can run on", "freed by baseline"], rows) if rows else ""
    baseline = (
        "<details><summary>Cluster baseline CPU (libvirt's XML, for guests' &lt;cpu&gt;)</summary>"
        f"<pre><code>{escape(cluster.baseline_cpu)}</code></pre></details>"
        if cluster.baseline_cpu
        else ""
    )
    return (
        f'<section id="compat"><h2>CPU compatibility</h2>{baseline}'
        f"<p>{escape(compat.advice(cluster, restricted))}</p>{table}</section>"
    )
