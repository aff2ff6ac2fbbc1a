"""Live progress off a terminal: one plain line per event that matters (progress only with --verbose)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from virt_rebalance import output, progress


def _event(kind: str) -> SimpleNamespace:
    return SimpleNamespace(
        kind=kind, migration_id="m1", vm_name="web-1", line=lambda: f"[0/1] m1 web-1 h1->h2 {kind}"
    )


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
    try:
        with progress.show(1) as on_event:
            on_event(_event(kind))  # type: ignore[arg-type]
    finally:
        output.configure()
    err = capsys.readouterr().err
    assert (f"m1 web-1 h1->h2 {kind}" in err) is shown
    assert ("warning:" in err) is (kind == "failed")


def test_bars_on_a_terminal(monkeypatch) -> None:
    import io

    from rich.console import Console

    from executor.report import ProgressEvent

    screen = io.StringIO()
    monkeypatch.setattr(output, "is_terminal", lambda: True)
    monkeypatch.setattr(output, "console", Console(file=screen, force_terminal=True, width=140))
    with progress.show(2) as on_event:
        on_event(ProgressEvent("started", "m1", "web-1", "h1", "h2", total=2))
        on_event(ProgressEvent("progress", "m1", "web-1", "h1", "h2", total_mib=512, processed_mib=256,
                               remaining_mib=256, rate_mibps=100, dirty_mibps=3, round=1, total=2))  # fmt: skip
        on_event(ProgressEvent("done", "m1", "web-1", "h1", "h2", finished=1, total=2))
        on_event(
            ProgressEvent("skipped", "m2", "db-1", "h1", "h3", message="moved by hand", finished=2, total=2)
        )
    shown = screen.getvalue()
    assert "web-1 h1 -> h2" in shown and "2 migration(s)" in shown
    assert "skipped" in shown and "moved by hand" in shown
