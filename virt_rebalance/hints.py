"""The next step to take after a connection failure, read from libvirt's own message.

next_step("Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied")
-> "run as root (sudo virt-rebalance ...) or as a member of the libvirt group"
"""

from __future__ import annotations

import re

# (pattern in libvirt's or ssh's message, what to do), the first match wins.
_HINTS: tuple[tuple[str, str], ...] = (
    (
        r"Host key verification failed",
        "accept the host's ssh key once: ssh root@HOST true (as the user running us)",
    ),
    (r"Permission denied \(publickey", "the host does not accept this user's ssh key: ssh-copy-id root@HOST"),
    (
        r"libvirt-sock.*Permission denied|authentication unavailable|access denied|not authorized",
        "run as root (sudo virt-rebalance ...) or as a member of the libvirt group",
    ),
    (
        r"libvirt-sock.*No such file or directory|Connection refused",
        "is libvirtd running there? systemctl status libvirtd (or virtqemud)",
    ),
    (
        r"Could not resolve hostname|Name or service not known",
        "check the host name in the URI (config: hosts[].uri)",
    ),
)


def next_step(message: str) -> str | None:
    """What to do about the failure `message` says, or None when we cannot tell."""
    for pattern, hint in _HINTS:
        if re.search(pattern, message, re.I):
            return hint
    return None


def with_next_step(message: str) -> str:
    """`message`, followed by the next step when there is one."""
    hint = next_step(message)
    return f"{message} (next: {hint})" if hint else message
