"""Exit codes a scheduler can act on. Documented in the README; `run` and `evacuate` return them.

0  done            every planned migration was carried out
1  failed          nothing planned was carried out (all failed, skipped or not started), or an error
                   stopped the job
2  usage           bad command line or input (config, snapshot, plan file)
3  nothing to do   the cluster is already balanced (or the hosts already empty)
4  partly done     some migrations failed or were skipped, or guests stayed on a host being emptied
5  locked          another run or evacuation holds the lock; nothing was done
6  outside window  the nightly window is closed; the plan was written, no migration started
7  interrupted     SIGTERM or SIGINT: no migration started after it, running ones finished (or were
                   aborted); `apply --resume PLAN` carries out the rest
8  awaiting approval   policy.automation = "approved" and no approved plan holds: a new plan was written
                   and is held for `virt-rebalance approve RUN_ID`; no migration started
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    DONE = 0
    FAILED = 1
    USAGE = 2
    NOTHING_TO_DO = 3
    PARTIAL = 4
    LOCKED = 5
    OUTSIDE_WINDOW = 6
    INTERRUPTED = 7
    AWAITING_APPROVAL = 8


#: The executor's overall status -> exit code.
BY_STATUS: dict[str, ExitCode] = {
    "nothing-to-do": ExitCode.NOTHING_TO_DO,
    "done": ExitCode.DONE,
    "partial": ExitCode.PARTIAL,
    "failed": ExitCode.FAILED,
    "interrupted": ExitCode.INTERRUPTED,
}


def for_status(status: str) -> ExitCode:
    """The exit code of an overall status; an unknown status is a failure."""
    return BY_STATUS.get(status, ExitCode.FAILED)
