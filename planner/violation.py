"""A broken rule, as a record (kube-scheduler's fit failures): the rule, the guest, the host, the numbers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule broken by one placement.

    `value` and `limit` are in the rule's own unit (`unit`: MiB, millicores, guests, ...). `resolvable`
    tells "cannot hold now" (another move could fix it) from "cannot ever hold" (e.g. no compatible host).
    """

    rule: str
    message: str
    vm: str | None = None
    host: str | None = None
    value: int | None = None
    limit: int | None = None
    unit: str = ""
    resolvable: bool = True

    def describe(self) -> str:
        numbers = ""
        if self.value is not None and self.limit is not None:
            numbers = f" ({self.value} > {self.limit} {self.unit})".rstrip()
        return f"{self.rule}: {self.message}{numbers}"
