"""The one TOML config file: hosts, host groups, rules, policy, collection, execution, state directory.

Validated by pydantic; every error names the file, the line and the key. `load_config(path)` is the only
entry point; the rest of the program takes the resulting `Config` value.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from collectors.settings import CollectSettings, HostSource
from executor.settings import Destination, ExecuteSettings
from planner.codec import field_path
from planner.errors import ConfigError
from planner.model import PlacementRule
from planner.policy import Budgets, Policy

T = TypeVar("T")

# The planner's values hold the defaults of the settings they share with this model (one place each).
_POLICY = Policy()
_BUDGETS = Budgets()


class _Strict(BaseModel):
    # No NaN or infinity anywhere: a NaN limit silently disables the check it sets.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# Bounds no real setting reaches; a larger value is a typo, and 1e308 must not reach the arithmetic.
DAY_S = 86400.0
BIG = 2**32

# libvirt URI schemes: a driver, optionally "+transport" (https://libvirt.org/uri.html).
LIBVIRT_DRIVERS = ("qemu", "test", "lxc", "xen", "libxl", "ch", "bhyve", "vbox", "esx", "vz", "openvz")
LIBVIRT_TRANSPORTS = ("ssh", "libssh", "libssh2", "tls", "tcp", "unix", "ext")
MIGRATION_SCHEMES = ("tcp", "rdma", "unix")


def check_libvirt_uri(uri: str) -> str:
    """A URI libvirt can open (driver[+transport]://...), else ValueError saying which schemes are known."""
    scheme = uri.split(":", 1)[0] if "://" in uri else ""
    driver, _, transport = scheme.partition("+")
    if driver not in LIBVIRT_DRIVERS or (transport and transport not in LIBVIRT_TRANSPORTS):
        raise ValueError(
            f"not a libvirt URI: {scheme or 'no scheme'}:// (use qemu+ssh://, qemu+tls://, qemu+unix:// or qemu://)"
        )
    try:
        urlsplit(uri).port  # noqa: B018 - a bad port raises
    except ValueError as exc:
        raise ValueError(f"not a libvirt URI: {exc}") from None
    return uri


def check_migration_uri(uri: str) -> str:
    """A migration URI QEMU can listen on: tcp://HOST[:PORT], rdma://HOST[:PORT] or unix:///PATH."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - a bad port raises
    except ValueError as exc:
        raise ValueError(f"not a migration URI: {exc}") from None
    if parts.scheme not in MIGRATION_SCHEMES:
        raise ValueError("a migration URI is tcp://HOST[:PORT], rdma://HOST[:PORT] or unix:///PATH")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError(f"{parts.scheme}:// needs a host name or address")
    return uri


class HostDefaults(_Strict):
    nic_mibps: int = Field(
        1192, gt=0, le=BIG, description="NIC bandwidth for migrations, MiB/s (10 GbE ~ 1192)"
    )
    reserved_memory_mib: int = Field(1024, ge=0, le=BIG)
    reserved_millicores: int = Field(0, ge=0, le=BIG)
    cpu_overcommit: float = Field(4.0, gt=0, le=1000)
    memory_overcommit: float = Field(1.0, gt=0, le=1000)
    cpu_ceiling_pct: int = Field(85, gt=0, le=100)
    reserved_storage_mib: int = Field(
        1024, ge=0, description="storage pool space kept free when local disks are copied to a host"
    )


class HostConfig(_Strict):
    name: str = Field(min_length=1)
    uri: str = Field(min_length=1, description="libvirt URI: qemu+ssh://, qemu+tls://, qemu+unix://")
    migration_uri: str | None = Field(None, description="where the destination listens, e.g. tcp://10.0.0.5")
    nic_mibps: int | None = Field(None, gt=0, le=BIG)
    reserved_memory_mib: int | None = Field(None, ge=0, le=BIG)
    reserved_millicores: int | None = Field(None, ge=0, le=BIG)
    cpu_overcommit: float | None = Field(None, gt=0, le=1000)
    memory_overcommit: float | None = Field(None, gt=0, le=1000)
    cpu_ceiling_pct: int | None = Field(None, gt=0, le=100)
    reserved_storage_mib: int | None = Field(None, ge=0)
    groups: tuple[str, ...] = ()
    exclude: bool = False

    @field_validator("uri")
    @classmethod
    def _uri(cls, v: str) -> str:
        return check_libvirt_uri(v)

    @field_validator("migration_uri")
    @classmethod
    def _migration_uri(cls, v: str | None) -> str | None:
        return None if v is None else check_migration_uri(v)


class RuleConfig(_Strict):
    kind: Literal["affinity", "anti-affinity", "pin", "avoid", "ignore"]
    name: str
    vms: tuple[str, ...] = Field(min_length=1)
    hosts: tuple[str, ...] = ()
    host_groups: tuple[str, ...] = ()
    hard: bool = True
    weight: int = Field(10, ge=0, le=BIG)


class PolicyConfig(_Strict):
    cpu_weight: int = Field(1, ge=0, le=1000)
    memory_weight: int = Field(1, ge=0, le=1000)
    threshold: int = Field(3, ge=1, le=5)
    band_pct: float | None = Field(None, ge=0, le=100)
    move_cost_per_gib: float | None = Field(None, ge=0, le=1e6)
    dirty_rate_cost: float = Field(1.0, ge=0, le=1e6)
    min_improvement_pct: float = Field(2.0, ge=0, le=100)
    max_migrations: int | None = Field(None, ge=0, le=BIG)
    max_moved_gib: float | None = Field(None, ge=0, le=BIG)
    time_limit_s: float = Field(_POLICY.time_limit_s, gt=0, le=DAY_S)
    seed: int = Field(_POLICY.seed, ge=0, le=2**31 - 1)
    window: str | None = Field(None, description="nightly window, HH:MM-HH:MM local time")
    automation: Literal["full", "approved"] = Field(
        "full",
        description='"full": the nightly run carries out its own plan; "approved": only a plan approved '
        "with `virt-rebalance approve RUN_ID` (held by `run --plan-only` or by a run without one)",
    )

    @field_validator("window")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError("must look like 22:00-05:00")
        return v


class CollectConfig(_Strict):
    interval_s: float = Field(2.0, gt=0, le=3600, description="seconds between the two CPU readings")
    timeout_s: float = Field(15.0, gt=0, le=3600, description="per-host timeout")
    dirty_rate_s: int = Field(1, ge=0, le=3600, description="dirty-rate measurement; 0 skips it")
    history_path: str | None = None
    retention_days: int = Field(14, ge=1, le=36600)
    window_hours: float = Field(24.0, gt=0, le=24 * 36600)
    min_samples: int = Field(
        12,
        ge=0,
        le=10**7,
        description="the nightly run plans only on this many usage samples per guest or more",
    )
    storage_migration: bool = False
    shared_paths: tuple[str, ...] = Field(
        (), description="directories of disk storage every host mounts (NFS, cluster FS, SAN)"
    )
    storage_pool: str = Field(
        "default", description="each host's libvirt storage pool where copied local disks are created"
    )


class ExecuteConfig(_Strict):
    per_migration_mibps: int = Field(
        _BUDGETS.per_migration_mibps, ge=0, le=BIG, description="cap per migration, MiB/s; 0 = the schedule's"
    )
    max_outgoing_per_host: int = Field(_BUDGETS.max_outgoing_per_host, ge=1, le=1000)
    max_incoming_per_host: int = Field(_BUDGETS.max_incoming_per_host, ge=1, le=1000)
    max_concurrent: int = Field(_BUDGETS.max_concurrent, ge=1, le=10000)
    downtime_limit_ms: int = Field(_BUDGETS.downtime_limit_ms, gt=0, le=3_600_000)
    setup_s: float = Field(
        _BUDGETS.setup_s,
        ge=0,
        le=3600,
        description="fixed cost of each migration besides its transfer (prepare, start, confirm)",
    )
    stall_timeout_s: float = Field(60.0, gt=0, le=DAY_S)
    time_limit_factor: float = Field(4.0, gt=1, le=1000)
    time_limit_floor_s: float = Field(
        60.0, ge=0, le=DAY_S, description="no time limit shorter than this, seconds"
    )
    max_plan_age_s: float = Field(3600.0, gt=0, le=366 * DAY_S)
    failure_policy: Literal["stop", "continue"] = "continue"
    on_interrupt: Literal["finish", "abort"] = Field(
        "finish", description="on SIGTERM/SIGINT: let running migrations finish, or abort them"
    )
    auto_converge: bool = _BUDGETS.auto_converge
    postcopy: bool = False
    tunnelled: bool = False
    peer2peer: bool = True
    paused: bool = False
    change_protection: bool = False
    unsafe: bool = False
    compressed: bool = False
    parallel_connections: int = Field(0, ge=0, le=256)
    managed: Literal["peer2peer", "client"] = "peer2peer"
    destination_name: str | None = Field(None, description="new name on the destination; {name} = old name")
    postcopy_after_rounds: int = Field(
        3, ge=1, le=1000, description="switch to post-copy after this many rounds"
    )
    poll_interval_s: float = Field(1.0, gt=0, le=60, description="seconds between jobStats polls")
    call_timeout_s: float = Field(
        30.0, gt=0, le=3600, description="longest wait for one libvirt call; then the host counts as hung"
    )
    remove_source_disks: bool = Field(
        False, description="delete a copied local disk's source image once the guest runs on the destination"
    )
    wait_for_others_s: float = Field(
        1800.0,
        ge=0,
        le=DAY_S,
        description="longest a move waits for migrations not started by this run to free its hosts' budgets",
    )

    @field_validator("destination_name")
    @classmethod
    def _destination_name(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            named = v.format(name="guest")
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ValueError(f"may use only {{name}} (the guest's name), not {exc}") from None
        if not named.strip() or "/" in named or len(named) > 200:
            raise ValueError("must give a name without '/' of at most 200 characters")
        return v


class Config(_Strict):
    state_dir: str = "/var/lib/virt-rebalance"
    metrics_dir: str | None = Field(
        None, description="Prometheus textfile directory (node_exporter); default STATE_DIR/metrics"
    )
    keep_runs: int = Field(30, ge=1, le=100_000, description="run directories kept under STATE_DIR/runs")
    readiness_max_hosts: int = Field(
        50,
        ge=0,
        le=BIG,
        description="the nightly run says which hosts could be emptied when there are at most this many "
        "(one short evacuation plan each, about 2 CPU-s per host); 0: never",
    )
    defaults: HostDefaults = HostDefaults()
    hosts: tuple[HostConfig, ...] = Field(min_length=1)
    host_groups: dict[str, tuple[str, ...]] = {}
    rules: tuple[RuleConfig, ...] = ()
    policy: PolicyConfig = PolicyConfig()
    collect: CollectConfig = CollectConfig()
    execute: ExecuteConfig = ExecuteConfig()

    @model_validator(mode="after")
    def _names(self) -> Config:
        names = [h.name for h in self.hosts]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"host names must be unique: {', '.join(sorted(dup))}")
        known = set(names)
        for group, members in self.host_groups.items():
            if unknown := set(members) - known:
                raise ValueError(f"host group {group!r} names unknown hosts: {', '.join(sorted(unknown))}")
        for rule in self.rules:
            if unknown := set(rule.host_groups) - set(self.host_groups) - self._implicit_groups():
                raise ValueError(
                    f"rule {rule.name!r} names unknown host groups: {', '.join(sorted(unknown))}"
                )
            if unknown := set(rule.hosts) - known:
                raise ValueError(f"rule {rule.name!r} names unknown hosts: {', '.join(sorted(unknown))}")
            if rule.kind in ("pin", "avoid") and not (rule.hosts or rule.host_groups):
                raise ValueError(f"rule {rule.name!r} ({rule.kind}) needs hosts or host_groups")
        return self

    def _implicit_groups(self) -> set[str]:
        return {g for h in self.hosts for g in h.groups}

    def group_members(self, group: str) -> tuple[str, ...]:
        members = set(self.host_groups.get(group, ()))
        members |= {h.name for h in self.hosts if group in h.groups}
        return tuple(sorted(members))

    def host(self, name: str) -> HostConfig:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def placement_rules(self) -> tuple[PlacementRule, ...]:
        out = []
        for r in self.rules:
            if r.kind == "ignore":
                continue  # pins to each guest's current host, made per snapshot (jobs/guest_rules.py)
            hosts = set(r.hosts)
            for g in r.host_groups:
                hosts |= set(self.group_members(g))
            out.append(PlacementRule(r.kind, r.name, r.vms, tuple(sorted(hosts)), r.hard, r.weight))
        return tuple(out)

    def policy_value(self, evacuate: tuple[str, ...] = ()) -> Policy:
        p = self.policy
        return Policy(
            cpu_weight=p.cpu_weight,
            memory_weight=p.memory_weight,
            threshold=p.threshold,
            band_pct=p.band_pct,
            move_cost_per_gib=p.move_cost_per_gib,
            dirty_rate_cost=p.dirty_rate_cost,
            min_improvement_pct=p.min_improvement_pct,
            max_migrations=p.max_migrations,
            max_moved_mib=None if p.max_moved_gib is None else int(p.max_moved_gib * 1024),
            time_limit_s=p.time_limit_s,
            seed=p.seed,
            evacuate=evacuate,
            exclude=tuple(h.name for h in self.hosts if h.exclude),
        )

    def collect_settings(self) -> CollectSettings:
        c = self.collect
        return CollectSettings(
            hosts=tuple(self._source(h) for h in self.hosts),
            rules=self.placement_rules(),
            state_dir=self.state_dir,
            interval_s=c.interval_s,
            timeout_s=c.timeout_s,
            dirty_rate_s=c.dirty_rate_s,
            history_path=c.history_path,
            retention_days=c.retention_days,
            storage_migration=c.storage_migration,
            shared_paths=c.shared_paths,
            storage_pool=c.storage_pool,
        )

    def _source(self, h: HostConfig) -> HostSource:
        d = self.defaults
        return HostSource(
            name=h.name,
            uri=h.uri,
            migration_uri=h.migration_uri,
            reserved_memory_mib=_or(h.reserved_memory_mib, d.reserved_memory_mib),
            reserved_millicores=_or(h.reserved_millicores, d.reserved_millicores),
            cpu_overcommit=_or(h.cpu_overcommit, d.cpu_overcommit),
            memory_overcommit=_or(h.memory_overcommit, d.memory_overcommit),
            cpu_ceiling_pct=_or(h.cpu_ceiling_pct, d.cpu_ceiling_pct),
            nic_mibps=_or(h.nic_mibps, d.nic_mibps),
            reserved_storage_mib=_or(h.reserved_storage_mib, d.reserved_storage_mib),
            excluded=h.exclude,
            groups=tuple(sorted(set(h.groups) | {g for g, m in self.host_groups.items() if h.name in m})),
        )

    def execute_settings(self) -> ExecuteSettings:
        e = self.execute
        return ExecuteSettings(
            hosts=tuple(
                Destination(name=h.name, uri=h.uri, migration_uri=h.migration_uri) for h in self.hosts
            ),
            state_dir=self.state_dir,
            managed=e.managed,
            peer2peer=e.peer2peer,
            tunnelled=e.tunnelled,
            postcopy=e.postcopy,
            paused=e.paused,
            change_protection=e.change_protection,
            unsafe=e.unsafe,
            compressed=e.compressed,
            parallel_connections=e.parallel_connections,
            destination_name=e.destination_name,
            poll_interval_s=e.poll_interval_s,
            call_timeout_s=e.call_timeout_s,
            stall_timeout_s=e.stall_timeout_s,
            time_limit_factor=e.time_limit_factor,
            time_limit_floor_s=e.time_limit_floor_s,
            postcopy_after_rounds=e.postcopy_after_rounds,
            max_plan_age_s=e.max_plan_age_s,
            failure_policy=e.failure_policy,
            remove_source_disks=e.remove_source_disks,
            wait_for_others_s=e.wait_for_others_s,
        )

    def budgets(self) -> Budgets:
        e = self.execute
        return Budgets(
            per_migration_mibps=e.per_migration_mibps,
            max_outgoing_per_host=e.max_outgoing_per_host,
            max_incoming_per_host=e.max_incoming_per_host,
            max_concurrent=e.max_concurrent,
            downtime_limit_ms=e.downtime_limit_ms,
            setup_s=e.setup_s,
            auto_converge=e.auto_converge,
            host_nic_mibps={h.name: h.nic_mibps or self.defaults.nic_mibps for h in self.hosts},
        )


def _or(value: T | None, default: T) -> T:
    return default if value is None else value


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raises ConfigError naming the file, line and key."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            str(path),
            None,
            f"no such file; write one with `virt-rebalance config init -o {path}` "
            "or point --config (or $VIRT_REBALANCE_CONFIG) at yours",
        ) from None
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(str(path), None, f"not UTF-8 text (byte {exc.start})", line=line) from None
    if "\0" in text:
        raise ConfigError(
            str(path), None, "a binary file, not TOML text", line=text[: text.index("\0")].count("\n") + 1
        )
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<config>") -> Config:
    try:
        raw = tomllib.loads(text)
    except RecursionError:
        raise ConfigError(source, None, "nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ConfigError(source, None, f"not valid TOML: {exc}", line=line) from None
    except ValueError as exc:  # a number of thousands of digits
        raise ConfigError(source, None, f"not valid TOML: {exc}") from None
    try:
        return Config.model_validate(raw)
    except RecursionError:
        raise ConfigError(source, None, "nested too deeply") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(
            source, field_path(loc) if loc else None, msg + more, line=locate(text, loc)
        ) from None


def _toml_error_line(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def locate(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line number of a key path in TOML text: follows [table] / [[array]] headers and keys."""
    lines = text.splitlines()
    start, key, found = 0, None, False
    i = 0
    while i < len(loc):
        part = loc[i]
        if isinstance(part, str) and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            index = int(loc[i + 1])
            headers = [n for n, line in enumerate(lines) if line.strip() == f"[[{part}]]"]
            if index < len(headers):
                start, found = headers[index], True
            i += 2
            continue
        if isinstance(part, str):
            header = next((n for n, line in enumerate(lines) if line.strip() == f"[{part}]"), None)
            if header is not None and i + 1 < len(loc):
                start, found = header, True
                i += 1
                continue
            key = part
        i += 1
    if key is None:
        return start + 1 if found else None
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for n in range(start, len(lines)):
        if pattern.match(lines[n]):
            return n + 1
    return start + 1 if found else None
