"""Terminal output and logs: rich tables and progress on a terminal, plain lines otherwise.

Log lines go through the standard logging module (logger "virt_rebalance") to stderr, in one of three
forms: plain ("warning: ..."), JSON objects with `--log-json` (ts, level, msg and the record's fields,
e.g. migration, guest, source, destination, duration_s, bytes, outcome), and under systemd (stderr is the
journal: $JOURNAL_STREAM) either form behind a `<N>` prefix that journald reads as the priority
(3 error, 4 warning, 6 info, 7 debug).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from rich.console import Console

from collectors.uri import redact_text

_state: dict[str, Any] = {"quiet": False, "verbose": False, "log_json": False}
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
log = logging.getLogger("virt_rebalance")

JOURNAL_PRIORITY = {logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}
_PLAIN_PREFIX = {logging.ERROR: "error: ", logging.WARNING: "warning: "}


class _Stderr(logging.Handler):
    """Writes each record to the current sys.stderr (click's test runner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # logging must never stop a job
            self.handleError(record)


class _Formatter(logging.Formatter):
    def __init__(self, *, as_json: bool, journal: bool) -> None:
        super().__init__()
        self.as_json, self.journal = as_json, journal

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        if self.as_json:
            level = record.levelname.lower()
            body = json.dumps(
                {"ts": round(record.created, 3), "level": level, "msg": record.getMessage(), **fields},
                default=str,
            )
        else:
            body = _PLAIN_PREFIX.get(record.levelno, "") + record.getMessage()
        body = redact_text(body)  # no secret of a host URI in any log line, plain or JSON
        if self.journal:
            body = f"<{JOURNAL_PRIORITY.get(record.levelno, 6)}>{body}"
        return body


def configure(quiet: bool = False, verbose: bool = False, log_json: bool = False) -> None:
    _state.update(quiet=quiet, verbose=verbose, log_json=log_json)
    handler = _Stderr()
    handler.setFormatter(_Formatter(as_json=log_json, journal=under_journald()))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)


def under_journald() -> bool:
    """Whether stderr is the journal: systemd sets JOURNAL_STREAM to its device and inode."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in stream.split(":"))
        stat = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (stat.st_dev, stat.st_ino) == (device, inode)


def is_terminal() -> bool:
    return sys.stdout.isatty()


def is_quiet() -> bool:
    return bool(_state["quiet"])


def is_log_json() -> bool:
    return bool(_state["log_json"])


def error(message: str, **fields: Any) -> None:
    log.error(message, extra={"fields": fields})


def warning(message: str, **fields: Any) -> None:
    log.warning(message, extra={"fields": fields})


def info(message: str, **fields: Any) -> None:
    log.info(message, extra={"fields": fields})


def debug(message: str, **fields: Any) -> None:
    log.debug(message, extra={"fields": fields})


configure()
