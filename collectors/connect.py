"""Opening real libvirt connections: the only module in collectors/ that imports libvirt.

`open_connection(uri)` is the real Opener. `describe_error(exc, uri)` turns any failure into one line a
person can read, with the URI's credentials removed wherever they appear.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import libvirt

from collectors.seam import Connection
from virt_rebalance.config import redact_uri

# libvirt prints failures to stderr itself unless an error handler is registered; we report them instead.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


def open_connection(uri: str) -> Connection:
    """A read-write connection to `uri` (compareHypervisorCPU and migrations need read-write)."""
    conn: Connection = libvirt.open(uri)
    return conn


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
