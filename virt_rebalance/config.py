"""The one TOML config file: hosts, host groups, rules, policy, collection, execution, state directory.

Validated by pydantic; every error names the file, the line and the key. `load_config(path)` is the only
entry point; the rest of the program takes the resulting `Config` value.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from planner.codec import field_path
from planner.errors import ConfigError
from planner.model import PlacementRule
from planner.policy import Budgets, Policy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HostDefaults(_Strict):
    nic_mibps: int = Field(1192, gt=0, description="NIC bandwidth for migrations, MiB/s (10 GbE ~ 1192)")
    reserved_memory_mib: int = Field(1024, ge=0)
    reserved_millicores: int = Field(0, ge=0)
    cpu_overcommit: float = Field(4.0, gt=0)
    memory_overcommit: float = Field(1.0, gt=0)
    cpu_ceiling_pct: int = Field(85, gt=0, le=100)


class HostConfig(_Strict):
    name: str = Field(min_length=1)
    uri: str = Field(min_length=1, description="libvirt URI: qemu+ssh://, qemu+tls://, qemu+unix://")
    migration_uri: str | None = Field(None, description="where the destination listens, e.g. tcp://10.0.0.5")
    nic_mibps: int | None = Field(None, gt=0)
    reserved_memory_mib: int | None = Field(None, ge=0)
    reserved_millicores: int | None = Field(None, ge=0)
    cpu_overcommit: float | None = Field(None, gt=0)
    memory_overcommit: float | None = Field(None, gt=0)
    cpu_ceiling_pct: int | None = Field(None, gt=0, le=100)
    groups: tuple[str, ...] = ()
    exclude: bool = False


class RuleConfig(_Strict):
    kind: Literal["affinity", "anti-affinity", "pin", "avoid"]
    name: str
    vms: tuple[str, ...] = Field(min_length=1)
    hosts: tuple[str, ...] = ()
    host_groups: tuple[str, ...] = ()
    hard: bool = True
    weight: int = Field(10, ge=0)


class PolicyConfig(_Strict):
    cpu_weight: int = Field(1, ge=0)
    memory_weight: int = Field(1, ge=0)
    move_cost_per_gib: float = Field(0.5, ge=0)
    dirty_rate_cost: float = Field(1.0, ge=0)
    min_improvement_pct: float = Field(2.0, ge=0)
    max_migrations: int | None = Field(None, ge=0)
    max_moved_gib: float | None = Field(None, ge=0)
    time_limit_s: float = Field(10.0, gt=0)
    seed: int = 0
    window: str | None = Field(None, description="nightly window, HH:MM-HH:MM local time")

    @field_validator("window")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError("must look like 22:00-05:00")
        return v


class CollectConfig(_Strict):
    interval_s: float = Field(2.0, gt=0, description="seconds between the two CPU readings")
    timeout_s: float = Field(15.0, gt=0, description="per-host timeout")
    dirty_rate_s: int = Field(1, ge=0, description="dirty-rate measurement; 0 skips it")
    history_path: str | None = None
    retention_days: int = Field(14, ge=1)
    window_hours: float = Field(24.0, gt=0)
    storage_migration: bool = False
    shared_paths: tuple[str, ...] = Field(
        (), description="path prefixes of disk storage every host mounts (NFS, cluster FS, SAN)"
    )


class ExecuteConfig(_Strict):
    per_migration_mibps: int = Field(0, ge=0, description="cap per migration, MiB/s; 0 = the schedule's")
    max_outgoing_per_host: int = Field(2, ge=1)
    max_incoming_per_host: int = Field(2, ge=1)
    max_concurrent: int = Field(8, ge=1)
    downtime_limit_ms: int = Field(300, gt=0)
    setup_s: float = Field(
        2.0, ge=0, description="fixed cost of each migration besides its transfer (prepare, start, confirm)"
    )
    stall_timeout_s: float = Field(60.0, gt=0)
    time_limit_factor: float = Field(4.0, gt=1)
    time_limit_floor_s: float = Field(60.0, ge=0, description="no time limit shorter than this, seconds")
    max_plan_age_s: float = Field(3600.0, gt=0)
    failure_policy: Literal["stop", "continue"] = "continue"
    auto_converge: bool = True
    postcopy: bool = False
    tunnelled: bool = False
    peer2peer: bool = True
    paused: bool = False
    change_protection: bool = False
    unsafe: bool = False
    compressed: bool = False
    parallel_connections: int = Field(0, ge=0)
    managed: Literal["peer2peer", "client"] = "peer2peer"
    destination_name: str | None = Field(None, description="new name on the destination; {name} = old name")
    postcopy_after_rounds: int = Field(3, ge=1, description="switch to post-copy after this many rounds")
    poll_interval_s: float = Field(1.0, gt=0, description="seconds between jobStats polls")
    call_timeout_s: float = Field(
        30.0, gt=0, le=3600, description="longest wait for one libvirt call; then the host counts as hung"
    )


class Config(_Strict):
    state_dir: str = "/var/lib/virt-rebalance"
    metrics_dir: str | None = Field(
        None, description="Prometheus textfile directory (node_exporter); default STATE_DIR/metrics"
    )
    keep_runs: int = Field(30, ge=1, description="run directories kept under STATE_DIR/runs")
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


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raises ConfigError naming the file, line and key."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror}") from None
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<config>") -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ConfigError(source, None, f"not valid TOML: {exc}", line=line) from None
    try:
        return Config.model_validate(raw)
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
