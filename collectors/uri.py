"""libvirt URIs without their secrets: for every report, log line and snapshot that names a host."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact_uri(uri: str) -> str:
    """Drop any password from a URI (qemu+ssh://user:secret@host/system -> qemu+ssh://user@host/system)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable uri>"
    if parts.password is None:
        return uri
    netloc = parts.netloc.rsplit("@", 1)[1]
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


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
