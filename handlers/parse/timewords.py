"""Time words in a message (clock times, day words, weekdays, dates) and their resolution."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Final

from handlers.parse.entities import _next_word, _prev_word
from handlers.parse.result import _new, _setter
from handlers.parse.tokens import _CLAUSE_ENDS
from handlers.parse.vocabulary import (
    M_AGO,
    M_DAYPART,
    M_DIGIT,
    M_MONTH,
    M_NUMBER,
    M_TIME,
    M_WEEKDAY,
    _Lexicon,
)
from handlers.text import fold


def _adjust_hour(hour: int, part: str | None) -> int:
    """14h is 14h whatever the part; 8h tối is 20h; 2h đêm stays 2h, 10h đêm is 22h."""
    if part is None or hour >= 13:
        return hour
    if part in ("afternoon", "evening"):
        return hour + 12 if hour < 12 else hour
    if part == "noon":
        return hour + 12 if hour < 6 else hour
    if part == "night":
        if 6 <= hour < 12:
            return hour + 12
        return 0 if hour == 12 else hour
    if part == "morning" and hour == 12:
        return 0
    return hour


@dataclass(frozen=True, slots=True)
class _TimeSpec:
    """The time words of a message, before they are resolved against a send time."""

    text: str
    ambiguous: bool = False
    rel_minutes: float | None = None  # "30 phút trước"
    rel_days: int | None = None  # "2 ngày trước"
    clock: tuple[int, int] | None = None  # hour already moved by the part of day
    night: bool = False  # the clock is in the small hours of a night ("2h đêm")
    day_offset: int | None = None  # hôm nay 0, hôm qua -1, mai 1...
    weekday: int | None = None  # Monday 0
    week: str = ""  # truoc, sau or nay after a weekday; COMING or NOTICED (announced)
    month_day: tuple[int, int, int | None] | None = None  # day, month, year if written
    future: bool = False  # the message states a future (sẽ, hạn...)
    ahead: bool = False  # an hour of arrival stated ("7h tối em có mặt"): today's, even later


_SET_SPEC = {name: _setter(_TimeSpec, name) for name in _TimeSpec.__dataclass_fields__}
_SET_SPEC_TEXT = _SET_SPEC["text"]
_SET_SPEC_AMBIGUOUS = _SET_SPEC["ambiguous"]
_SET_SPEC_REL_MINUTES = _SET_SPEC["rel_minutes"]
_SET_SPEC_REL_DAYS = _SET_SPEC["rel_days"]
_SET_SPEC_CLOCK = _SET_SPEC["clock"]
_SET_SPEC_NIGHT = _SET_SPEC["night"]
_SET_SPEC_DAY_OFFSET = _SET_SPEC["day_offset"]
_SET_SPEC_WEEKDAY = _SET_SPEC["weekday"]
_SET_SPEC_WEEK = _SET_SPEC["week"]
_SET_SPEC_MONTH_DAY = _SET_SPEC["month_day"]
_SET_SPEC_FUTURE = _SET_SPEC["future"]
_SET_SPEC_AHEAD = _SET_SPEC["ahead"]


def _new_time_spec(
    text: str,
    ambiguous: bool = False,
    rel_minutes: float | None = None,
    rel_days: int | None = None,
    clock: tuple[int, int] | None = None,
    night: bool = False,
    day_offset: int | None = None,
    weekday: int | None = None,
    week: str = "",
    month_day: tuple[int, int, int | None] | None = None,
    future: bool = False,
    ahead: bool = False,
) -> _TimeSpec:
    """`_TimeSpec(...)` built through the slots, like `_parsed` (the frozen __init__ is ~2 µs)."""
    spec: _TimeSpec = _new(_TimeSpec)
    _SET_SPEC_TEXT(spec, text)
    _SET_SPEC_AMBIGUOUS(spec, ambiguous)
    _SET_SPEC_REL_MINUTES(spec, rel_minutes)
    _SET_SPEC_REL_DAYS(spec, rel_days)
    _SET_SPEC_CLOCK(spec, clock)
    _SET_SPEC_NIGHT(spec, night)
    _SET_SPEC_DAY_OFFSET(spec, day_offset)
    _SET_SPEC_WEEKDAY(spec, weekday)
    _SET_SPEC_WEEK(spec, week)
    _SET_SPEC_MONTH_DAY(spec, month_day)
    _SET_SPEC_FUTURE(spec, future)
    _SET_SPEC_AHEAD(spec, ahead)
    return spec


def _time_spec(lex: _Lexicon, text: str, low: str, marks: int, accented: bool) -> _TimeSpec | None:
    """Find the time words of a message; `_resolve_time` turns them into a date or datetime.
    `marks`: the message's M_ bits (vocabulary), which say which time words may be there."""
    has_digit = bool(marks & M_DIGIT)
    if not has_digit and not marks & (M_TIME | M_NUMBER):
        return None
    spans: list[tuple[int, int]] = []
    ambiguous = False

    if marks & M_AGO:
        m = lex.rel_re.search(low)
        while m is not None and fold(_prev_word(low, m.start())) == "thu":
            m = lex.rel_re.search(low, m.end())  # "thứ 2 tuần trước" is a weekday
        if m is not None:
            num = m.group("n1") or m.group("n2")
            unit = fold(m.group("u1") or m.group("u2"))
            qty = (
                float(num) if num.isdigit()
                else {"mot": 1, "hai": 2, "ba": 3, "nua": 0.5, "vai": 3}.get(fold(num), 1.0)
            )  # fmt: skip
            span_text = text[m.start() : m.end()]
            if m.group("dir") is not None and fold(m.group("dir")) == "nua":
                qty = -qty  # "5 phút nữa" is stated future
            if unit in ("ngay", "hom"):
                return _new_time_spec(span_text, rel_days=int(qty))
            if unit == "tuan":
                return _new_time_spec(span_text, rel_days=int(qty) * 7)
            return _new_time_spec(span_text, rel_minutes=qty if unit in ("phut", "p") else qty * 60)

    clock: tuple[int, int] | None = None
    clock_part: str | None = None
    clock_span: tuple[int, int] | None = None
    found = _clock(lex, low, accented, lex.clock_re) if has_digit else None
    if found is None and marks & M_NUMBER and ("giờ" in low or "gio" in low):
        found = _clock(lex, low, accented, lex.clock_words_re)  # "chín giờ rưỡi"
    if found is not None:
        clock, part_word, clock_span = found
        clock_part = lex.parts.get(fold(part_word)) if part_word else None

    day_offset: int | None = None
    day_part: str | None = None
    dayparts = lex.daypart_re.finditer(low) if marks & M_DAYPART else ()
    for m in dayparts:
        part_word = m.group("w")
        rel = m.group("rel")
        fpart = " ".join(fold(part_word).split())
        if fpart in lex.parts:
            if rel is None:
                # A bare part of day counts only right before a clock time ("tối 10h").
                if clock_span is not None and 0 <= clock_span[0] - m.end() <= 5:
                    day_part = day_part or lex.parts.get(fpart)
                    spans.append((m.start(), m.end()))
                continue
            if fpart == "toi" and fold(rel) == "qua" and part_word == fpart:
                if lex.toi_qua_next.has(_next_word(low, m.end()), accented):
                    continue  # "toi qua xuong 2": tôi qua (I went over)
                ambiguous = True
            offset = {"nay": 0, "qua": -1, "kia": -2, "mai": 1}[fold(rel)]
            day_part = day_part or lex.parts.get(fpart)
        elif rel is None:
            fday = fpart
            opens = low[: m.start()].rstrip()[-1:] in _CLAUSE_ENDS
            after_clock = clock_span is not None and 0 <= m.start() - clock_span[1] <= 2
            if fday in ("mai", "mot") and not opens and not after_clock:
                continue  # "mai" is also a name: alone it counts opening a clause or after a clock
            offset = {
                "hom nay": 0, "bua nay": 0, "hom qua": -1, "bua qua": -1, "hom kia": -2,
                "bua kia": -2, "ngay mai": 1, "mai": 1, "ngay kia": 2, "mot": 2,
            }[fday]  # fmt: skip
        else:
            continue  # "hôm qua kia": a day word is not followed by another
        if day_offset is None:
            day_offset = offset
            spans.append((m.start(), m.end()))

    weekday: int | None = None
    week = ""
    m = lex.weekday_re.search(low) if marks & M_WEEKDAY else None
    while m is not None and lex.weekday_not_after.has(_prev_word(low, m.start()), accented):
        m = lex.weekday_re.search(low, m.end())
    if m is not None:
        weekday = 6 if m.group("sun") else lex.weekday_num[fold(m.group("wd"))]
        week = fold(m.group("week") or m.group("week2") or "")
        week = {"roi": "truoc", "toi": "sau"}.get(week, week)
        if not week:
            week = _announced(lex, low, m, accented)
        spans.append((m.start(), m.end()))

    month_day: tuple[int, int, int | None] | None = None
    date_span: tuple[int, int] | None = None
    dates: list[re.Match[str]] = []
    if has_digit and "/" in low:
        dates.extend(lex.date_re.finditer(low))
    if has_digit and marks & M_MONTH:
        dates.extend(lex.date_words_re.finditer(low))
    if dates:
        for m in sorted(dates, key=lambda d: d.start()):
            d_s, mo_s, y_s = m.group("d"), m.group("mo"), m.group("y")
            prev = fold(_prev_word(low, m.start()))
            if m.group()[0].isdigit() and prev != "ngay":
                if lex.address_before.has(prev, False) or lex.address_after.has(
                    _next_word(low, m.end()), accented
                ):
                    continue
                if d_s == "24" and mo_s == "7" and not y_s:
                    continue  # "trực 24/7"
                if not y_s and _head_count(lex, low, m, accented):
                    continue  # "quân số đủ 5/5", "4/4 người"
            year = int(y_s) + (2000 if len(y_s) == 2 else 0) if y_s else None
            try:
                date(year or 2000, int(mo_s), int(d_s))  # 2000 is a leap year: 29/2 is valid
            except ValueError:
                continue
            month_day = (int(d_s), int(mo_s), year)
            start = m.start()
            if prev == "ngay":
                start = low.rfind("ng", max(0, start - 6), start)
            date_span = (start, m.end())
            break

    if date_span is not None:
        if clock_span is not None and _apart(low, date_span, clock_span):
            # "Báo cáo ca đêm 07/12: quân số 4/4, …, mất tín hiệu từ 2h sáng": the report's
            # date and the hour of what it tells are two times; the hour is the event's.
            month_day = None
        else:
            spans.append(date_span)
    if clock is not None and clock_span is not None:
        spans.append(clock_span)
    if not spans:
        return None
    hour_min: tuple[int, int] | None = None
    night = False
    if clock is not None:
        part = clock_part or day_part
        hour_min = (_adjust_hour(clock[0], part), clock[1])
        night = part == "night" and hour_min[0] < 6
    start = min(s for s, _ in spans)
    end = max(e for _, e in spans)
    return _new_time_spec(
        text=text[start:end].strip(),
        ambiguous=ambiguous,
        clock=hour_min,
        night=night,
        day_offset=day_offset,
        weekday=weekday,
        week=week,
        month_day=month_day,
        future=month_day is not None and lex.future_re.search(low) is not None,
    )


COMING: Final = "coming"  # a weekday said in an announcement: the next one to come
# A weekday in a message that only opens as a notice ("Thông báo: thứ 4 …"): the coming one,
# unless the message reports what happened ("Thông báo: thứ 4 có trộm vào kho 2"), which the
# reading of the whole message decides (handlers.parse._told_weekday).
NOTICED: Final = "noticed"


def _announced(lex: _Lexicon, low: str, m: re.Match[str], accented: bool) -> str:
    """COMING when the weekday `m` is said in an announcement of what will happen (lexicon
    `time.will`): "thứ 4 tới", "sẽ kiểm tra vào thứ 4"; NOTICED when the message only opens as
    a notice ("TB: … từ thứ 4"); "" with a word of it done ("đã kiểm tra"), after "hôm" ("hôm
    thứ 4") or with neither."""
    if lex.weekday_past_before.has(_prev_word(low, m.start()), accented):
        return ""
    if lex.done_re.search(low):
        return ""
    if m.group("coming"):
        return COMING  # "thứ 4 tới", typed with its mark: bare "toi" may be tối
    start = max((low.rfind(c, 0, m.start()) for c in ".,;:!?\n"), default=-1) + 1
    ends = [k for k in (low.find(c, m.end()) for c in ".,;:!?\n") if k >= 0]
    clause = low[start : min(ends, default=len(low))]
    if lex.weekday_will_re.search(clause) is not None:
        return COMING
    return NOTICED if lex.announce_re.match(low) is not None else ""


def _head_count(lex: _Lexicon, low: str, m: re.Match[str], accented: bool) -> bool:
    """Whether a day/month shape is a head count: after "đủ, thiếu" or before a people noun."""
    after = _next_word(low, m.end())
    return lex.count_before.has(_prev_word(low, m.start()), accented) or bool(
        after and lex.persons.at([after], [fold(after)], 0, 1)
    )


# The most words between a date and an hour that name one time ("ngày 07/12 vào lúc 14h30").
DATE_CLOCK_WORDS = 4
_WORD_RE: Final = re.compile(r"\w+")


def _apart(low: str, one: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether two spans of `low` have more than DATE_CLOCK_WORDS words between them."""
    (_, first_end), (second_start, _) = sorted((one, other))
    return len(_WORD_RE.findall(low, first_end, second_start)) > DATE_CLOCK_WORDS


def _clock(
    lex: _Lexicon, low: str, accented: bool, pattern: re.Pattern[str]
) -> tuple[tuple[int, int], str | None, tuple[int, int]] | None:
    """The first clock time `pattern` finds: (hour, minute), its part-of-day word, its span."""
    in_words = pattern is lex.clock_words_re  # it has no "h", "m2" or "half2"
    for m in pattern.finditer(low):
        if in_words:
            hour, minute_s, half = lex.hour_words[fold(m["hw"])], m["m"], m["half"]
        else:
            hour = int(m.group("h"))
            minute_s = m.group("m") or m.group("m2")
            half = m.group("half") or m.group("half2")
        unit = m.group("u")
        minute = int(minute_s) if minute_s else (30 if half else 0)
        if hour > 23 or minute > 59:
            continue
        less = m.group("less")
        if less:  # "9h kém 15" is 8:45
            if not 0 < int(less) < 60:
                continue
            hour, minute = (hour - 1) % 24, 60 - int(less)
        part_word = m.group("part")
        prev = _prev_word(low, m.start())
        if unit is not None or half:
            if lex.not_duration_before.has(prev, accented):
                continue  # "mất 2 giờ", "trong 1 tiếng rưỡi"
            explicit = minute_s or half or less or part_word or lex.clock_before.has(prev, accented)
            if unit is not None and fold(unit) != "h" and not explicit:
                continue  # "4G", "2 giờ" alone are not times of day
        start = m.start()
        if fold(prev) == "luc":
            start = low.rfind("l", max(0, start - 6), start)
        return (hour, minute), part_word, (start, m.end())
    return None


def _resolve_time(spec: _TimeSpec, now: datetime) -> datetime | date | None:
    """A date or local datetime for the time words, preferring the past unless told otherwise."""
    today = now.date()
    if spec.rel_minutes is not None:
        return (now - timedelta(minutes=spec.rel_minutes)).replace(second=0, microsecond=0)
    if spec.rel_days is not None:
        return today - timedelta(days=spec.rel_days)
    base: date | None = None
    future_ok = spec.day_offset is not None and spec.day_offset > 0
    weekday_base = False
    if spec.weekday is not None:
        monday = today - timedelta(days=today.weekday())
        if spec.week == "truoc":
            base = monday - timedelta(days=7 - spec.weekday)
        elif spec.week == "sau":
            base = monday + timedelta(days=7 + spec.weekday)
            future_ok = True
        elif spec.week == "nay":
            base = monday + timedelta(days=spec.weekday)
        elif spec.week in (COMING, NOTICED):
            days = (spec.weekday - today.weekday()) % 7
            if not days and (spec.clock is None or dtime(*spec.clock) <= now.time()):
                days = 7  # "TB: thứ 6 họp" sent on Friday: next week's ("14h thứ 6": today's)
            base = today + timedelta(days=days)
            future_ok = True
        else:
            base = today - timedelta(days=(today.weekday() - spec.weekday) % 7)
        weekday_base = True
    if spec.month_day is not None:
        day, month, year = spec.month_day
        for back in range(0 if year else 8):
            # No year written: the most recent such day (or the coming one when stated).
            try:
                found = date(today.year - back, month, day)
            except ValueError:
                continue
            if found <= today or spec.future:
                base = found
                break
        else:
            if year:
                base = date(year, month, day)
        weekday_base = False
        future_ok = True
    if base is None and spec.day_offset is not None:
        base = today + timedelta(days=spec.day_offset)
    if spec.clock is None:
        return base
    hour, minute = spec.clock
    if base is None:
        at = datetime.combine(today, dtime(hour, minute), tzinfo=now.tzinfo)
        if at > now + timedelta(minutes=5) and not spec.ahead:
            at -= timedelta(days=1)  # prefer the past: 22h sent at 16h is last night
        return at
    if spec.day_offset == -1 and spec.night and base == today - timedelta(days=1):
        base = today  # "2h đêm qua" is early this morning
    value = datetime.combine(base, dtime(hour, minute), tzinfo=now.tzinfo)
    if weekday_base and not future_ok and value > now + timedelta(minutes=5):
        value -= timedelta(days=7)  # "thứ 6 lúc 20h" sent on Friday at 16h: last week
    return value
