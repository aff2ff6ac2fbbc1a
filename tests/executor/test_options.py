"""[execute] config -> libvirt migrate flags, typed parameters and which API is called."""

from __future__ import annotations

from dataclasses import replace

import libvirt
import pytest

from executor.options import check_options, migrate_call, migration_flags
from executor.settings import Destination, ExecuteSettings
from planner.errors import ConfigError
from planner.policy import Budgets
from tests.builders import make_migration
from virt_rebalance.config import Config, ExecuteConfig, HostConfig

L = libvirt
DEFAULT = (
    L.VIR_MIGRATE_LIVE
    | L.VIR_MIGRATE_PEER2PEER
    | L.VIR_MIGRATE_PERSIST_DEST
    | L.VIR_MIGRATE_UNDEFINE_SOURCE
    | L.VIR_MIGRATE_AUTO_CONVERGE
)
DEST = Destination(name="h2", uri="qemu+ssh://h2/system", migration_uri="tcp://10.0.0.2")
MOVE = make_migration(bandwidth_mibps=300)


def _config(**execute: object) -> Config:
    host = HostConfig(name=DEST.name, uri=DEST.uri, migration_uri=DEST.migration_uri)
    return Config(hosts=(host,), execute=ExecuteConfig(**execute))


def settings(**execute: object) -> ExecuteSettings:
    """The executor's settings from a config with these [execute] keys."""
    return _config(**execute).execute_settings()


def budgets(**execute: object) -> Budgets:
    """The budgets a plan made with a config with these [execute] keys carries."""
    return _config(**execute).budgets()


@pytest.mark.parametrize(
    ("options", "flags"),
    [
        ({}, DEFAULT),
        ({"auto_converge": False}, DEFAULT & ~L.VIR_MIGRATE_AUTO_CONVERGE),
        ({"postcopy": True}, DEFAULT | L.VIR_MIGRATE_POSTCOPY),
        ({"tunnelled": True}, DEFAULT | L.VIR_MIGRATE_TUNNELLED),
        ({"paused": True}, DEFAULT | L.VIR_MIGRATE_PAUSED),
        ({"change_protection": True}, DEFAULT | L.VIR_MIGRATE_CHANGE_PROTECTION),
        ({"unsafe": True}, DEFAULT | L.VIR_MIGRATE_UNSAFE),
        ({"compressed": True}, DEFAULT | L.VIR_MIGRATE_COMPRESSED),
        ({"parallel_connections": 4}, DEFAULT | L.VIR_MIGRATE_PARALLEL),
        ({"managed": "client"}, DEFAULT & ~L.VIR_MIGRATE_PEER2PEER),
        ({"managed": "client", "peer2peer": False}, DEFAULT & ~L.VIR_MIGRATE_PEER2PEER),
    ],
    ids=[
        "defaults", "no-auto-converge", "postcopy", "tunnelled", "paused", "change-protection", "unsafe",
        "compressed", "parallel", "client-managed", "client-no-p2p",
    ],
)  # fmt: skip
def test_option_sets_flag(options: dict, flags: int) -> None:
    execute = settings(**options)
    check_options(execute)
    assert migration_flags(execute, budgets(**options)) == flags


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"tunnelled": True, "peer2peer": False, "managed": "client"}, "execute.tunnelled"),
        ({"tunnelled": True, "managed": "client"}, "execute.tunnelled"),
        ({"tunnelled": True, "parallel_connections": 2}, "execute.parallel_connections"),
        ({"peer2peer": False}, "execute.peer2peer"),
    ],
    ids=["tunnelled-needs-p2p", "tunnelled-not-client", "tunnelled-not-parallel", "no-p2p-needs-client"],
)
def test_invalid_combination_names_the_key(options: dict, key: str) -> None:
    with pytest.raises(ConfigError) as exc:
        check_options(settings(**options))
    assert exc.value.field == key


@pytest.mark.parametrize(
    ("options", "words"),
    [({"unsafe": True}, "unsafe"), ({"paused": True}, "paused"), ({}, None)],
    ids=["unsafe-warns", "paused-warns", "defaults-quiet"],
)
def test_risky_options_warn(options: dict, words: str | None) -> None:
    warnings = check_options(settings(**options))
    assert (words in " ".join(warnings)) if words else warnings == []


@pytest.mark.parametrize(
    ("options", "params"),
    [
        ({}, {"migrate_uri": "tcp://10.0.0.2", "bandwidth": 300}),
        ({"per_migration_mibps": 100}, {"migrate_uri": "tcp://10.0.0.2", "bandwidth": 100}),
        ({"per_migration_mibps": 500}, {"migrate_uri": "tcp://10.0.0.2", "bandwidth": 300}),
        ({"tunnelled": True}, {"bandwidth": 300}),
        (
            {"destination_name": "{name}-new", "parallel_connections": 4},
            {
                "migrate_uri": "tcp://10.0.0.2",
                "bandwidth": 300,
                "destination_name": "web-new",
                "parallel.connections": 4,
            },
        ),
    ],
    ids=["uri-and-bandwidth", "config-cap-lower", "schedule-lower", "tunnelled-no-uri", "new-name-parallel"],
)
def test_typed_params(options: dict, params: dict) -> None:
    call = migrate_call(MOVE, settings(**options), budgets(**options), DEST)
    assert call.params == params
    assert call.dconnuri == "qemu+ssh://h2/system"


def test_missing_migration_uri_is_named() -> None:
    with pytest.raises(ConfigError) as exc:
        migrate_call(MOVE, settings(), Budgets(), replace(DEST, migration_uri=None))
    assert exc.value.field == "hosts[h2].migration_uri"


def test_client_mode_reads_uri_name_and_bandwidth() -> None:
    call = migrate_call(MOVE, settings(managed="client", destination_name="{name}2"), Budgets(), DEST)
    assert (call.mode, call.uri, call.dname, call.bandwidth_mibps) == (
        "client",
        "tcp://10.0.0.2",
        "web2",
        300,
    )
