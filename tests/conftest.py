"""Shared fixtures. Builders live in tests/builders.py; the lab fixture in tests/lab_fixture.py."""

import os

import pytest
from hypothesis import settings

from tests.lab_fixture import make_lab  # noqa: F401  (the fixture, registered for every test)

# In CI every Hypothesis test checks the same examples on every run (a red CI names a reproducible case);
# a developer's run keeps exploring new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _no_open_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a fake host that is down is tried again at once, not after real pauses."""
    monkeypatch.setattr("executor.connections.OPEN_BACKOFF_S", (0.0, 0.0))
