"""Opening real libvirt connections: the only module in collectors/ and executor/ that imports libvirt.

`open_connection(uri)` is the real Opener. The connection and every domain it hands out are libvirt-python's
own objects behind `_Guarded`, which turns libvirt.libvirtError into the seam's `VirtError` (code and
message kept, the original as its cause). `describe_error(exc, uri)` turns any failure into one line a
person can read, with the URI's credentials removed wherever they appear.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import libvirt

from collectors.seam import Connection, VirtError
from collectors.uri import scrub

# libvirt prints failures to stderr itself unless an error handler is registered; we report them instead.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


def open_connection(uri: str) -> Connection:
    """A read-write connection to `uri` (compareHypervisorCPU and migrations need read-write).

    Opening and every call can hang on a host that accepts and never answers: callers bound them
    (collectors.parallel, executor.deadline). No libvirt keepalive: with it, a SIGSTOPped libvirtd's
    connection closed by keepalive while two calls waited on it (a migration and its jobStats) crashed
    the client process with a segfault in the lab twice (libvirt 9.0, libvirt-python 12); the deadlines
    end a run on time without it, and a call left waiting simply returns if the host comes back."""
    return cast(Connection, _guard(libvirt.open)(uri))


def describe_error(exc: BaseException, uri: str) -> str:
    """The error's message (libvirt's own text for a VirtError), free of the URI's password."""
    if isinstance(exc, VirtError):
        message = exc.get_error_message() or str(exc)
    else:
        message = str(exc) or type(exc).__name__
    return scrub(message, uri)


class _Guarded:
    """A virConnect, virDomain, virStoragePool or virStorageVol whose calls raise VirtError; the libvirt objects they return are guarded
    too, and guarded arguments (the destination connection of `migrate`) are unwrapped on the way in."""

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        return _guard(attr) if callable(attr) else attr


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_unwrap(a) for a in args)
        kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        try:
            return _wrap(fn(*args, **kwargs))
        except libvirt.libvirtError as exc:
            code = exc.get_error_code()
            raise VirtError(exc.get_error_message() or str(exc), code or 0) from exc

    return call


def _wrap(value: Any) -> Any:
    if isinstance(
        value, libvirt.virDomain | libvirt.virConnect | libvirt.virStoragePool | libvirt.virStorageVol
    ):
        return _Guarded(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    return value


def _unwrap(value: Any) -> Any:
    return value._target if isinstance(value, _Guarded) else value
