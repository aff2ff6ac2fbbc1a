"""Opening real libvirt connections: the only module in collectors/ and executor/ that imports libvirt.

`open_connection(uri)` is the real Opener. The connection and every domain it hands out are libvirt-python's
own objects behind `_Guarded`, which turns libvirt.libvirtError into the seam's `VirtError` (code and
message kept, the original as its cause). `describe_error(exc, uri)` turns any failure into one line a
person can read, with the URI's credentials removed wherever they appear.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, cast

import libvirt

from collectors.seam import Connection, VirtError
from collectors.uri import scrub

# libvirt prints failures to stderr itself unless an error handler is registered; we report them instead.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


#: A peer that answers no keepalive probe for INTERVAL * (COUNT + 1) seconds is gone: libvirt closes the
#: connection and every call waiting on it fails, instead of waiting forever on a hung or cut-off host.
KEEPALIVE_INTERVAL_S = 5
KEEPALIVE_COUNT = 3

_event_loop_lock = threading.Lock()
_event_loop_started = False


def open_connection(uri: str) -> Connection:
    """A read-write connection to `uri` (compareHypervisorCPU and migrations need read-write), with
    keepalive probes so a dead peer is noticed. Opening itself can hang on a host that accepts and never
    answers: callers bound it (collectors.parallel, executor.deadline)."""
    _start_event_loop()
    conn = _guard(libvirt.open)(uri)
    with contextlib.suppress(VirtError):  # drivers without keepalive (test:///) refuse it
        conn.setKeepAlive(KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT)
    return cast(Connection, conn)


def _start_event_loop() -> None:
    """libvirt sends keepalive probes only when the client runs an event loop, registered before the first
    connection opens: one daemon thread for the whole process."""
    global _event_loop_started
    with _event_loop_lock:
        if _event_loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=_run_events, name="libvirt-events", daemon=True).start()
        _event_loop_started = True


def _run_events() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


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
