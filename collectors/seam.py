"""The narrow seam to libvirt: the few calls collectors/ and executor/ make, as Protocols, and their error.

The real implementation is libvirt-python's own virConnect/virDomain objects behind a thin guard (see
`collectors.connect`) that turns libvirt.libvirtError into `VirtError`; the tests' in-memory fake
(tests/fakes/) implements the same methods for unit tests and simulated clusters of thousands of hosts and
raises `VirtError` too. So callers catch `VirtError`, never bare `Exception`. Method names and signatures
are libvirt-python's, so nothing else is translated at the seam. Keep this list short: every method added
here must be added to the fake and exercised against the lab. The constants the callers need are in
`collectors.constants`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from collectors.constants import VIR_ERR_SYSTEM_ERROR


class VirtError(Exception):
    """A libvirt call through the seam failed: libvirt's error code and message (libvirtError's data)."""

    def __init__(self, message: str, code: int = VIR_ERR_SYSTEM_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def get_error_code(self) -> int:
        return self.code

    def get_error_message(self) -> str:
        return self.message


class Domain(Protocol):
    def name(self) -> str: ...
    def UUIDString(self) -> str: ...
    def XMLDesc(self, flags: int = 0) -> str: ...
    def state(self, flags: int = 0) -> list[int]: ...
    def isActive(self) -> int: ...
    def isPersistent(self) -> int: ...
    def info(self) -> list[int]: ...
    def jobInfo(self) -> list[int]: ...
    def jobStats(self, flags: int = 0) -> dict[str, Any]: ...
    def abortJob(self) -> int: ...
    def startDirtyRateCalc(self, seconds: int, flags: int = 0) -> None: ...
    def migrateToURI3(self, dconnuri: str, params: dict[str, Any], flags: int = 0) -> int: ...
    def migrate(  # client-managed migration; returns the domain on the destination
        self,
        dconn: Connection,
        flags: int = 0,
        dname: str | None = None,
        uri: str | None = None,
        bandwidth: int = 0,
    ) -> Domain: ...
    def migrateSetMaxSpeed(self, bandwidth: int, flags: int = 0) -> int: ...
    def migrateSetMaxDowntime(self, downtime: int, flags: int = 0) -> int: ...
    def migrateStartPostCopy(self, flags: int = 0) -> None: ...


class Connection(Protocol):
    def getInfo(self) -> list[Any]: ...
    def getHostname(self) -> str: ...
    def getCapabilities(self) -> str: ...
    def getDomainCapabilities(
        self,
        emulatorbin: str | None = None,
        arch: str | None = None,
        machine: str | None = None,
        virttype: str | None = None,
        flags: int = 0,
    ) -> str: ...
    def getMemoryStats(self, cellNum: int, flags: int = 0) -> dict[str, int]: ...
    def listAllDomains(self, flags: int = 0) -> list[Domain]: ...
    def lookupByUUIDString(self, uuid: str) -> Domain: ...
    def lookupByName(self, name: str) -> Domain: ...
    def getAllDomainStats(self, stats: int = 0, flags: int = 0) -> list[tuple[Domain, dict[str, Any]]]: ...
    def compareHypervisorCPU(
        self,
        emulator: str | None,
        arch: str | None,
        machine: str | None,
        virttype: str | None,
        xmlCPU: str,
        flags: int = 0,
    ) -> int: ...
    def baselineHypervisorCPU(
        self,
        emulator: str | None,
        arch: str | None,
        machine: str | None,
        virttype: str | None,
        xmlCPUs: list[str],
        flags: int = 0,
    ) -> str: ...
    def close(self) -> int: ...


#: Opens a connection to a libvirt URI; the real one is `collectors.connect.open_connection`.
Opener = Callable[[str], Connection]
