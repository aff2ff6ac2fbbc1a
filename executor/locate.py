"""Where a guest is right now: looked up by UUID on hosts through the seam.

A seam call fails with the seam's VirtError (libvirt's code and message), which callers catch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from collectors import constants as c
from collectors.seam import Connection, Domain, VirtError


@dataclass(frozen=True, slots=True)
class Sighting:
    """A guest found on a host: whether it runs there, is persistent there, and has a job going."""

    host: str
    running: bool
    persistent: bool
    active: bool
    job: bool

    def describe(self) -> str:
        state = "running" if self.running else ("active, not running" if self.active else "shut off")
        return f"{self.host} ({state}{', transient' if not self.persistent else ''})"


def find_domain(conn: Connection, uuid: str) -> Domain | None:
    """The domain with `uuid` on `conn`, or None when the host has no such domain."""
    try:
        return conn.lookupByUUIDString(uuid)
    except VirtError as exc:
        if exc.code == c.VIR_ERR_NO_DOMAIN or "no domain with matching" in str(exc):
            return None
        raise


def sight(host: str, dom: Domain) -> Sighting:
    state = dom.state()[0]
    try:
        job = dom.jobInfo()[0] != c.VIR_DOMAIN_JOB_NONE
    except VirtError:  # a job query can race with the job's end
        job = False
    return Sighting(
        host=host,
        running=state == c.VIR_DOMAIN_RUNNING,
        persistent=bool(dom.isPersistent()),
        active=bool(dom.isActive()),
        job=job,
    )


def where_is(uuid: str, conns: Mapping[str, Connection]) -> dict[str, Sighting]:
    """Every host among `conns` that has the guest defined or running, keyed by host name."""
    out = {}
    for host, conn in conns.items():
        dom = find_domain(conn, uuid)
        if dom is None:
            continue
        try:
            out[host] = sight(host, dom)
        except VirtError as exc:  # gone between the lookup and the question
            if exc.code != c.VIR_ERR_NO_DOMAIN:
                raise
    return out
