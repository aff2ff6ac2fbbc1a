"""The nightly window (`policy.window = "22:00-05:00"`, local time) and the deadline it sets.

No migration starts after the deadline; running ones finish (the executor's contract).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta


def deadline(window: str | None, now: datetime) -> datetime | None:
    """The end of the window `now` is in; None when there is no window. Raises OutsideWindow when closed.

    A window may wrap midnight (22:00-05:00); start == end means all day.
    """
    if window is None:
        return None
    start_text, end_text = window.split("-")
    start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    now = now.astimezone()  # the window is in local time; a naive `now` is local already
    today = now.date()

    def at(day_offset: int, t: time) -> datetime:
        return datetime.combine(today + timedelta(days=day_offset), t, tzinfo=now.tzinfo)

    clock = now.time()
    if start == end:
        return at(1, end) if clock >= end else at(0, end)
    if start < end:
        if start <= clock < end:
            return at(0, end)
    elif clock >= start:
        return at(1, end)
    elif clock < end:
        return at(0, end)
    raise OutsideWindow(window, next_start=at(0 if clock < start else 1, start))


def opened_at(window: str | None, now: datetime) -> datetime:
    """When the window `now` is in opened; no window counts as all day from midnight, so a scheduled
    run happens once a day. Raises OutsideWindow when closed."""
    end = deadline(window or "00:00-00:00", now)
    assert end is not None  # a window is given
    start = time.fromisoformat((window or "00:00-00:00").split("-")[0])
    opened = datetime.combine(end.date(), start, tzinfo=end.tzinfo)
    return opened if opened < end else opened - timedelta(days=1)


class OutsideWindow(Exception):
    """The nightly window is closed: a condition the job reports, not a program error."""

    def __init__(self, window: str, next_start: datetime) -> None:
        self.window = window
        self.next_start = next_start
        super().__init__(
            f"outside the window {window}; it opens at {next_start.isoformat(timespec='minutes')}"
        )
