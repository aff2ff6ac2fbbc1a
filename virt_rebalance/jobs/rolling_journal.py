"""The rolling round's journal: STATE_DIR/rolling/round.json, rewritten atomically after every step.

    {"status": "running", "started_at": ..., "exec_command": "ssh {host} reboot", "wait_ready_s": 600,
     "force": false, "turns": [{"host": "h2", "step": "exec", "plan_file": ".../h2-evacuate.json", ...}]}

A turn's step is where that host is: pending, evacuate, exec, wait, return, rebalance, done or skipped.
`rolling --resume` continues the first turn not done at its step.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from files.safe_write import make_directory, write_atomically
from planner.errors import InputError

FILE_NAME = "round.json"


@dataclass(kw_only=True)
class HostTurn:
    host: str
    step: str = "pending"
    reason: str = ""
    plan_file: str = ""
    migrations: int = 0
    moved_mib: int = 0
    rebalanced: int = 0
    seconds: float = 0.0


@dataclass(kw_only=True)
class Round:
    started_at: str
    exec_command: str | None = None
    wait_ready_s: float = 600.0
    force: bool = False
    # running, done, partial (hosts skipped), failed (the round stopped), interrupted (SIGTERM/SIGINT)
    status: str = "running"
    finished_at: str = ""
    rebalanced: int = 0  # migrations of the final rebalance
    turns: list[HostTurn] = field(default_factory=list)


def round_dir(state_dir: str | Path) -> Path:
    return Path(state_dir) / "rolling"


def save_round(state_dir: str | Path, journal: Round) -> None:
    directory = round_dir(state_dir)
    make_directory(directory)
    write_atomically(directory / FILE_NAME, json.dumps(asdict(journal), indent=2) + "\n")


def load_round(state_dir: str | Path) -> Round | None:
    """The last round's journal; None when there never was one."""
    path = round_dir(state_dir) / FILE_NAME
    try:
        raw = json.loads(path.read_text())
        turns = [HostTurn(**t) for t in raw.pop("turns")]
        return Round(**raw, turns=turns)
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(str(path), "turns", f"not a rolling journal: {exc}") from None
