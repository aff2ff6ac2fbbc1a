"""Fixtures of the application tests: a config in tmp_path and fake job steps (tests/virt_rebalance/fakes.py)."""

from tests.virt_rebalance.fakes import config, config_path, fake_steps

__all__ = ["config", "config_path", "fake_steps"]
