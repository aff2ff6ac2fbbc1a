"""Shared fixtures. Builders live in tests/builders.py; the lab fixture in tests/lab_fixture.py."""

from tests.lab_fixture import make_lab  # noqa: F401  (the fixture, registered for every test)
