"""The nightly window and the deadline it sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from virt_rebalance.jobs.window import OutsideWindow, deadline


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Local time, as the window is."""
    return datetime(2026, 11, day, hour, minute).astimezone()


@pytest.mark.parametrize(
    ("window", "now", "expected"),
    [
        (None, at(26, 12), None),
        ("22:00-05:00", at(26, 23), at(27, 5)),
        ("22:00-05:00", at(27, 1), at(27, 5)),
        ("22:00-05:00", at(26, 22), at(27, 5)),
        ("01:00-04:30", at(26, 2), at(26, 4, 30)),
        ("00:00-00:00", at(26, 13), at(27, 0)),
    ],
    ids=["no-window", "wraps-evening", "wraps-morning", "at-start", "same-day", "all-day"],
)
def test_deadline_is_the_end_of_the_open_window(window, now, expected) -> None:
    assert deadline(window, now) == expected


@pytest.mark.parametrize(
    ("window", "now", "opens"),
    [
        ("22:00-05:00", at(26, 12), at(26, 22)),
        ("22:00-05:00", at(26, 5), at(26, 22)),
        ("01:00-04:30", at(26, 5), at(27, 1)),
        ("01:00-04:30", at(26, 0, 30), at(26, 1)),
    ],
    ids=["midday", "at-end", "after-same-day", "before-same-day"],
)
def test_closed_window_says_when_it_opens(window, now, opens) -> None:
    with pytest.raises(OutsideWindow) as exc:
        deadline(window, now)
    assert exc.value.next_start == opens
    assert window in str(exc.value)


def test_an_aware_time_elsewhere_is_read_as_local_time() -> None:
    elsewhere = at(26, 23).astimezone(timezone(timedelta(hours=-7)))
    assert deadline("22:00-05:00", elsewhere) == at(27, 5)
    assert deadline("22:00-05:00", at(26, 23).astimezone(UTC)) == at(27, 5)
