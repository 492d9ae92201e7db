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


# What may follow "trước" / "trong" at the end of a task for it to be the deadline: times,
# dates and day words only ("trước 16h hôm nay", "trước thứ 6", "trong hôm nay"), so that
# "trước khi vào ca" and "trước cổng 3" stay part of the work.
_DUE_WORD = re.compile(
    r"\d{1,2}(?:h|g|gio|:)\d{0,2}|\d{1,2}\s*[/.-]\s*\d{1,2}(?:\s*[/.-]\s*\d{2,4})?|[2-7]|"
    r"hom|nay|ngay|mai|kia|thu|hai|ba|tu|nam|sau|bay|chu|nhat|cn|sang|trua|chieu|toi|gio|"
    r"nhe|nha|a|ak|giup|em|anh|chi"
)
_DAY_WORD = re.compile(r"\d|hom nay|ngay|mai|thu|chu nhat|cn\b|tuan")
_DUE_AT_END = re.compile(r"(?:^|\s)(truoc|trong)\s+(.+)$")


def split_deadline(text: str) -> tuple[str, str | None]:
    """'kiểm tra camera han 30/11' -> ('kiểm tra camera', '30/11'); also as people type it
    without "hạn": 'kiểm tra camera trước 16h hôm nay' -> ('kiểm tra camera', '16h hôm nay')."""
    folded = fold(text).lower()
    match = None
    for m in re.finditer(r"(?:^|\s)han(?:\s*chot)?\s*[:]?\s", folded):
        match = m
    if match is None:
        body, due = _due_at_end(text, folded)
        return (body, due) if due is not None else (body, window_end(folded))
    return text[: match.start()].strip(), text[match.end() :].strip() or None


# A time window in a task, folded: "từ 18h đến 22h", "7h-11h", "14h tới 17h", "18:00-22:30".
# An hour mark on one side at least: "2-3 bình" is a count, not hours.
_HOUR = r"(\d{1,2})(?:\s*(?:h|g|gio)\s*(\d{2})?|:(\d{2}))?"
_WINDOW = re.compile(rf"(?<![\d/.:]){_HOUR}\s*(?:-|–|\bden\b|\btoi\b)\s*{_HOUR}(?![\d/])")
# The part of the day said next to the window ("tối nay", "7h-10h tối mai"): an hour under 12
# in the afternoon or evening is after noon. "tối" folds like "tôi" and "tới": only a part of
# the day followed by a day word, or right after the window, counts.
_PART_NEAR = re.compile(r"\b(sang|trua|chieu|toi|dem)\s+(?:nay|mai|hom|ngay|thu|chu|cn\b|\d)")
_PART_AFTER = re.compile(r"\s*(sang|trua|chieu|toi|dem)\b")
_WINDOW_DAY = re.compile(
    r"\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{2,4})?|\bngay kia\b|\bmai\b|\bnay\b|"
    r"\bthu\s*(?:[2-7]|hai|ba|tu|nam|sau|bay)\b|\bchu\s*nhat\b"
)


def window_end(folded: str) -> str | None:
    """The deadline of a task given as a time window: its end, on the day said ("tối nay từ
    18h đến 22h" -> "22:00 hom nay"); a window past midnight ends the next day. None when
    there is no window, or its day cannot be told (past midnight after a date)."""
    m = _WINDOW.search(folded)
    if m is None or not any(unit in m[0] for unit in ("h", "g", ":")):
        return None
    start, end = int(m[1]), int(m[4])
    minutes = int(m[5] or m[6] or 0)
    if start > 23 or end > 23 or minutes > 59:
        return None
    rest = folded[: m.start()] + " " + folded[m.end() :]
    after = _PART_AFTER.match(folded[m.end() :])
    near = after or _PART_NEAR.search(rest)
    part = near[1] if near else ""
    start, end = _afternoon(start, part), _afternoon(end, part)
    day_said = _WINDOW_DAY.search(rest)
    day = day_said[0] if day_said else ""
    if day == "nay":
        day = "hom nay"
    if end < start:  # "đêm nay từ 22h đến 6h": the morning after
        nexts = {"": "mai", "hom nay": "mai", "mai": "ngay kia"}
        if day not in nexts:
            return None
        day = nexts[day]
    return f"{end}:{minutes:02d} {day}".strip()


def _afternoon(hour: int, part: str) -> int:
    """ "7h tối" is 19:00, "3h chiều" 15:00; "2h đêm" stays 2:00, "9h đêm" is 21:00."""
    if hour >= 12 or part in ("", "sang"):
        return hour
    if part == "trua":
        return hour + 12 if hour <= 3 else hour
    if part == "dem":
        return hour + 12 if hour >= 7 else hour
    return hour + 12


def _due_at_end(text: str, folded: str) -> tuple[str, str | None]:
    """The task and a deadline said with "trước"/"trong" at its end, if there is one."""
    for m in _DUE_AT_END.finditer(folded.rstrip(" .!")):
        tail = m[2].replace(",", " ").split()
        if m[1] == "trong" and not re.search(r"hom nay|\bngay\b", m[2]):
            continue  # "trong kho 3": where, not when
        if tail and all(_DUE_WORD.fullmatch(word) for word in tail) and _DAY_WORD.search(m[2]):
            return text[: m.start()].strip(" ,"), text[m.start(2) :].strip(" .!") or None
    return text.strip(), None


def _nearest(day: date, today: date) -> date | None:
    """The same day and month last year, this year or next year, whichever is nearest."""
    options = []
    for year in (day.year - 1, day.year, day.year + 1):
        try:
            options.append(date(year, day.month, day.day))
        except ValueError:  # 29/2 outside a leap year
            continue
    return min(options, key=lambda d: abs((d - today).days), default=None)


def _typed_date(m: re.Match[str], today: date) -> date | None:
    """The day of a typed date ("30/11", "5/1/2027"); None when there is no such day."""
    d, mo = int(m[1]), int(m[2])
    year = int(m[3]) if m[3] else today.year
    if year < 100:
        year += 2000
    try:
        day = date(year, mo, d)
    except ValueError:
        return None
    # The nearest 30/11: yesterday's date typed by mistake stays yesterday (the task refuses
    # it), 5/1 typed in December is next January.
    return day if m[3] else _nearest(day, today)


def _days_to(wm: re.Match[str], today: date) -> int:
    """Days from `today` to the weekday named ("thứ 6", "chủ nhật"); 0 when it is today."""
    target = 8 if wm[1] is None else (int(wm[1]) if wm[1].isdigit() else _WEEKDAY_WORDS[wm[1]])
    weekday = (target - 2) % 7  # thứ 2 = Monday = 0, chủ nhật = 6
    return (weekday - today.weekday()) % 7


def parse_deadline(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The moment meant by a deadline phrase, or None if it cannot be read."""
    folded = fold(text).lower().strip()
    local_now = now.astimezone(tz)
    day: date | None = None
    m = _DATE.search(folded)
    if m:
        day = _typed_date(m, local_now.date())
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
        day = local_now.date() + timedelta(days=_days_to(wm, local_now.date()) or 7)
    elif (dm := _DAYS.search(folded)) is not None:
        day = local_now.date() + timedelta(days=int(dm[1]))
    tm = _TIME.search(folded)
    at = END_OF_DAY
    if tm and int(tm[1]) < 24 and (tm[2] is None or int(tm[2]) < 60):
        # "8h tối nay" is 20:00: the part of the day right after the hour, or before a day word.
        near = _PART_AFTER.match(folded[tm.end() :]) or _PART_NEAR.search(folded)
        at = time(_afternoon(int(tm[1]), near[1] if near else ""), int(tm[2] or 0))
        if day is None:
            day = local_now.date()
    if day is None:
        return None
    result = datetime.combine(day, at, tzinfo=tz)
    if result <= now and not m:
        result += timedelta(days=1)
    return result


_UNTIL = re.compile(r"\b(?:den|toi)(?:\s+het)?\s|\bhet\s")
# "3 ngày"; "1 hôm" only after the day it is ("mai e xin nghỉ 1 hôm"): alone it may mean today.
_FOR_DAYS = re.compile(r"\b(\d{1,3})\s*(ngay|hom)\b")
# Folded: coming late ("mai đến muộn", "sáng mai em đi trễ") is no day away, unless it says so.
LATE_RE = re.compile(r"\b(?:den|di|toi|vao|vao ca|len ca|lam)\s+(?:muon|tre)\b")
AWAY_RE = re.compile(r"\b(?:nghi|vang|khong den|khong toi|khong di)\b")


# A leave as read: its first moment, its end, and whether the end was said in so many words.
Span = tuple[datetime, datetime, bool]


def leave_span(text: str, said_at: datetime, tz: ZoneInfo) -> Span | None:
    """A leave's first moment, its end, and whether the end was said ("đến 11/12", "3 ngày"):
    "từ thứ 4 đến thứ 6" starts on Wednesday; with no day named it starts when said. A day's
    absence ("mai em xin nghỉ") is that one day; None when no end and no day can be read."""
    folded = fold(text).lower()
    gone = past_span(folded, said_at, tz)
    if gone is not None and _named_day(folded, said_at.astimezone(tz).date()) is None:
        return gone  # "mấy hôm nay em nghỉ ốm": days gone by, over before he says so
    until = None
    for m in _UNTIL.finditer(folded + " "):
        until = m
    head = folded if until is None else folded[: until.start()]
    today = said_at.astimezone(tz).date()
    first = _named_day(head, today)
    start = said_at if first is None else datetime.combine(first, time(0, 0), tzinfo=tz)
    if until is not None:
        end = _until(folded[until.end() :], said_at, tz)
        if end is not None and end < start and _weekday_passed(head, today) and end > said_at:
            start = said_at  # "từ thứ 4 đến thứ 6" said on Thursday: from now to Friday
        return None if end is None or end < start else (start, end, True)
    dm = _FOR_DAYS.search(folded)
    if dm is not None and int(dm[1]) > 0 and (first is not None or dm[2] == "ngay"):
        if first is None:  # "nghỉ 3 ngày": three days on from today, as before
            return start, datetime.combine(today + timedelta(days=int(dm[1])), END_OF_DAY, tz), True
        last = first + timedelta(days=int(dm[1]) - 1)  # "thứ 5 em xin nghỉ 1 ngày": Thursday
        return start, datetime.combine(last, END_OF_DAY, tzinfo=tz), True
    late = LATE_RE.search(folded) is not None and AWAY_RE.search(folded) is None
    if first is None and not late and (week := week_named(folded, today)) is not None:
        # "tuần này em đi công tác": the whole week, under way since its Monday (the digest
        # must not call her quiet for its first days); "tuần sau": next week's seven days.
        monday = datetime.combine(week, time(0, 0), tzinfo=tz)
        return monday, datetime.combine(week + timedelta(days=6), END_OF_DAY, tzinfo=tz), True
    if first is None or late:
        return None
    return start, datetime.combine(first, END_OF_DAY, tzinfo=tz), False


_THIS_WEEK = re.compile(r"\btuan nay\b")


def week_named(folded: str, today: date) -> date | None:
    """The Monday of the week a leave names with no day in it ("tuần này", "tuần sau")."""
    if _THIS_WEEK.search(folded):
        return today - timedelta(days=today.weekday())
    if _NEXT_WEEK.search(folded):
        return today + timedelta(days=7 - today.weekday())
    return None


def _weekday_passed(folded: str, today: date) -> bool:
    """Whether the first day is only a weekday of this week that has already begun or gone
    ("thứ 4" or "thứ 5" said on Thursday): no date, no "mai", no "tuần sau"."""
    if _DATE.search(folded) or _AFTER_TOMORROW.search(folded) or _TOMORROW.search(folded):
        return False
    wm = re.search(rf"\b(?:{_WEEKDAY.pattern})", folded)
    if wm is None or _NEXT_WEEK.search(folded):
        return False
    named = (today.weekday() + _days_to(wm, today)) % 7  # Monday 0 ... Sunday 6
    return named <= today.weekday()


def _until(tail: str, said_at: datetime, tz: ZoneInfo) -> datetime | None:
    """The end typed after "đến": "10/12", "thứ 6", "thứ 3 tuần sau" (next week's Tuesday)."""
    if _NEXT_WEEK.search(tail):
        day = _named_day(tail, said_at.astimezone(tz).date())
        if day is not None:
            return datetime.combine(day, END_OF_DAY, tzinfo=tz)
    return parse_deadline(tail, said_at, tz)


# A day's absence, folded: "hôm nay", "chiều nay", "ca đêm nay"; "mai", "sáng mai"; "ngày kia".
# "mấy hôm nay" is the days gone by (_PAST_DAYS), not today.
_TODAY = re.compile(r"\b(?<!may )(?:hom|bua|sang|trua|chieu|toi|dem) nay\b")
# Days away already over, folded: "mấy hôm nay/trước/qua", "mấy ngày qua" (the three days
# before today), "hôm qua" (yesterday), "hôm kia" (the day before), "tuần trước" (last week).
_PAST_DAYS = re.compile(r"\bmay (?:hom|ngay|bua)\b(?! (?:toi|sau|nua)\b)")
_YESTERDAY = re.compile(r"\b(?:hom|bua) qua\b")
_DAY_BEFORE = re.compile(r"\b(?:hom|bua) kia\b")
_LAST_WEEK = re.compile(r"\btuan (?:truoc|qua|roi)\b")
PAST_DAYS = 3  # "mấy hôm": a few days; the digest needs a span, the answer shows it
_TOMORROW = re.compile(r"\bmai\b")
_AFTER_TOMORROW = re.compile(r"\bngay (?:kia|mot)\b")
_NEXT_WEEK = re.compile(r"\btuan (?:sau|toi)\b")


def past_span(folded: str, said_at: datetime, tz: ZoneInfo) -> Span | None:
    """Days away said once they are over ("mấy hôm nay em nghỉ ốm", "tuần trước em nghỉ"):
    from the first day's start to the last day's end, before today; None when none is said
    or it is coming late ("hôm qua em đi trễ")."""
    if LATE_RE.search(folded) and not AWAY_RE.search(folded):
        return None
    today = said_at.astimezone(tz).date()
    if _LAST_WEEK.search(folded):
        first = today - timedelta(days=today.weekday() + 7)
        last = first + timedelta(days=6)
    elif _PAST_DAYS.search(folded):
        first, last = today - timedelta(days=PAST_DAYS), today - timedelta(days=1)
    elif _DAY_BEFORE.search(folded):
        first = last = today - timedelta(days=2)
    elif _YESTERDAY.search(folded):
        first = last = today - timedelta(days=1)
    else:
        return None
    start = datetime.combine(first, time(0, 0), tzinfo=tz)
    return start, datetime.combine(last, END_OF_DAY, tzinfo=tz), True


def absence_day(text: str, said_at: datetime, tz: ZoneInfo) -> date | None:
    """The day a day's absence is for ("mai e xin nghỉ 1 hôm", "chiều nay", "thứ 2 tuần
    sau", "ngày 8/12"); None when no day is named or the leave has an end ("đến 10/12")."""
    folded = fold(text).lower()
    if _UNTIL.search(folded + " "):
        return None
    return _named_day(folded, said_at.astimezone(tz).date())


def _named_day(folded: str, today: date) -> date | None:
    """The day named in folded words: a date, "mai", "ngày kia", "hôm nay", a weekday (this
    week's coming one, or next week's with "tuần sau"); None when none is named."""
    if (m := _DATE.search(folded)) is not None:
        return _typed_date(m, today)
    if _AFTER_TOMORROW.search(folded):
        return today + timedelta(days=2)
    if _TOMORROW.search(folded):
        return today + timedelta(days=1)
    if _TODAY.search(folded):
        return today
    wm = re.search(rf"\b(?:{_WEEKDAY.pattern})", folded)
    if wm is None:
        return None
    ahead = _days_to(wm, today)
    if _NEXT_WEEK.search(folded):  # "thứ 2 tuần sau": in the week that starts next Monday
        return today + timedelta(days=7 - today.weekday() + (today.weekday() + ahead) % 7)
    return today + timedelta(days=ahead or 7)
