"""The one error hierarchy of virt-rebalance.

Every error carries the data a person needs to act on it; only the CLI turns them into messages and exit
codes (click: 1 failure, 2 usage).

    VirtRebalanceError
    ├── InputError              a file or value given to us is wrong (file, field)
    │   ├── SnapshotError       a Cluster snapshot file
    │   ├── PlanFileError       a Plan file
    │   └── ConfigError         the TOML config (file, line, key)
    ├── PlanningError           the planner could not produce a valid plan
    │   ├── InfeasibleError     the hard rules cannot all hold (conflicts, in words)
    │   └── PlannerBugError     a solved placement or schedule broke a rule (violations)
    ├── CollectError            no host answered (per-host failures live in the snapshot)
    ├── FileWriteError          a file of ours could not be written (path, why, the free space)
    │   └── UnsafeDirectoryError  a directory others may write to, refused (path, why)
    ├── ExecutionError          carrying out a plan went wrong
    │   ├── StalePlanError      the plan is older than allowed
    │   └── MigrationFailed     one live migration failed (the guest stayed on its source)
    ├── ShortHistoryError       too little usage history to plan on (the nightly run)
    ├── LockedError             another run holds the lock (path, holder)       in files/lock.py
    └── LabError                the lab could not start or stop (what, hint)    in virt_rebalance/lab/errors.py

The last two live with the code that raises them (the lock helper below the executor and the app; the lab
in the app), so that no error of the app sits in the planner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planner.violation import Violation


class VirtRebalanceError(Exception):
    """Base of every error we raise on purpose."""


class InputError(VirtRebalanceError):
    """A file or value is malformed: names the file and the field."""

    kind = "input"

    def __init__(self, source: str, field: str | None, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {problem}")


class SnapshotError(InputError):
    kind = "snapshot"


class PlanFileError(InputError):
    kind = "plan"


class ConfigError(InputError):
    kind = "config"

    def __init__(self, source: str, field: str | None, problem: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"{source}:{line}" if line else source, field, problem)


class PlanningError(VirtRebalanceError):
    """The planner could not produce a valid plan."""


class InfeasibleError(PlanningError):
    """The hard rules cannot all hold; `conflicts` names the rules, in words."""

    def __init__(self, conflicts: Sequence[str]) -> None:
        self.conflicts = tuple(conflicts)
        listed = "; ".join(self.conflicts) or "no single rule could be blamed"
        super().__init__(f"the hard rules cannot all hold: {listed}")


class PlannerBugError(PlanningError):
    """A solved placement or schedule step breaks a hard rule. Always a bug in the planner."""

    def __init__(self, stage: str, violations: Sequence[Violation]) -> None:
        self.stage = stage
        self.violations = tuple(violations)
        shown = "; ".join(v.describe() for v in self.violations[:5])
        super().__init__(f"planner bug: {stage} breaks {len(self.violations)} rule(s): {shown}")


class CollectError(VirtRebalanceError):
    """No host answered; `failures` maps host name to its error."""

    def __init__(self, failures: dict[str, str]) -> None:
        self.failures = dict(failures)
        shown = "; ".join(f"{h}: {e}" for h, e in self.failures.items())
        super().__init__(f"no host answered: {shown}")


class FileWriteError(VirtRebalanceError):
    """A file we write (state, journal, lock, summary, metrics, plan) could not be written."""

    action = "cannot write"

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{self.action} {path}: {problem}")


class UnsafeDirectoryError(FileWriteError):
    """A directory we would write into as root, refused because others may write there."""

    action = "refusing to write into"


class ExecutionError(VirtRebalanceError):
    """Carrying out a plan went wrong."""


class StalePlanError(ExecutionError):
    def __init__(self, age_s: float, max_age_s: float) -> None:
        self.age_s = age_s
        self.max_age_s = max_age_s
        super().__init__(
            f"the plan is {age_s / 60:.0f} min old, older than the allowed {max_age_s / 60:.0f} min; "
            "plan again or use --force"
        )


class MigrationFailed(ExecutionError):
    def __init__(self, vm: str, source: str, destination: str, reason: str) -> None:
        self.vm = vm
        self.source = source
        self.destination = destination
        self.reason = reason
        super().__init__(f"migration of {vm} from {source} to {destination} failed: {reason}")


class ShortHistoryError(VirtRebalanceError):
    """The usage history holds fewer samples than collect.min_samples: the nightly run does not plan."""

    def __init__(self, *, samples: int, required: int, hours: float) -> None:
        self.samples, self.required, self.hours = samples, required, hours
        super().__init__(
            f"the usage history holds {samples} sample(s) per guest of the last {hours:g} h, fewer than "
            f"collect.min_samples = {required}: the nightly run does not plan on so little "
            "(next: let `collect --record` run, e.g. virt-rebalance-collect.timer, or pass --allow-short-history)"
        )
