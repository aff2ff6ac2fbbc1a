"""Live progress and log lines: plain lines off a terminal, bars under a real pseudo-terminal (the overall
bar counts migrations, a finished bar is full), JSON log lines with the migration's fields, and journald
priority prefixes under systemd."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import textwrap

import pytest

from executor.report import ProgressEvent
from virt_rebalance import output, progress


def _event(kind: str, **numbers) -> ProgressEvent:
    head = {"migration_id": "m1", "vm_name": "web-1", "source": "h1", "destination": "h2"}
    return ProgressEvent(kind=kind, **head, total=1, **numbers)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _plain_output():
    yield
    output.configure()


@pytest.mark.parametrize(
    ("verbose", "kind", "shown"),
    [
        (False, "started", True),
        (False, "progress", False),
        (True, "progress", True),
        (False, "done", True),
        (False, "failed", True),
    ],
    ids=["started", "progress-hidden", "progress-verbose", "done", "failed"],
)
def test_plain_lines(capsys, verbose: bool, kind: str, shown: bool) -> None:
    output.configure(verbose=verbose)
    with progress.show(1) as on_event:
        on_event(_event(kind))
    err = capsys.readouterr().err
    assert ("m1 web-1 h1->h2" in err) is shown
    assert ("warning:" in err) is (kind == "failed")


def test_json_lines_carry_the_migrations_fields(capsys) -> None:
    output.configure(log_json=True)
    with progress.show(1) as on_event:
        on_event(_event("started"))
        on_event(_event("done", elapsed_s=2.5, processed_mib=300, finished=1))
    started, done = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert started["level"] == "info" and started["event"] == "started" and "outcome" not in started
    assert done == {
        "ts": done["ts"], "level": "info", "msg": done["msg"], "migration": "m1", "guest": "web-1",
        "source": "h1", "destination": "h2", "event": "done", "outcome": "done", "duration_s": 2.5,
        "bytes": 300 * 2**20,
    }  # fmt: skip


@pytest.mark.parametrize("log_json", [False, True], ids=["plain", "json"])
def test_journald_priorities(tmp_path, monkeypatch, log_json: bool) -> None:
    log = tmp_path / "journal"
    with log.open("w") as stream:
        stat = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino}")
        monkeypatch.setattr(sys, "stderr", stream)
        output.configure(verbose=True, log_json=log_json)
        output.error("e")
        output.warning("w")
        output.info("i")
        output.debug("d")
    lines = log.read_text().splitlines()
    assert [line[:3] for line in lines] == ["<3>", "<4>", "<6>", "<7>"]
    if log_json:
        assert [json.loads(line[3:])["msg"] for line in lines] == ["e", "w", "i", "d"]
    else:
        assert lines[:2] == ["<3>error: e", "<4>warning: w"]


def test_no_journald_prefix_on_another_stream(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "1:2")
    output.configure()
    output.warning("w")
    assert capsys.readouterr().err == "warning: w\n"


CHILD = textwrap.dedent(
    """
    from executor.report import ProgressEvent
    from virt_rebalance import progress

    def event(kind, mid, **numbers):
        head = {"migration_id": mid, "vm_name": "g" + mid, "source": "h1", "destination": "h2"}
        return ProgressEvent(kind=kind, **head, total=2, **numbers)

    with progress.show(2) as on_event:
        on_event(event("started", "m1"))
        on_event(event("progress", "m1", total_mib=512, processed_mib=200, remaining_mib=312, rate_mibps=100))
        on_event(event("done", "m1", processed_mib=530, finished=1))
        on_event(event("started", "m2"))
        on_event(event("progress", "m2", total_mib=256, processed_mib=100, remaining_mib=156, rate_mibps=100))
        on_event(event("failed", "m2", message="stalled", finished=2))
    """
)


def test_bars_under_a_pseudo_terminal() -> None:
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "150", "TERM": "xterm-256color"}
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=follower, stderr=follower, env=env)
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    assert child.wait(timeout=60) == 0
    raw = re.split(r"[\r\n]+", screen.decode(errors="replace"))

    def last(words: str) -> tuple[str, set[str]]:
        """The final drawing of the line with `words` (rich redraws the bars), as text and its bar's styles."""
        line = next(line for line in reversed(raw) if words in _plain(line))
        return _plain(line), set(re.findall(r"\x1b\[([0-9;]+)m[━╸╺]", line))

    assert "2/2 migrations" in last("migrations")[0] and not any("bytes" in _plain(line) for line in raw)
    done, done_styles = last("gm1 h1 -> h2")
    assert "530 MiB" in done and "done" in done
    assert len(done_styles) == 1  # full: all of it in the finished colour, nothing left in the back colour
    failed, failed_styles = last("gm2 h1 -> h2")
    assert "failed: stalled" in failed and "100/256 MiB" in failed and len(failed_styles) == 2


def _plain(line: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line)
