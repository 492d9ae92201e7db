"""What a report says, checked and defaulted; urgency; small text helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dt_time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from handlers.config import Settings, parse_quiet_hours
from handlers.parse import parse
from handlers.parse.followups import categories_named
from handlers.text import fold
from handlers.texts import incidents as texts
from handlers.texts.people import address, address_full
from models.incidents import near_place, split_key
from models.tables import Incident, Member

DOUBT_MINUTES = 30  # how long the bot waits for "đúng / sai / sửa" before "unconfirmed"
# An urgent reading that rests on a word ambiguous without diacritics, with nothing to back it
# (no injury, spreading, 114...), is asked about first; the alert goes out on "đúng", or after
# this many minutes without "không" (the escalation job releases it). docs/parser.md.
HOLD_MINUTES = 3
HELD = -1  # escalation_level of an urgent incident whose first alert waits for the reporter
LOW_CONFIDENCE = 0.5  # below this the category is unsure: ask
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
CATEGORIES = frozenset(texts.CATEGORY)

# Answers to "Có phải ... không?" (folded, lower case). "có"/"không" count only alone,
# since "có người ..." or "không phải cháy, ..." may start a new message.
YES = {
    "dung",
    "dung roi",
    "dung vay",
    "dung a",
    "co",
    "co a",
    "phai",
    "phai roi",
    "phai a",
    "chinh xac",
    "ok",
    "oke",
    "vang",
    "da",
    "da dung",
    "da phai",
    "u",
    "uh",
    "yes",
}
NO = {
    "sai",
    "sai roi",
    "khong",
    "khong phai",
    "khong a",
    "ko",
    "k",
    "khong dung",
    "no",
    "nham",
    "bao nham",
    "khong co",
}
YES_LEAD = {"dung", "phai", "chinh"}
NO_LEAD = {"sai"}
# "Không," / "ko phải ..." opening a short answer: no, whatever follows. Without it the fire
# misread from "chay" (ran) was alerted to the coordinators after the hold anyway.
_NO_OPENING = re.compile(r"(?:khong|ko|k|hong|hok)(?:\s*[,.!;:\-]|\s+phai\b)")


def yes_or_no(text: str) -> str | None:
    """ "yes" or "no" for a short answer to a bot's yes-or-no question ("đúng rồi", "ừ",
    "không phải"), else None (the message says something else)."""
    words = folded_words(text)
    first = words.split()[0] if words else ""
    short = len(words.split()) <= 6
    if words in YES or (short and first in YES_LEAD):
        return "yes"
    if words in NO or (short and first in NO_LEAD):
        return "no"
    if short and _NO_OPENING.match(fold(text).lower().lstrip()):
        return "no"  # "ko, chay xe thoi", "không phải, em chạy ra xưởng 2"
    return None


# Replies to an alert, checked in this order on folded text (word boundaries).
REPLY_ACTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("false_alarm", ("bao nham", "nham roi", "khong co gi")),
    ("handling", ("chua xong", "dang xu ly", "dang den", "dang toi", "dang kiem tra")),
    ("resolved", ("xong", "da xu ly", "da dap tat", "da khac phuc", "da on dinh")),
    ("acknowledged", ("nhan xu ly", "da nhan", "nhan", "ro", "ok")),
)
TAKE_OVER = "nhan xu ly"

ID_RE = re.compile(r"^\s*#?\s*(sv|cv)?\s*[-#]?\s*(\d{1,12})\b(.*)$", re.IGNORECASE | re.DOTALL)
SV_RE = re.compile(r"\bsv\s*-?\s*(\d{1,12})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Understood:
    """The parts of a parse a report keeps, checked and defaulted (bad input never crashes)."""

    category: str | None
    severity: str | None
    ambiguous: bool
    confidence: float
    time: dict[str, str] | None
    places: list[dict[str, Any]]
    people: int | None
    phones: list[str]
    reasons: tuple[str, ...] = ()

    @classmethod
    def of(cls, parsed: Any) -> Understood:
        data: dict[str, Any] = {}
        if parsed is not None:
            try:
                data = dict(parsed.to_dict())
            except (AttributeError, TypeError, ValueError):
                data = {}
        category = data.get("category")
        severity = data.get("severity")
        confidence = data.get("confidence", 1.0)
        time: Any = data.get("time")
        people = data.get("people")
        places = [
            {
                "kind": str(p.get("kind") or "place"),
                "code": p.get("code"),
                "text": str(p.get("text") or ""),
            }
            for p in _list(data.get("places"))
            if isinstance(p, dict)
        ]
        time = (
            {k: v for k, v in time.items() if k in ("at", "date") and isinstance(v, str)}
            if isinstance(time, dict)
            else None
        )
        return cls(
            category=category if isinstance(category, str) and category in CATEGORIES else None,
            severity=severity if isinstance(severity, str) and severity in SEVERITY_RANK else None,
            ambiguous=data.get("ambiguous") is True,
            confidence=float(confidence) if isinstance(confidence, int | float) else 1.0,
            time=time or None,
            places=places,
            people=people if isinstance(people, int) and not isinstance(people, bool) else None,
            phones=[x for x in _list(data.get("phones")) if isinstance(x, str)],
            reasons=tuple(x for x in _list(data.get("reasons")) if isinstance(x, str)),
        )

    @property
    def doubtful(self) -> bool:
        return self.ambiguous or self.confidence < LOW_CONFIDENCE

    @property
    def ask_first(self) -> bool:
        """A guess with nothing to back it: the reporter confirms before anyone is alerted."""
        return self.ambiguous and not self.reasons


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def place_keys(places: list[dict[str, Any]]) -> set[str]:
    """Comparable place keys: kind plus the folded code (or the words when no code)."""
    keys = set()
    for p in places:
        ident = p.get("code") or p.get("text") or ""
        norm = " ".join(fold(str(ident)).lower().split())
        if norm:
            keys.add(f"{p.get('kind') or 'place'}:{norm}")
    return keys


def occurred_at(time: dict[str, str] | None, sent_at: datetime, tz: ZoneInfo) -> datetime:
    """When it happened: the parsed local time, the start of a parsed day, else when sent."""
    if time:
        try:
            if time.get("at"):
                at = datetime.fromisoformat(time["at"])
                return (at if at.tzinfo else at.replace(tzinfo=tz)).astimezone(UTC)
            if time.get("date"):
                day = date.fromisoformat(time["date"])
                return datetime.combine(day, dt_time(0), tz).astimezone(UTC)
        except (TypeError, ValueError, OverflowError):
            pass
    return sent_at


def local(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%H:%M %d/%m")


def time_text(time: dict[str, str] | None, tz: ZoneInfo) -> str:
    """The parsed time as the reporter would say it back."""
    if not time:
        return ""
    try:
        if time.get("at"):
            at = datetime.fromisoformat(time["at"])
            return (at.astimezone(tz) if at.tzinfo else at).strftime("%H:%M %d/%m")
        if time.get("date"):
            return "ngày " + date.fromisoformat(time["date"]).strftime("%d/%m/%Y")
    except (TypeError, ValueError, OverflowError):
        pass
    return ""


# Reasons that make a report urgent at any hour (docs/parser.md lists them).
URGENT_REASONS = frozenset(
    {"injury", "fainted", "death", "weapon", "spreading", "explosion", "toxic", "evacuation"}
)

# What says a fire is not over whatever else is said ("đã dập tắt một phần" while it
# spreads, someone trapped): the alert then still says to call 114.
STILL_DANGEROUS = URGENT_REASONS | {"trapped", "serious", "urgent"}


def put_out(reasons: Iterable[str]) -> bool:
    """The reporters say the fire is out, and nothing they say keeps it dangerous."""
    said = set(reasons)
    return "put_out" in said and not said & STILL_DANGEROUS


def at_night(settings: Settings, at: datetime | None) -> bool:
    """Whether `at` falls in alerts.night (local time); an empty window is never night."""
    if at is None:
        return False
    start, end = parse_quiet_hours(settings.alerts.night)
    if start == end:
        return False
    t = at.astimezone(settings.tz).time()
    return start <= t < end if start < end else (t >= start or t < end)


def is_urgent(
    settings: Settings,
    category: str,
    severity: str,
    reasons: tuple[str, ...] = (),
    at: datetime | None = None,
) -> bool:
    """Urgent by category or severity, by what it says (injury, weapon...), or by the hour
    `at` it is reported (a night theft told the next morning wakes nobody)."""
    return (
        category in settings.alerts.urgent_categories
        or severity in settings.alerts.urgent_severities
        or bool(URGENT_REASONS.intersection(reasons))
        or (category in settings.alerts.night_urgent_categories and at_night(settings, at))
    )


def worse(a: str, b: str) -> str:
    return a if SEVERITY_RANK.get(a, 1) >= SEVERITY_RANK.get(b, 1) else b


def name_of(member: Member | None) -> str:
    """ "anh Quân": how alerts, timelines and status replies name a person."""
    if member is None:
        return "?"
    return address(member)


def full_name_of(member: Member | None) -> str:
    """ "anh Lê Văn Cường": the reporter in an alert, where the coordinator must know who."""
    return "?" if member is None else address_full(member)


_WORD_RE = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=64)
def folded_words(text: str) -> str:
    """The text's words folded and lower-cased, one space apart. Kept for a while: several
    hooks read the same message's words in turn."""
    return " ".join(_WORD_RE.findall(fold(text).lower()))


def has_phrase(words: str, phrase: str) -> bool:
    return f" {phrase} " in f" {words} "


# People trapped: the parse has no reason for it ("bị kẹt" reads as a machine jam), and it is
# as grave as an injury. Only people: "máy bị kẹt" is a report of its own.
TRAPPED = ("mac ket", "bi ket", "ket lai", "ket ben trong", "khong ra duoc", "chua ra duoc")
PERSON = ("nguoi", "cong nhan", "nhan vien", "bao ve", "ai")


# "thang máy bị kẹt, không có ai bên trong": a machine stuck, nobody in it.
NOBODY = tuple(
    f"{no} {have}{who}"
    for no in ("khong", "ko", "k")
    for have in ("co ", "")
    for who in ("ai", "nguoi")
)


def people_trapped(text: str, people: int | None) -> bool:
    """Someone said trapped ("có người bị kẹt", "2 công nhân mắc kẹt"), not a machine, nor
    one with nobody inside ("thang máy bị kẹt, không có ai bên trong")."""
    words = folded_words(text)
    if not any(has_phrase(words, p) for p in TRAPPED):
        return False
    if not people and any(has_phrase(words, p) for p in NOBODY):
        return False
    return bool(people) or any(has_phrase(words, p) for p in PERSON)


def asked_about(
    text: str, now: datetime, tz: ZoneInfo, under_way: list[Incident]
) -> Incident | None:
    """Which of `under_way` the words are about: named by its code, or by one of its places
    or its kind of event (both count most; the first listed wins a tie)."""
    if not under_way:
        return None
    codes = {int(n) for n in SV_RE.findall(text)}
    if codes:  # a code names its incident: another one's words or places do not count
        return next((i for i in under_way if i.id in codes), None)
    places = parse(text, now, tz).places
    keys = place_keys([{"kind": p.kind, "code": p.code, "text": p.text} for p in places])
    kinds = categories_named(text)

    def weight(incident: Incident) -> int:
        theirs = split_key(incident.place_key)
        shared = bool(keys & theirs) and near_place(keys, theirs)
        return 2 * shared + (incident.category in kinds)

    best = max(under_way, key=weight)  # the latest reported wins a tie
    return best if weight(best) else None
