"""Config errors name the file, the key and the line; good values turn into the planner's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.uri import redact_uri
from planner.errors import ConfigError
from virt_rebalance.config import load_config, parse_config

HOSTS = """\
state_dir = "/tmp/state"

[[hosts]]
name = "h1"
uri = "qemu+ssh://h1/system"
groups = ["rack-a"]

[[hosts]]
name = "h2"
uri = "qemu+ssh://h2/system"
"""


@pytest.mark.parametrize(
    ("extra", "field", "words", "line"),
    [
        ('[[hosts]]\nname = "h1"\nuri = "qemu:///system"\n', None, "host names must be unique: h1", None),
        ("[host_groups]\nrack-b = [\"h1\", \"h9\"]\n", None, "host group 'rack-b' names unknown hosts: h9", None),
        (
            '[[rules]]\nkind = "pin"\nname = "db"\nvms = ["db1"]\nhost_groups = ["nowhere"]\n',
            None,
            "rule 'db' names unknown host groups: nowhere",
            None,
        ),
        (
            '[[rules]]\nkind = "avoid"\nname = "web"\nvms = ["w1"]\nhosts = ["h7"]\n',
            None,
            "rule 'web' names unknown hosts: h7",
            None,
        ),
        (
            '[[rules]]\nkind = "pin"\nname = "db"\nvms = ["db1"]\n',
            None,
            "rule 'db' (pin) needs hosts or host_groups",
            None,
        ),
        ("[execute]\nmax_concurrent = 0\n", "execute.max_concurrent", "greater than or equal to 1", 13),
        ("[policy]\nwindow = \"22h-5h\"\n", "policy.window", "must look like 22:00-05:00", 13),
        ("[execute]\nfailure_policy = \"retry\"\n", "execute.failure_policy", "'stop' or 'continue'", 13),
        ("[collect]\nbogus = 1\n", "collect.bogus", "Extra inputs are not permitted", 13),
        ("[policy]\nautomation = \"manual\"\n", "policy.automation", "'full' or 'approved'", 13),
        ("[policy]\nautomation = true\n", "policy.automation", "'full' or 'approved'", 13),
    ],
    ids=[
        "duplicate-host", "group-unknown-host", "rule-unknown-group", "rule-unknown-host", "pin-without-hosts",
        "below-minimum", "bad-window", "bad-literal", "unknown-key", "bad-automation", "automation-not-text",
    ],
)  # fmt: skip
def test_bad_values_name_the_key_and_line(
    extra: str, field: str | None, words: str, line: int | None
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(HOSTS + "\n" + extra, "site.toml")
    err = info.value
    assert words in err.problem
    assert err.field == field
    if line is not None:
        assert err.line == line and str(err).startswith(f"site.toml:{line}: ")


def test_second_host_error_points_at_its_own_table() -> None:
    text = HOSTS + "cpu_ceiling_pct = 101\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    assert info.value.field == "hosts[1].cpu_ceiling_pct"
    assert info.value.line == text.splitlines().index("cpu_ceiling_pct = 101") + 1


def test_several_problems_are_counted() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(HOSTS + "\n[execute]\nmax_concurrent = 0\nmax_incoming_per_host = 0\n")
    assert "(and 1 more problem(s))" in info.value.problem


def test_broken_toml_gives_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(HOSTS + "\n[policy\n", "site.toml")
    assert "not valid TOML" in info.value.problem and info.value.line == 12


def test_missing_file_says_how_to_write_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "absent.toml")
    assert info.value.problem.startswith("no such file; write one with `virt-rebalance config init -o ")
    assert info.value.source.endswith("absent.toml")


def test_groups_from_hosts_and_tables_expand_into_rule_hosts() -> None:
    text = HOSTS + (
        '\n[host_groups]\nspare = ["h2"]\n'
        '\n[[rules]]\nkind = "pin"\nname = "db"\nvms = ["db1"]\nhost_groups = ["rack-a", "spare"]\nhard = false\n'
    )
    config = parse_config(text)
    (rule,) = config.placement_rules()
    assert (rule.kind, rule.name, rule.vms, rule.hosts, rule.hard) == (
        "pin",
        "db",
        ("db1",),
        ("h1", "h2"),
        False,
    )
    assert config.group_members("rack-a") == ("h1",)
    assert config.host("h2").uri == "qemu+ssh://h2/system"
    with pytest.raises(KeyError):
        config.host("h9")


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("qemu+ssh://root:secret@h1/system", "qemu+ssh://root@h1/system"),
        ("qemu+tls://h1/system", "qemu+tls://h1/system"),
        ("qemu+ssh://[::1/system", "<unparseable uri>"),
    ],
    ids=["password-dropped", "no-password", "unparseable"],
)
def test_redact_uri(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown
