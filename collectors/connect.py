"""Opening real libvirt connections: the only module in collectors/ that imports libvirt.

`open_connection(uri)` is the real Opener. `describe_error(exc, uri)` turns any failure into one line a
person can read, with the URI's credentials removed wherever they appear.
"""

from __future__ import annotations

import contextlib
import threading
from urllib.parse import urlsplit

import libvirt

from collectors.seam import Connection
from virt_rebalance.config import redact_uri

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
    conn = libvirt.open(uri)
    with contextlib.suppress(libvirt.libvirtError):  # drivers without keepalive (test:///) refuse it
        conn.setKeepAlive(KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT)
    result: Connection = conn
    return result


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
    """The error's message (libvirt's own text when it is a libvirtError), free of the URI's password."""
    if isinstance(exc, libvirt.libvirtError):
        message = exc.get_error_message() or str(exc)
    else:
        message = str(exc) or type(exc).__name__
    return scrub(message, uri)


def scrub(text: str, uri: str) -> str:
    """Replace `uri` by its redacted form and any password it carries by '***' in `text`."""
    safe = redact_uri(uri)
    text = text.replace(uri, safe)
    try:
        password = urlsplit(uri).password
    except ValueError:
        password = None
    if password:
        text = text.replace(password, "***")
    return text
