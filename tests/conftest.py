"""Shared fixtures. Builders live in tests/builders.py; the lab fixture in tests/lab_fixture.py."""

import pytest

from tests.lab_fixture import make_lab  # noqa: F401  (the fixture, registered for every test)


@pytest.fixture(autouse=True)
def _no_open_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a fake host that is down is tried again at once, not after real pauses."""
    monkeypatch.setattr("executor.connections.OPEN_BACKOFF_S", (0.0, 0.0))
