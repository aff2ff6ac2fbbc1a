"""Terminal output: rich tables and progress on a terminal, plain lines otherwise, JSON logs on request."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console

_state: dict[str, Any] = {"quiet": False, "verbose": False, "log_json": False}
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def configure(quiet: bool = False, verbose: bool = False, log_json: bool = False) -> None:
    _state.update(quiet=quiet, verbose=verbose, log_json=log_json)


def is_terminal() -> bool:
    return sys.stdout.isatty()


def is_quiet() -> bool:
    return bool(_state["quiet"])


def is_log_json() -> bool:
    return bool(_state["log_json"])


def _log(level: str, message: str, **fields: Any) -> None:
    if _state["log_json"]:
        record = {"ts": round(time.time(), 3), "level": level, "msg": message, **fields}
        print(json.dumps(record, default=str), file=sys.stderr, flush=True)
        return
    prefix = {"error": "error: ", "warning": "warning: "}.get(level, "")
    err_console.print(f"{prefix}{message}", markup=False, soft_wrap=True)


def error(message: str, **fields: Any) -> None:
    _log("error", message, **fields)


def warning(message: str, **fields: Any) -> None:
    _log("warning", message, **fields)


def info(message: str, **fields: Any) -> None:
    if not _state["quiet"]:
        _log("info", message, **fields)


def debug(message: str, **fields: Any) -> None:
    if _state["verbose"]:
        _log("debug", message, **fields)
