"""libvirt URIs without their secrets: for every report, log line and snapshot that names a host.

A URI keeps what a person needs to find the host (scheme, user, host, port, path, the socket); it loses
the password (user:secret@) and the values of query parameters that are secrets or private paths
(password=, keyfile=, pkipath=, known_hosts=, anything named like a password, secret or token).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

HIDDEN = "***"
PRIVATE_PARAMS = frozenset({"keyfile", "pkipath", "known_hosts", "authfile"})
SECRET_WORDS = ("pass", "secret", "token", "cred")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_uri(uri: str) -> str:
    """The URI without its password and secret parameter values
    (qemu+ssh://root:pw@h/system?keyfile=/root/k -> qemu+ssh://root@h/system?keyfile=***)."""
    try:
        parts = urlsplit(uri)
        password = parts.password
    except ValueError:
        return "<unparseable uri>"
    netloc = parts.netloc
    if password is not None:
        host = netloc.rsplit("@", 1)[1]
        netloc = f"{parts.username}@{host}" if parts.username else host
    query = "&".join(_redact_param(p) for p in parts.query.split("&")) if parts.query else ""
    if netloc == parts.netloc and query == parts.query:
        return uri
    # By hand: urlunsplit drops the empty authority of qemu+unix:///system.
    return (
        f"{parts.scheme}://{netloc}{parts.path}"
        + (f"?{query}" if query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def redact_text(text: str) -> str:
    """Every URI inside `text` (an error message, a log line) redacted."""
    return _URI.sub(lambda m: redact_uri(m.group(0)), text)


def scrub(text: str, uri: str) -> str:
    """Replace `uri` by its redacted form, and each secret it carries by '***', in `text`."""
    text = text.replace(uri, redact_uri(uri))
    for secret in _secrets(uri):
        text = text.replace(secret, HIDDEN)
    return redact_text(text)


def _redact_param(param: str) -> str:
    name, eq, _ = param.partition("=")
    return f"{name}={HIDDEN}" if eq and _is_secret(name) else param


def _is_secret(name: str) -> bool:
    name = unquote(name).lower()
    return name in PRIVATE_PARAMS or any(word in name for word in SECRET_WORDS)


def _secrets(uri: str) -> list[str]:
    try:
        parts = urlsplit(uri)
        password = parts.password
    except ValueError:
        return []
    values = [password] if password else []
    for param in parts.query.split("&"):
        name, eq, value = param.partition("=")
        if eq and value and _is_secret(name):
            values += [value, unquote(value)]
    return sorted({v for v in values if len(v) >= 3}, key=len, reverse=True)
