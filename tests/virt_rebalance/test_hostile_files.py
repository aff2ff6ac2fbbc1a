"""Hostile files at the three loaders and at `plan` / `apply --dry-run`: each ends in a result or a clean
error naming the file (exit 1 or 2 with a message), never a traceback, never more than a few seconds."""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.codec import cluster_from_json, cluster_to_json, plan_from_json, plan_to_json
from planner.errors import ConfigError, InputError, PlanFileError, SnapshotError
from tests.virt_rebalance.fakes import CONFIG
from tests.virt_rebalance.sample import sample_cluster, sample_plan
from virt_rebalance.cli import main
from virt_rebalance.config import load_config, parse_config

SECONDS = 5.0
HOSTILE: list[Any] = [
    None, True, -1, 0, 10**30, -(10**30), 1e308, -1e308, 0.5, "", "h1", "x" * 5000, "{0}{nope}",
    [], {}, [None], {"schema_version": 1}, "NaN", "Infinity", 2**63, "u-web-1",
]  # fmt: skip
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as a path of keys and indexes."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> str:
    """`base` with one to three places replaced by a hostile value, a copy of a sibling, or removed; sometimes
    raw NaN/Infinity or a deep nesting in the text."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "remove", "duplicate", "swap"]))
        last = path[-1]
        if action == "replace":
            parent[last] = draw(st.sampled_from(HOSTILE))
        elif action == "remove":
            del parent[last]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif action == "swap" and isinstance(parent, dict) and len(parent) > 1:
            other = draw(st.sampled_from(sorted(parent, key=str)))
            parent[last], parent[other] = parent[other], parent[last]
    text = json.dumps(doc)
    tail = draw(st.sampled_from(["", "nan", "inf", "deep"]))
    if tail == "nan":
        text = text.replace("0.0", "NaN", 1)
    elif tail == "inf":
        text = text.replace("0.0", "Infinity", 1)
    elif tail == "deep":
        text = text.replace('"notes": []', '"notes": ' + "[" * 100_000 + "]" * 100_000, 1)
    return text


SNAPSHOT = json.loads(cluster_to_json(sample_cluster()))
PLAN = json.loads(plan_to_json(sample_plan()))


def _loads_or_names_the_file(load: Any, text: str, error: type[InputError]) -> None:
    started = time.monotonic()
    try:
        load(text, "f.json")
    except error as exc:
        assert str(exc).startswith("f.json")
    assert time.monotonic() - started < SECONDS


@SETTINGS
@given(text=mutated(SNAPSHOT))
def test_snapshot_loader(text: str) -> None:
    _loads_or_names_the_file(cluster_from_json, text, SnapshotError)


@SETTINGS
@given(text=mutated(PLAN))
def test_plan_loader(text: str) -> None:
    _loads_or_names_the_file(plan_from_json, text, PlanFileError)


CONFIG_LINES = [
    *CONFIG.format(state="/tmp/state").strip().splitlines(),
    "[policy]", "time_limit_s = 1", "[execute]", "poll_interval_s = 0.5", 'destination_name = "{name}-new"',
]  # fmt: skip
CONFIG_VALUES = [
    "inf", "nan", "-inf", "1e308", "-1", "0", '"{0}{nope}"', '"http://h1/"', '"qemu+ssh://a:b@h:99999/"',
    '"tcp://"', "[[[[[[[[]]]]]]]]", '"\\u0000"', "true", '"x"', "1" * 5000,
]  # fmt: skip


@st.composite
def config_text(draw: st.DrawFn) -> bytes:
    """The test config with values replaced, lines dropped or doubled, or bytes that are not UTF-8."""
    lines = list(CONFIG_LINES)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["value", "drop", "double"]))
        if action == "value" and "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + draw(st.sampled_from(CONFIG_VALUES))
        elif action == "drop":
            del lines[i]
        elif action == "double":
            lines.insert(i, lines[i])
    raw = ("\n".join(lines) + "\n").encode()
    garbage = draw(st.sampled_from([b"", b"\xff\xfe", b"\x00\x01", b"a = " + b"[" * 5000]))
    return raw + garbage


@SETTINGS
@given(raw=config_text())
def test_config_loader(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(raw)
    started = time.monotonic()
    try:
        load_config(path)
    except ConfigError as exc:
        assert str(exc).startswith(str(path))
    assert time.monotonic() - started < SECONDS


def _clean(result: Any) -> None:
    """An exit 0-4 and no Python exception other than the exit itself."""
    assert result.exit_code in (0, 1, 2, 3, 4), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code in (1, 2):
        assert "error" in result.output.lower() or "usage" in result.output.lower()


@pytest.fixture(scope="module")
def cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "c.toml"
    path.write_text("\n".join(CONFIG_LINES).replace("/tmp/state", str(path.parent / "state")) + "\n")
    parse_config(path.read_text())
    return path


def _runs_cleanly(config: Path, text: str, args: list[str], seconds: float) -> None:
    """The command with `text` as its input file ends cleanly, in time."""
    path = config.parent / "input.json"
    path.write_text(text)
    started = time.monotonic()
    command, *options = args
    result = CliRunner().invoke(main, [command, "--config", str(config), *options, str(path)])
    _clean(result)
    if result.exit_code == 2:  # bad input: the message names the file
        assert str(path) in result.output
    assert time.monotonic() - started < seconds


@settings(SETTINGS, max_examples=25)
@given(text=mutated(SNAPSHOT))
def test_plan_command(cli_config: Path, text: str) -> None:
    # A hang is what this catches (10^30 MiB once did); planning itself takes time_limit_s and, on a
    # machine shared by many test runs, far more than that.
    _runs_cleanly(cli_config, text, ["plan", "--snapshot"], 12 * SECONDS)


@settings(SETTINGS, max_examples=40)
@given(text=mutated(PLAN))
def test_apply_dry_run(cli_config: Path, text: str) -> None:
    _runs_cleanly(cli_config, text, ["apply", "--dry-run"], SECONDS)


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_plan_output_into_a_missing_directory_is_a_clean_error(cli_config: Path, fmt: str) -> None:
    snapshot = cli_config.parent / "good.json"
    snapshot.write_text(cluster_to_json(sample_cluster()))
    out = cli_config.parent / "missing" / "plan.out"
    result = CliRunner().invoke(
        main,
        ["plan", "--config", str(cli_config), "--snapshot", str(snapshot), "--format", fmt, "-o", str(out)],
    )
    assert result.exit_code == 1, result.output
    assert f"cannot write {out}: its directory does not exist" in result.output


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p["migrations"][0].update(bandwidth_mibps=-1), "migrations[0].bandwidth_mibps"),
        (lambda p: p["migrations"][0].update(destination=p["migrations"][0]["source"]), "migrations[0]"),
        (lambda p: p["migrations"][0].update(depends_on=["m2"]), "migrations"),
        (lambda p: p["migrations"][1].update(id="m1"), "migrations"),
        (lambda p: p["migrations"][0].update(destination="nowhere"), "migrations[0]"),
        (lambda p: p["snapshot"]["vms"].append(dict(p["snapshot"]["vms"][0], host="h2")), "snapshot.vms[5].uuid"),
        (lambda p: p["snapshot"]["vms"][0].update(host="h9"), "snapshot.vms[0].host"),
        (lambda p: p["snapshot"]["hosts"][0].update(memory_mib=10**30), "snapshot.hosts[0].memory_mib"),
    ],
    ids=["negative-bandwidth", "to-itself", "cycle", "duplicate-id", "unknown-host", "guest-on-two-hosts",
         "guest-on-unknown-host", "huge-memory"],
)  # fmt: skip
def test_plan_file_problems_name_the_field(change: Any, field: str) -> None:
    doc = copy.deepcopy(PLAN)
    change(doc)
    with pytest.raises(PlanFileError, match=re.escape(f"p.json: {field}: ")):
        plan_from_json(json.dumps(doc), "p.json")


def test_nan_estimate_is_refused() -> None:
    text = json.dumps(PLAN).replace('"estimated_s": 10.0', '"estimated_s": NaN', 1)
    with pytest.raises(PlanFileError, match="NaN is not a number a file may hold"):
        plan_from_json(text, "p.json")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("poll_interval_s = inf", "execute.poll_interval_s"),
        ("stall_timeout_s = 1e308", "execute.stall_timeout_s"),
        ('destination_name = "{0}{nope}"', "may use only {name}"),
    ],
)
def test_config_values_are_bounded(tmp_path: Path, line: str, words: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(state=tmp_path) + "[execute]\n" + line + "\n")
    with pytest.raises(InputError, match=re.escape(words)):
        load_config(path)


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ('uri = "http://h1/"', "not a libvirt URI: http://"),
        ('migration_uri = "tcp://"', "needs a host name"),
        ('migration_uri = "tcp://h1:99999"', "not a migration URI"),
    ],
)
def test_uris_are_checked(tmp_path: Path, uri: str, words: str) -> None:
    key = uri.split(" ")[0]
    text = CONFIG.format(state=tmp_path)
    first = next(line for line in text.splitlines() if line.startswith(key + " "))
    path = tmp_path / "c.toml"
    path.write_text(text.replace(first, uri, 1))
    with pytest.raises(ConfigError, match=words):
        load_config(path)


def test_a_binary_config_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b'state_dir = "/x"\n\xff\xfe\x00')
    with pytest.raises(ConfigError, match=r"c.toml:2: not UTF-8 text"):
        load_config(path)
