"""The lab's error: the lab could not start, stop or do what it was asked (what, and a hint how to mend it).

A VirtRebalanceError like every error of ours (planner/errors.py draws the tree), kept with the lab: only
the lab raises it.
"""

from __future__ import annotations

from planner.errors import VirtRebalanceError


class LabError(VirtRebalanceError):
    def __init__(self, what: str, hint: str = "") -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"{what}" + (f" ({hint})" if hint else ""))
