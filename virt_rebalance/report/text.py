"""The text report of a plan: rich tables on a terminal, plain aligned lines otherwise.

Sections, in the order an operator reads them: the moves in order (guest, from, to, size, reason, start,
estimated duration), per-host CPU and memory before -> after, what stays and why, budgets used, the
makespan and its lower bound, the compatibility summary, the planner's notes.
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table

from planner.model import HostState
from planner.plan import Migration, Plan
from virt_rebalance.report import compat, units
from virt_rebalance.report.usage import budget_use


def render(plan: Plan, *, plain: bool = False, width: int = 120) -> str:
    """The whole report as text. `plain`: no colour, no box lines (for pipes, logs and files)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, highlight=False, no_color=plain, force_terminal=not plain, soft_wrap=False
    )
    print_report(console, plan, plain=plain)
    text = buffer.getvalue()
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n" if plain else text


def print_report(console: Console, plan: Plan, *, plain: bool = False) -> None:
    for part in sections(plan, plain=plain):
        console.print(part)
        console.print()


def headline(plan: Plan) -> str:
    snap = plan.snapshot
    what = f"{plan.goal} of {len(snap.hosts)} hosts, {len(snap.vms)} guests"
    if plan.evacuate:
        what = f"evacuate {', '.join(plan.evacuate)} ({len(snap.hosts)} hosts, {len(snap.vms)} guests)"
    source = f"snapshot {snap.collected_at or '?'}" + (f" from {snap.source}" if snap.source else "")
    partial = partial_warning(plan)
    first = f"{partial}\n" if partial else ""
    stuck = [s for s in plan.stays if s.host in plan.evacuate]
    if plan.is_empty and stuck:
        return (
            f"{first}Plan: {what}: no guest can leave; {len(stuck)} stay.\n({source}; usage: {snap.window})"
        )
    if plan.is_empty:
        return f"{first}Plan: {what}: nothing to do.\n({source}; usage: {snap.window})"
    disks = f", {units.size(plan.disk_copied_mib)} of local disks copied" if plan.disk_copied_mib else ""
    return (
        f"{first}Plan: {what}: {len(plan.migrations)} migration(s), {units.size(plan.moved_mib)} of memory{disks}, "
        f"estimated {units.duration(plan.makespan_s)} "
        f"(lower bound {units.duration(plan.makespan_lower_bound_s)}).\n({source}; usage: {snap.window})"
    )


def partial_warning(plan: Plan) -> str | None:
    """The first thing a report says when hosts did not answer: the plan covers only part of the cluster."""
    down = [h.name for h in plan.snapshot.hosts if h.state is HostState.UNREACHABLE]
    if not down:
        return None
    return (
        f"PARTIAL PLAN: {', '.join(down)} did not answer; the plan leaves {'it' if len(down) == 1 else 'them'} "
        f"and {'its' if len(down) == 1 else 'their'} guests as they are."
    )


def sections(plan: Plan, *, plain: bool = False) -> list[object]:
    parts: list[object] = [headline(plan)]
    if plan.migrations:
        parts.append(_moves(plan, plain))
    parts.append(_hosts(plan, plain))
    parts.append(_balance(plan))
    if plan.stays:
        parts.append(_stays(plan, plain))
    if plan.migrations:
        parts.append(_budgets(plan, plain))
    restricted = compat.restricted_guests(plan.snapshot)
    if restricted:
        parts.append(_compat(plan, restricted, plain))
    parts.append(compat.advice(plan.snapshot, restricted))
    notes = list(plan.notes)
    if plan.solver_status:
        notes.append(f"solver: {plan.solver_status} in {plan.solve_s:.1f}s")
    if notes:
        parts.append("Notes:\n" + "\n".join(f"  - {n}" for n in notes))
    return parts


def _table(title: str, plain: bool, *columns: str) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        box=None if plain else box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="" if plain else "bold",
        title_style="" if plain else "bold",
    )
    for name in columns:
        table.add_column(name, justify="right" if name in {"#", "size", "start", "est."} else "left")
    return table


def _moves(plan: Plan, plain: bool) -> Table:
    index = {m.id: str(n) for n, m in enumerate(plan.migrations, 1)}
    with_disks = any(
        plan.snapshot.vm_by_uuid[m.vm_uuid].disks
        for m in plan.migrations
        if m.vm_uuid in plan.snapshot.vm_by_uuid
    )
    columns = [
        "#",
        "guest",
        "from",
        "to",
        "size",
        *(["disks"] if with_disks else []),
        "start",
        "est.",
        "after",
    ]
    table = _table("Migrations, in order", plain, *columns, "reason")
    for n, m in enumerate(plan.migrations, 1):
        reason = m.reason + (" (temporary hop)" if m.temporary else "")
        reason += "".join(f"; warning: {w}" for w in m.warnings)
        after = ",".join(index.get(d, d) for d in m.depends_on) or "-"
        table.add_row(
            str(n),
            m.vm_name,
            m.source,
            m.destination,
            units.size(m.memory_mib),
            *([disk_copy(plan, m)] if with_disks else []),
            units.duration(m.start_s),
            units.duration(m.estimated_s),
            after,
            reason,
        )
    return table


def disk_copy(plan: Plan, m: Migration) -> str:
    """Whether the migration copies the guest's disks, and how much: "copies vda 24 MiB", "shared"."""
    vm = plan.snapshot.vm_by_uuid.get(m.vm_uuid)
    if m.disks:
        return f"copies {','.join(m.disks)} {units.size(m.disk_mib)}"
    return "shared, not copied" if vm is not None and vm.disks else "-"


def _hosts(plan: Plan, plain: bool) -> Table:
    table = _table("Hosts, before -> after", plain, "host", "state", "cpu", "memory", "guests")
    after = {load.host: load for load in plan.after}
    states = {h.name: h.state.value for h in plan.snapshot.hosts}
    for load in plan.before:
        new = after.get(load.host, load)
        state = states.get(load.host, "?") + (" (evacuate)" if load.host in plan.evacuate else "")
        if states.get(load.host) == HostState.UNREACHABLE.value:  # its capacity is unknown, not negative
            table.add_row(
                load.host, state, "no capacity known", "no capacity known", f"{load.guests} (last seen)"
            )
            continue
        table.add_row(
            load.host,
            state,
            f"{units.cpu(load)} -> {new.cpu_pct:.0f}%",
            f"{units.memory(load)} -> {new.memory_pct:.0f}%",
            f"{load.guests} -> {new.guests}",
        )
    return table


def _balance(plan: Plan) -> str:
    b, a = plan.balance_before, plan.balance_after
    bound = f" (lower bound {plan.peak_lower_bound_pct:.1f}%)" if plan.peak_lower_bound_pct else ""
    return (
        f"Balance: peak load {b.peak_pct:.1f}% -> {a.peak_pct:.1f}%{bound}; "
        f"spread {b.spread_pct:.1f} -> {a.spread_pct:.1f} points; cv {b.cv:.3f} -> {a.cv:.3f}"
    )


def _stays(plan: Plan, plain: bool) -> Table:
    table = _table("Staying, and why", plain, "guest", "host", "rule", "why", "another move could fix it")
    for s in plan.stays:
        table.add_row(s.vm_name, s.host, s.rule, s.reason, "yes" if s.resolvable else "no")
    return table


def _budgets(plan: Plan, plain: bool) -> Table:
    table = _table("Budgets used", plain, "budget", "used", "limit")
    for use in budget_use(plan):
        table.add_row(use.name, use.used, use.limit)
    ratio = plan.makespan_s / plan.makespan_lower_bound_s if plan.makespan_lower_bound_s else 0.0
    table.add_row(
        "makespan",
        units.duration(plan.makespan_s),
        f"lower bound {units.duration(plan.makespan_lower_bound_s)}" + (f" ({ratio:.2f}x)" if ratio else ""),
    )
    return table


def _compat(plan: Plan, restricted: list[compat.Restricted], plain: bool) -> Table:
    table = _table("Guests a CPU ties to some hosts", plain, "guest", "on", "cpu", "can run on")
    for r in restricted:
        table.add_row(r.guest, r.host, r.cpu, ", ".join(r.runs_on) or "only where it is")
    return table
