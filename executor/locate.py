"""Where a guest is right now: looked up by UUID on hosts through the seam.

A seam call fails with libvirt.libvirtError, or with the fake's look-alike (not a subclass): both carry
get_error_code(). So the executor catches `Exception` around seam calls and asks `error_code(exc)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import libvirt

from collectors.seam import Connection, Domain


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


def error_code(exc: BaseException) -> int | None:
    get = getattr(exc, "get_error_code", None)
    return get() if callable(get) else None


def find_domain(conn: Connection, uuid: str) -> Domain | None:
    """The domain with `uuid` on `conn`, or None when the host has no such domain."""
    try:
        return conn.lookupByUUIDString(uuid)
    except Exception as exc:
        if error_code(exc) == libvirt.VIR_ERR_NO_DOMAIN or "no domain with matching" in str(exc):
            return None
        raise


def sight(host: str, dom: Domain) -> Sighting:
    state = dom.state()[0]
    try:
        job = dom.jobInfo()[0] != libvirt.VIR_DOMAIN_JOB_NONE
    except Exception:  # a job query can race with the job's end
        job = False
    return Sighting(
        host=host,
        running=state == libvirt.VIR_DOMAIN_RUNNING,
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
        except Exception as exc:  # gone between the lookup and the question
            if error_code(exc) != libvirt.VIR_ERR_NO_DOMAIN:
                raise
    return out
