"""Shared fixtures. Builders live in tests/builders.py; the lab fixture in tests/lab_fixture.py."""
