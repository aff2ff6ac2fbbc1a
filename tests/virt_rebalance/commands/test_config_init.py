"""`virt-rebalance config init`: a commented config that loads, for the hosts given."""

from __future__ import annotations

import re
import socket
from importlib import resources

import pytest
from click.testing import CliRunner

from virt_rebalance.cli import main
from virt_rebalance.commands.config_init import render
from virt_rebalance.config import load_config


@pytest.mark.parametrize(
    ("args", "hosts"),
    [
        (
            ["--hosts", "a,b,c", "--uri", "qemu+ssh://root@{host}/system"],
            [
                ("a", "qemu+ssh://root@a/system"),
                ("b", "qemu+ssh://root@b/system"),
                ("c", "qemu+ssh://root@c/system"),
            ],
        ),
        (["--hosts", "n1, n2"], [("n1", "qemu+ssh://root@n1/system"), ("n2", "qemu+ssh://root@n2/system")]),
        ([], [(socket.gethostname(), "qemu:///system")]),
    ],
    ids=["hosts-and-uri", "default-uri", "this-machine"],
)
def test_writes_a_config_that_loads(tmp_path, args, hosts) -> None:
    out = tmp_path / "etc" / "cluster.toml"
    result = CliRunner().invoke(main, ["config", "init", "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    assert f"next: virt-rebalance config check --config {out}" in result.output
    config = load_config(out)
    assert [(h.name, h.uri) for h in config.hosts] == hosts
    assert config.policy.window == "22:00-05:00"  # the scheduled nightly run follows it
    assert not config.rules and not config.host_groups


def test_every_key_of_the_example_is_there_with_its_comment() -> None:
    example = resources.files("virt_rebalance").joinpath("examples/cluster.toml").read_text()
    written = render(["a"], None)
    first = dict(reversed(re.findall(r"^(\w+) = [^#\n]*#\s*(.*)$", example, re.M)))
    for key, comment in first.items():
        if key not in ("name", "uri", "migration_uri", "groups", "exclude"):
            assert re.search(rf"^(# )?{key} = .*{re.escape(comment)}", written, re.M), key
    assert "node1" not in written and "example.net" not in written


def test_an_existing_file_is_kept_unless_forced(tmp_path) -> None:
    out = tmp_path / "cluster.toml"
    out.write_text("# mine\n")
    kept = CliRunner().invoke(main, ["config", "init", "-o", str(out)])
    assert kept.exit_code == 2 and "exists" in kept.output and out.read_text() == "# mine\n"
    forced = CliRunner().invoke(main, ["config", "init", "-o", str(out), "--force", "--hosts", "x"])
    assert forced.exit_code == 0 and 'name = "x"' in out.read_text()


def test_dash_prints_it() -> None:
    result = CliRunner().invoke(main, ["config", "init", "-o", "-", "--hosts", "x"])
    assert result.exit_code == 0 and result.output.startswith("# virt-rebalance cluster config")
