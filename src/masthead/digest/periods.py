"""The periods digests cover: whole local days, daily or weekly, in the site's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CADENCE_DAYS = {"daily": 1, "weekly": 7}


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span [start, end) of whole local days."""

    cadence: str
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return self.end.date() - timedelta(days=1)


def latest_period(cadence: str, weekday: int, tz: ZoneInfo, now: datetime) -> Period:
    """The latest complete daily or weekly period that ended at or before ``now``, in ``tz``.

    Weekly periods start on ``weekday`` (0 = Monday).
    """
    if cadence not in CADENCE_DAYS:
        raise ValueError(f"no period for cadence {cadence!r}")
    end_day = now.astimezone(tz).date()
    if cadence == "weekly":
        end_day -= timedelta(days=(end_day.weekday() - weekday) % 7)
    start_day = end_day - timedelta(days=CADENCE_DAYS[cadence])
    return Period(cadence, datetime.combine(start_day, time(), tz), datetime.combine(end_day, time(), tz))


def digest_id(feed: str, period: Period) -> str:
    """``<feed>/<cadence>/<first day>``: the same digest for the same feed and period, run after run."""
    return f"{feed}/{period.cadence}/{period.first_day.isoformat()}"
