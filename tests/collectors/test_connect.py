"""Errors are described without credentials."""

from __future__ import annotations

import pytest

from collectors.connect import describe_error, open_connection
from collectors.seam import VirtError
from collectors.uri import scrub

URI = "qemu+ssh://admin:pa55word@h1.example/system"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"cannot connect to {URI}", "cannot connect to qemu+ssh://admin@h1.example/system"),
        ("auth failed for password pa55word", "auth failed for password ***"),
        ("nothing secret", "nothing secret"),
    ],
    ids=["uri", "bare-password", "clean"],
)
def test_scrub(text: str, expected: str) -> None:
    assert scrub(text, URI) == expected


def test_a_real_libvirt_failure_is_described_without_the_password() -> None:
    uri = "qemu+unix://u:topsecret@/system?socket=/nonexistent/libvirt-sock"
    with pytest.raises(VirtError) as info:
        open_connection(uri)
    message = describe_error(info.value, uri)
    assert "topsecret" not in message and "/nonexistent/libvirt-sock" in message


def test_other_errors() -> None:
    assert describe_error(TimeoutError(), URI) == "TimeoutError"
