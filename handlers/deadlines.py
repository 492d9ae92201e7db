"""Deadlines typed after "hạn": 30/11, 30/11/2026 17h, mai, thứ 6, 3 ngày. In the future,
except a date typed that has just passed (the task refuses it: a typo, not next year)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.text import fold

END_OF_DAY = time(23, 59)
_DATE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2,4}))?")
_TIME = re.compile(r"(\d{1,2})\s*(?:h|g|gio|:)\s*(\d{2})?")
_WEEKDAY = re.compile(r"thu\s*([2-7]|hai|ba|tu|nam|sau|bay)|chu\s*nhat|cn\b")
_DAYS = re.compile(r"(\d{1,3})\s*ngay")
_WEEKDAY_WORDS = {"hai": 2, "ba": 3, "tu": 4, "nam": 5, "sau": 6, "bay": 7}


def split_deadline(text: str) -> tuple[str, str | None]:
    """'kiểm tra camera han 30/11' -> ('kiểm tra camera', '30/11')."""
    folded = fold(text).lower()
    match = None
    for m in re.finditer(r"(?:^|\s)han(?:\s*chot)?\s*[:]?\s", folded):
        match = m
    if match is None:
        return text.strip(), None
    return text[: match.start()].strip(), text[match.end() :].strip() or None


def _nearest(day: date, today: date) -> date | None:
    """The same day and month last year, this year or next year, whichever is nearest."""
    options = []
    for year in (day.year - 1, day.year, day.year + 1):
        try:
            options.append(date(year, day.month, day.day))
        except ValueError:  # 29/2 outside a leap year
            continue
    return min(options, key=lambda d: abs((d - today).days), default=None)


def parse_deadline(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The moment meant by a deadline phrase, or None if it cannot be read."""
    folded = fold(text).lower().strip()
    local_now = now.astimezone(tz)
    day: date | None = None
    m = _DATE.search(folded)
    if m:
        d, mo = int(m[1]), int(m[2])
        year = int(m[3]) if m[3] else local_now.year
        if year < 100:
            year += 2000
        try:
            day = date(year, mo, d)
        except ValueError:
            return None
        if not m[3]:
            # The nearest 30/11: yesterday's date typed by mistake stays yesterday (the task
            # refuses it), 5/1 typed in December is next January.
            day = _nearest(day, local_now.date())
            if day is None:
                return None
        folded = folded[: m.start()] + " " + folded[m.end() :]
    elif "ngay kia" in folded:
        day = local_now.date() + timedelta(days=2)
    elif "mai" in folded:
        day = local_now.date() + timedelta(days=1)
    elif "hom nay" in folded or "trong ngay" in folded:
        day = local_now.date()
    elif (wm := _WEEKDAY.search(folded)) is not None:
        target = 8 if wm[1] is None else (int(wm[1]) if wm[1].isdigit() else _WEEKDAY_WORDS[wm[1]])
        weekday = (target - 2) % 7  # thứ 2 = Monday = 0, chủ nhật = 6
        ahead = (weekday - local_now.weekday()) % 7 or 7
        day = local_now.date() + timedelta(days=ahead)
    elif (dm := _DAYS.search(folded)) is not None:
        day = local_now.date() + timedelta(days=int(dm[1]))
    tm = _TIME.search(folded)
    at = END_OF_DAY
    if tm and int(tm[1]) < 24 and (tm[2] is None or int(tm[2]) < 60):
        at = time(int(tm[1]), int(tm[2] or 0))
        if day is None:
            day = local_now.date()
    if day is None:
        return None
    result = datetime.combine(day, at, tzinfo=tz)
    if result <= now and not m:
        result += timedelta(days=1)
    return result


_UNTIL = re.compile(r"\b(?:den|toi)(?:\s+het)?\s|\bhet\s")
_FOR_DAYS = re.compile(r"\b\d{1,3}\s*ngay\b")


def leave_ends(text: str, said_at: datetime, tz: ZoneInfo) -> datetime | None:
    """When a leave announced as "nghỉ phép đến 10/12" (or "nghỉ 3 ngày") ends, read from
    when it was said; None when the message gives no end (an absence for the day)."""
    folded = fold(text).lower()
    until = None
    for m in _UNTIL.finditer(folded + " "):
        until = m
    if until is not None:
        return parse_deadline(folded[until.end() :], said_at, tz)
    if _FOR_DAYS.search(folded):
        return parse_deadline(folded, said_at, tz)
    return None
