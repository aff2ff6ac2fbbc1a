"""The next step after a connection failure, read from libvirt's and ssh's messages."""

from __future__ import annotations

import pytest

from virt_rebalance.hints import next_step, with_next_step


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied", "run as root"),
        ("authentication unavailable: no polkit agent available to authenticate action", "libvirt group"),
        (
            "Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory",
            "libvirtd",
        ),
        ("Cannot recv data: Host key verification failed.: Connection reset by peer", "ssh root@HOST true"),
        ("Cannot recv data: root@n1: Permission denied (publickey).", "ssh-copy-id"),
        ("Cannot recv data: ssh: Could not resolve hostname n9: Name or service not known", "host name"),
    ],
    ids=["socket-permission", "polkit", "no-libvirtd", "host-key", "ssh-key", "dns"],
)
def test_next_step(message: str, words: str) -> None:
    hint = next_step(message)
    assert hint is not None and words in hint
    assert with_next_step(message).startswith(message + " (next: ")


def test_no_hint_for_what_we_cannot_tell() -> None:
    assert with_next_step("internal error: something odd") == "internal error: something odd"
