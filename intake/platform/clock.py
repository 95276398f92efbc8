"""The one clock of the service: the time now (UTC), and today's date in China, where the families and labs are.

Every path that needs the time (the dialogue, the inbox, the SMS webhook, the slots) asks this module, so a test
can pin the time once and drive a whole conversation through any channel on a chosen day:

    with clock.pinned(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)):
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")  # China has one zone and no daylight saving; needs no tzdata

_pinned: datetime | None = None


def now() -> datetime:
    """Return the current time in UTC (the pinned time while a test pins it)."""
    return _pinned if _pinned is not None else datetime.now(UTC)


def today_in_china(at: datetime | None = None) -> date:
    """Return the date in China at `at` (default: now); a naive `at` is read as UTC, as the database stores it."""
    moment = at if at is not None else now()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).date()


@contextmanager
def pinned(at: datetime) -> Iterator[datetime]:
    """Make `now()` return `at` (timezone-aware) until the block ends."""
    global _pinned
    if at.tzinfo is None:
        raise ValueError("pin the clock to a timezone-aware time")
    previous, _pinned = _pinned, at.astimezone(UTC)
    try:
        yield _pinned
    finally:
        _pinned = previous
