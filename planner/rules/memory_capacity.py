"""Memory per host: (physical - reserve) x memory overcommit holds every guest's memory."""

from __future__ import annotations

from dataclasses import dataclass

from planner.model import Cluster, Placement
from planner.optimize.encoding import Encoding
from planner.policy import Policy
from planner.rules.capacity import encode_capacity, over_capacity, over_capacity_on
from planner.rules.rule import Hop, Rule
from planner.violation import Violation


@dataclass(frozen=True)
class MemoryCapacity(Rule):
    name: str = "MemoryCapacity"
    hard: bool = True

    def describe(self) -> str:
        return "each host holds at most its memory capacity"

    def check(self, cluster: Cluster, placement: Placement) -> list[Violation]:
        return over_capacity(cluster, placement, "memory", self.name, "MiB")

    def check_hop(self, cluster: Cluster, hop: Hop) -> list[Violation]:
        return over_capacity_on(cluster, hop.now, hop.via, (("memory", "MiB"),), self.name)

    def encode(self, enc: Encoding) -> None:
        encode_capacity(enc, self, "memory")

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[MemoryCapacity, ...]:
        return (cls(),)
