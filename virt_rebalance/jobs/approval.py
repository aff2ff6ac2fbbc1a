"""Approval mode: the plan held for an operator, kept in `STATE_DIR/approval.json`.

    run --plan-only         -> hold(...)       the plan waits, status "pending", under its RUN_ID
    approve RUN_ID          -> approve(...)    status "approved" (who, when)
    run (automation = "approved")
                            -> why_not_usable(...)  None when an approved, unchanged plan is there; the run
                                                    then re-checks it on the live cluster (planner.recheck)
                            -> carried_out(...)     once it ran; the next run plans (and holds) anew

One plan is held at a time: a newer one replaces it, and approving an older RUN_ID names the one held now.
The held plan's SHA-256 is recorded, so a plan file changed after it was held is refused, never run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from files.safe_write import write_atomically
from planner.errors import InputError
from planner.plan import Plan

FILE_NAME = "approval.json"

Status = Literal["pending", "approved", "carried-out"]


@dataclass(frozen=True, slots=True)
class Approval:
    """The held plan: its run, the plan file and its hash, and where it stands."""

    run_id: str
    plan: str
    sha256: str
    status: Status
    held_at: str
    migrations: int
    approved_at: str = ""
    approved_by: str = ""
    carried_out_by: str = ""  # the run that carried it out


def path_in(state_dir: str | Path) -> Path:
    return Path(state_dir) / FILE_NAME


def load(state_dir: str | Path) -> Approval | None:
    """The held plan's record; None when no plan was ever held."""
    path = path_in(state_dir)
    try:
        raw = json.loads(path.read_text())
        approval = Approval(**raw)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(
            str(path), None, f"not an approval file ({exc}); hold a new plan with `run --plan-only`"
        ) from None
    if approval.status not in ("pending", "approved", "carried-out"):
        raise InputError(str(path), "status", f"unknown status {approval.status!r}")
    return approval


def hold(state_dir: str | Path, run_id: str, plan_file: str, plan: Plan, now: datetime) -> Approval:
    """Hold `plan` (written to `plan_file`) for approval under `run_id`, replacing any plan held before."""
    approval = Approval(
        run_id=run_id,
        plan=plan_file,
        sha256=_sha256(Path(plan_file)),
        status="pending",
        held_at=_iso(now),
        migrations=len(plan.migrations),
    )
    _save(state_dir, approval)
    return approval


def approve(state_dir: str | Path, run_id: str, by: str, now: datetime) -> Approval:
    """Mark the plan held under `run_id` approved; InputError naming what is wrong otherwise."""
    source = str(path_in(state_dir))
    held = load(state_dir)
    if held is None:
        raise InputError(source, "run_id", "no plan is held for approval; make one with `run --plan-only`")
    if held.run_id != run_id:
        raise InputError(
            source, "run_id", f"{run_id} is not the plan held for approval; the held plan is {held.run_id}"
        )
    if held.status == "carried-out":
        raise InputError(source, "run_id", f"{run_id} was already carried out by {held.carried_out_by}")
    _check_hash(held)
    if held.status == "approved":
        return held
    approved = replace(held, status="approved", approved_at=_iso(now), approved_by=by)
    _save(state_dir, approved)
    return approved


def why_not_usable(held: Approval | None) -> str | None:
    """Why no approved plan can run tonight (before looking at the cluster), or None when one is approved."""
    if held is None:
        return "no plan was approved (none was held)"
    if held.status == "pending":
        return f"plan {held.run_id} is not approved yet"
    if held.status == "carried-out":
        return f"the approved plan {held.run_id} was already carried out by {held.carried_out_by}"
    if not Path(held.plan).is_file():
        return f"the approved plan {held.run_id} is gone ({held.plan})"
    if _sha256(Path(held.plan)) != held.sha256:
        return f"the approved plan {held.run_id} was changed after it was held ({held.plan})"
    return None


def carried_out(state_dir: str | Path, held: Approval, by_run: str) -> None:
    """Record that `held` ran (whatever the outcome): it is never carried out twice."""
    _save(state_dir, replace(held, status="carried-out", carried_out_by=by_run))


def _check_hash(held: Approval) -> None:
    try:
        digest = _sha256(Path(held.plan))
    except OSError as exc:
        raise InputError(held.plan, None, f"the held plan cannot be read: {exc.strerror}") from None
    if digest != held.sha256:
        raise InputError(held.plan, None, "the held plan was changed after it was held; not approved")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _save(state_dir: str | Path, approval: Approval) -> None:
    write_atomically(path_in(state_dir), json.dumps(asdict(approval), indent=2) + "\n")


def _iso(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="seconds")
