"""CPU per host: vCPUs within CPUs x vCPU overcommit, and measured CPU use within the ceiling (e.g. 85%)."""

from __future__ import annotations

from dataclasses import dataclass

from planner.model import Cluster, Placement
from planner.optimize.encoding import Encoding
from planner.policy import Policy
from planner.rules.capacity import encode_capacity, over_capacity, over_capacity_on
from planner.rules.rule import Hop, Rule
from planner.violation import Violation


@dataclass(frozen=True)
class CpuCapacity(Rule):
    name: str = "CpuCapacity"
    hard: bool = True

    def describe(self) -> str:
        return "each host stays within its vCPU overcommit and its CPU ceiling"

    def check(self, cluster: Cluster, placement: Placement) -> list[Violation]:
        return over_capacity(cluster, placement, "vcpus", self.name, "vCPUs") + over_capacity(
            cluster, placement, "cpu", self.name, "millicores"
        )

    def check_hop(self, cluster: Cluster, hop: Hop) -> list[Violation]:
        return over_capacity_on(
            cluster, hop.now, hop.via, (("vcpus", "vCPUs"), ("cpu", "millicores")), self.name
        )

    def encode(self, enc: Encoding) -> None:
        encode_capacity(enc, self, "vcpus")
        encode_capacity(enc, self, "cpu")

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[CpuCapacity, ...]:
        return (cls(),)
