"""Local-time rules: quiet hours, holidays, rest days, ISO weeks. Nudges, reminders and summaries
respect them; urgent alerts do not."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays as holiday_calendars

from handlers.config import WEEKDAYS, Settings, parse_quiet_hours


def local(settings: Settings, at: datetime) -> datetime:
    return at.astimezone(settings.tz)


def iso_week(settings: Settings, at: datetime) -> str:
    """'2026-W48' for the local date of `at`."""
    year, week, _ = local(settings, at).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(settings: Settings, at: datetime) -> datetime:
    """Monday 00:00 local of the week containing `at` (aware)."""
    d = local(settings, at).date()
    monday = d - timedelta(days=d.weekday())
    return datetime.combine(monday, time(0, 0), tzinfo=settings.tz)


def in_quiet_hours(settings: Settings, at: datetime) -> bool:
    start, end = parse_quiet_hours(settings.engagement.quiet_hours)
    if start == end:
        return False
    now = local(settings, at).time()
    if start < end:
        return start <= now < end
    return now >= start or now < end  # the window crosses midnight (21:30-07:00)


def is_holiday(settings: Settings, at: datetime) -> bool:
    """Vietnam's public holidays plus `engagement.holidays` and `engagement.extra_holidays`."""
    return holiday_name(settings, local(settings, at).date()) is not None


def holiday_name(settings: Settings, d: date) -> str | None:
    """The holiday's name on local date `d`, or None on a working day."""
    for day in (*settings.engagement.holidays, *settings.engagement.extra_holidays):
        if day == d.isoformat() or day == d.strftime("%m-%d"):
            return "ngày nghỉ"
    if settings.engagement.national_holidays:
        return _vietnam_year(d.year).get(d)
    return None


def holidays_in_week(settings: Settings, at: datetime) -> list[date]:
    """The holidays of the local Monday-Sunday week containing `at` (the digest notes them)."""
    monday = week_start(settings, at).date()
    days = (monday + timedelta(days=i) for i in range(7))
    return [d for d in days if holiday_name(settings, d) is not None]


def holidays_between(settings: Settings, start: date, end: date) -> list[date]:
    """The holidays strictly between two local dates, in order (silence over Tết is no
    member's silence: the nudges leave these days out)."""
    days = (start + timedelta(days=i) for i in range(1, (end - start).days))
    return [d for d in days if holiday_name(settings, d) is not None]


def warm_up(settings: Settings, now: datetime) -> None:
    """Build this year's and next year's national calendar now, at start-up: the package
    imports every country's module on first use (about 0.3 s), which would otherwise stall
    the event loop at the first polite-time check of a send."""
    if settings.engagement.national_holidays:
        year = local(settings, now).year
        _vietnam_year(year)
        _vietnam_year(year + 1)


@lru_cache(maxsize=16)
def _vietnam_year(year: int) -> dict[date, str]:
    """Names in Vietnamese where the package has them (Tết Nguyên Đán, Giỗ Tổ Hùng Vương)."""
    return dict(holiday_calendars.country_holidays("VN", years=year, language="vi"))


def is_rest_day(settings: Settings, at: datetime) -> bool:
    """A weekday of `engagement.rest_days` (Sunday by default), in local time."""
    return WEEKDAYS[local(settings, at).weekday()] in settings.engagement.rest_days


def polite_time(settings: Settings, at: datetime) -> bool:
    """May a non-urgent message go out now? Not in quiet hours, on a holiday or a rest day."""
    return (
        not in_quiet_hours(settings, at)
        and not is_holiday(settings, at)
        and not is_rest_day(settings, at)
    )


def next_polite_time(settings: Settings, at: datetime) -> datetime:
    """The first moment at or after `at` outside quiet hours, holidays and rest days."""
    probe = at
    for _ in range(24 * 4 * 40):  # step in 15-minute slots, at most 40 days ahead
        if polite_time(settings, probe):
            return probe
        probe = _next_slot(probe)
    return probe


def _next_slot(at: datetime) -> datetime:
    return (at + timedelta(minutes=15)).replace(second=0, microsecond=0)
