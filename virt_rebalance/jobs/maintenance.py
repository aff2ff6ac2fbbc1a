"""Hosts in maintenance, kept in `STATE_DIR/maintenance.json` so every later run respects them.

`evacuate` marks its hosts; the nightly run applies the marks to the collected Cluster (the hosts become
HostState.MAINTENANCE, so the planner moves nothing onto them and does not bring guests back);
`virt-rebalance maintenance end HOST` lifts a mark.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from files.safe_write import write_atomically
from planner.errors import InputError
from planner.model import Cluster, HostState

FILE_NAME = "maintenance.json"


@dataclass(frozen=True, slots=True)
class Mark:
    host: str
    since: str
    reason: str


def path_in(state_dir: str | Path) -> Path:
    return Path(state_dir) / FILE_NAME


def load(state_dir: str | Path) -> dict[str, Mark]:
    """The marks in force, by host name; none when the file does not exist."""
    path = path_in(state_dir)
    try:
        raw = json.loads(path.read_text())
        return {
            name: Mark(name, str(entry.get("since", "")), str(entry.get("reason", "")))
            for name, entry in raw["hosts"].items()
        }
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(str(path), "hosts", f"not a maintenance file: {exc}") from None


def mark(state_dir: str | Path, hosts: Iterable[str], reason: str, now: datetime | None = None) -> None:
    """Put `hosts` in maintenance (keeping the date of an existing mark)."""
    marks = load(state_dir)
    since = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    for host in hosts:
        marks.setdefault(host, Mark(host, since, reason))
    _save(state_dir, marks)


def end(state_dir: str | Path, host: str) -> bool:
    """Lift the mark on `host`; False when it was not in maintenance."""
    marks = load(state_dir)
    if marks.pop(host, None) is None:
        return False
    _save(state_dir, marks)
    return True


def apply_to(cluster: Cluster, marks: Mapping[str, Mark]) -> Cluster:
    """The cluster with every marked, otherwise active host in maintenance (an unreachable host stays so)."""
    if not any(h.name in marks and h.state is HostState.ACTIVE for h in cluster.hosts):
        return cluster
    hosts = tuple(
        replace(h, state=HostState.MAINTENANCE) if h.name in marks and h.state is HostState.ACTIVE else h
        for h in cluster.hosts
    )
    return replace(cluster, hosts=hosts)


def _save(state_dir: str | Path, marks: Mapping[str, Mark]) -> None:
    data = {"hosts": {m.host: {"since": m.since, "reason": m.reason} for m in marks.values()}}
    write_atomically(path_in(state_dir), json.dumps(data, indent=2) + "\n")
