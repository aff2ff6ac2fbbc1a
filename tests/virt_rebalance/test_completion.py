"""Shell completion as the README documents it (click's own, keyed by the program name)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from virt_rebalance.cli import main


@pytest.mark.parametrize(
    ("words", "word", "expected"),
    [
        ("virt-rebalance --quiet mai", 2, "maintenance"),
        ("virt-rebalance run --sch", 2, "--scheduled"),
        ("virt-rebalance maintenance list --j", 3, "--json"),
    ],
    ids=["command", "run-option", "subcommand-option"],
)
def test_bash_completes(words: str, word: int, expected: str) -> None:
    env = {"_VIRT_REBALANCE_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(word)}
    result = CliRunner().invoke(main, [], env=env, prog_name="virt-rebalance")
    assert expected in result.output
