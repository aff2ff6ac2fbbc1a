"""What the executor needs to know besides the plan: where the hosts are, how to call migrate, how long to
wait, what to do after a failure, where the journal lives.

Frozen values without defaults: virt_rebalance.config builds them from the TOML model
(`execute_settings()`), which holds every default. The budgets (counts, bandwidth, downtime, set-up) are not
here: they travel in the plan (`Plan.budgets`, what its schedule assumed), so apply runs exactly the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """A host as the executor reaches it: its libvirt URI, and where its QEMU listens for migrations."""

    name: str
    uri: str
    migration_uri: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecuteSettings:
    """How to call migrate (`managed` and the flags); how long to wait (`poll_interval_s` between jobStats
    polls, `call_timeout_s` for one libvirt call, `stall_timeout_s` without progress, a time limit of the estimate times `time_limit_factor` but
    at least `time_limit_floor_s`, post-copy after `postcopy_after_rounds`); the oldest plan run."""

    hosts: tuple[Destination, ...]
    state_dir: str
    managed: Literal["peer2peer", "client"]
    peer2peer: bool
    tunnelled: bool
    postcopy: bool
    paused: bool
    change_protection: bool
    unsafe: bool
    compressed: bool
    parallel_connections: int
    destination_name: str | None
    poll_interval_s: float
    call_timeout_s: float
    stall_timeout_s: float
    time_limit_factor: float
    time_limit_floor_s: float
    postcopy_after_rounds: int
    max_plan_age_s: float
    failure_policy: Literal["stop", "continue"]
    remove_source_disks: bool
    wait_for_others_s: float  # longest a move waits for migrations this run did not start

    def host(self, name: str) -> Destination:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)
