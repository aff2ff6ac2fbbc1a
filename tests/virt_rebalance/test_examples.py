"""The shipped examples: the config loads and documents every key; the systemd units run real commands."""

from __future__ import annotations

import configparser
from importlib import resources

import pytest
from pydantic import BaseModel

from virt_rebalance.cli import main
from virt_rebalance.config import Config, parse_config
from virt_rebalance.jobs.exitcodes import ExitCode

EXAMPLES = resources.files("virt_rebalance") / "examples"


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            out += _fields(sub, f"{prefix}{name}.")
        elif name not in ("hosts", "rules", "host_groups"):
            out.append(prefix + name)
    return out


def test_example_config_loads() -> None:
    config = parse_config((EXAMPLES / "cluster.toml").read_text(), "cluster.toml")
    assert [h.name for h in config.hosts] == ["node1", "node2", "node3", "node4"]
    assert {r.kind for r in config.rules} == {"affinity", "anti-affinity", "pin", "avoid"}
    assert config.placement_rules()[2].hosts == ("node1",)  # the gpu group expanded


@pytest.mark.parametrize("key", _fields(Config))
def test_example_config_shows_every_key(key: str) -> None:
    text = (EXAMPLES / "cluster.toml").read_text()
    name = key.rsplit(".", 1)[-1]
    assert f"\n{name} = " in text or f"\n# {name} = " in text, (
        f"document {key} in virt_rebalance/examples/cluster.toml"
    )


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((EXAMPLES / "systemd" / name).read_text())
    return parser


@pytest.mark.parametrize(
    ("unit", "command"),
    [("virt-rebalance.service", "run"), ("virt-rebalance-collect.service", "collect")],
    ids=["nightly", "collect"],
)
def test_services_run_commands_that_exist(unit: str, command: str) -> None:
    argv = _unit(unit)["Service"]["ExecStart"].split()
    assert command in argv and command in main.commands
    assert "--config" in argv


def test_nightly_unit_counts_only_real_failures_as_failed() -> None:
    ok = {int(c) for c in _unit("virt-rebalance.service")["Service"]["SuccessExitStatus"].split()}
    assert ok == {ExitCode.NOTHING_TO_DO, ExitCode.LOCKED, ExitCode.OUTSIDE_WINDOW}


@pytest.mark.parametrize("timer", ["virt-rebalance.timer", "virt-rebalance-collect.timer"])
def test_timers_are_installable(timer: str) -> None:
    parsed = _unit(timer)
    assert parsed["Install"]["WantedBy"] == "timers.target"
    assert any(k.startswith("On") for k in parsed["Timer"])
