"""The weekly digest: ISO weeks in the configured zone, the figures, JSON and the Zalo text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.calendar import holiday_name, holidays_in_week
from handlers.codes import incident_code, request_code
from handlers.config import DEFAULT_COUNCIL, Settings, parse_quiet_hours, shift_times
from handlers.councils import council_name, council_settings
from handlers.councils import scope as scope_of
from handlers.leave import away_in_week
from handlers.text import whole_percent
from handlers.texts import digest as texts
from handlers.texts import honour as honour_texts
from handlers.texts import posts as post_texts
from handlers.texts.engagement import away_label, tally_note
from handlers.texts.incidents import places_text
from models import digest as q
from models import honour
from models.leave import Leave
from models.posts import week_figures as week_posts_figures

WEEK_RE = re.compile(r"(\d{4})-W(\d{2})")
TEXT_LIMIT = 2000  # Zalo counts UTF-16 units; the sender splits longer texts anyway
MAX_NAMES = 12  # names listed in the chat text; the dashboard has the full lists
MAX_SHIFTS = 6  # shift names in the chat's per-shift line
MAX_INCIDENTS = 5  # incident lines in the chat text; the rest are counted, listed in the JSON
# Check-ins between these local hours count as night ones: `alerts.night`'s default.
NIGHT_FROM, NIGHT_TO = time(22, 0), time(6, 0)
# Platforms on which the bot sees only private chats, @mentions and replies to it in groups.
PARTIAL_VIEW = ("zalo_bot", "local")

FIRST_YEAR = 2000  # before any bot: "did it see anything before these weeks?" starts here


def week_span(w: q.Window, tz: ZoneInfo) -> tuple[str, str]:
    """A week's first and last day as people write them (23/11, 29/11/2026); across New Year
    both with their year (28/12/2026, 03/01/2027), or 28/12 reads as 2027."""
    start = w.start.astimezone(tz)
    last = (w.end - timedelta(days=1)).astimezone(tz)
    first = "%d/%m/%Y" if start.year != last.year else "%d/%m"
    return start.strftime(first), last.strftime("%d/%m/%Y")


def parse_week(week: str) -> tuple[int, int]:
    """'2026-W48' -> (2026, 48); ValueError for anything else or a week that does not exist."""
    match = WEEK_RE.fullmatch(week.strip())
    if match is None:
        raise ValueError(f"{week!r} is not an ISO week like 2026-W48")
    year, num = int(match[1]), int(match[2])
    try:
        date.fromisocalendar(year, num, 1)
    except ValueError:  # week 0, 54, or 53 of a 52-week year
        raise ValueError(f"{week!r}: {year} has no ISO week {num}") from None
    return year, num


def week_bounds(week: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Monday 00:00 local to the next Monday 00:00 local, as aware datetimes."""
    year, num = parse_week(week)
    monday = date.fromisocalendar(year, num, 1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    nxt = monday + timedelta(days=7)
    return start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)


def week_of(at: datetime, tz: ZoneInfo) -> str:
    year, num, _ = at.astimezone(tz).isocalendar()
    return f"{year}-W{num:02d}"


def shift_week(week: str, weeks: int) -> str:
    year, num = parse_week(week)
    monday = date.fromisocalendar(year, num, 1) + timedelta(weeks=weeks)
    y, n, _ = monday.isocalendar()
    return f"{y}-W{n:02d}"


def last_complete_week(now: datetime, tz: ZoneInfo) -> str:
    return shift_week(week_of(now, tz), -1)


def window(
    week: str, tz: ZoneInfo, now: datetime, night: tuple[time, time] = (NIGHT_FROM, NIGHT_TO)
) -> q.Window:
    start, end = week_bounds(week, tz)
    return q.Window(
        start=start,
        end=end,
        as_of=min(max(now, start), end),
        nights=nights(start, end, tz, night),
        tz=tz,
    )


def nights(
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    night: tuple[time, time] = (NIGHT_FROM, NIGHT_TO),
) -> tuple[tuple[datetime, datetime], ...]:
    """Local night spans (`alerts.night`, 22:00-06:00) that overlap [start, end), from the
    evening before; none when the setting is empty ("" gives 00:00-00:00)."""
    dusk_at, dawn_at = night
    if dusk_at == dawn_at:
        return ()
    out: list[tuple[datetime, datetime]] = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    while True:
        dusk = datetime.combine(day, dusk_at, tz)
        if dusk >= end:
            return tuple(out)
        dawn = datetime.combine(day + timedelta(days=dawn_at <= dusk_at), dawn_at, tz)
        out.append((dusk, dawn))
        day += timedelta(days=1)


def night_of(settings: Settings) -> tuple[time, time]:
    """The configured night (`alerts.night`) as local times."""
    return parse_quiet_hours(settings.alerts.night)


@dataclass
class Digest:
    """One week's digest for the park, or for one group (`scope`)."""

    week: str
    tz: ZoneInfo
    window: q.Window
    totals: q.Figures
    groups: list[tuple[q.GroupInfo, q.Figures]]
    enterprises: list[tuple[str, q.Figures]]
    top_members: list[q.MemberLine]
    inactive_members: list[q.MemberLine]  # not those on declared leave (handlers/leave.py)
    trend: list[tuple[str, q.Figures]]  # oldest first, this week last
    open_incidents: dict[str, int]
    pending_directives: list[q.DirectiveStatus]
    budget_used: int
    budget_limit: int
    generated_at: datetime
    scope: q.GroupInfo | None = None
    dashboard_url: str | None = None
    requests: list[q.RequestLine] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    incidents: list[q.IncidentLine] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)  # messages by chat type
    partial_view: bool = False  # the platform shows the bot only part of the groups
    sent: q.SentDigest | None = None  # the text queued for the coordinators, if any
    commendations: list[honour.HonourLine] = field(default_factory=list)  # /khen this week
    patrols: list[honour.PatrolRow] = field(default_factory=list)  # per enterprise with shifts
    holidays: list[str] = field(default_factory=list)  # "06/02 Tết Nguyên Đán" in this week
    posts: dict[str, Any] = field(default_factory=dict)  # models.posts.week_figures
    shifts: list[q.ShiftLine] = field(default_factory=list)  # check-ins per enterprise and shift
    park: str | None = None  # the council's name when the installation has several (issue 20)
    on_leave: list[tuple[q.MemberLine, Leave]] = field(default_factory=list)  # and the leave
    # The bot saw something before the trend's first week: its quiet weeks are zeros then.
    used_before: bool = False
    # The weekly digest job's text: "Tổng kết", even when sent on the week's Sunday evening.
    closing: bool = False

    @property
    def complete(self) -> bool:
        return self.window.as_of >= self.window.end

    @property
    def all_acknowledged(self) -> bool:
        """Every directive of the week had every expected acknowledgement by `as_of`."""
        t = self.totals
        return (
            t.directives > 0
            and t.expected_acks > 0
            and t.acks == t.expected_acks
            and not self.pending_directives
        )

    @property
    def previous(self) -> q.Figures | None:
        return self.trend[-2][1] if len(self.trend) >= 2 else None

    def delta(self) -> dict[str, int | float | None]:
        """This week minus the previous one, for every numeric total."""
        prev = self.previous
        if prev is None:
            return {}
        now, before = self.totals.to_dict(), prev.to_dict()
        out: dict[str, int | float | None] = {}
        for key, value in now.items():
            if isinstance(value, dict):
                continue
            old = before[key]
            out[key] = None if value is None or old is None else round(value - old, 4)
        return out

    def _local(self, at: datetime | None) -> str | None:
        return at.astimezone(self.tz).isoformat() if at is not None else None

    def to_json(self) -> dict[str, Any]:
        """The object `antt-bot digest --format json` prints (SPEC.md 2, plus extra keys)."""
        prev = self.previous
        return {
            "week": self.week,
            "start": self._local(self.window.start),
            "end": self._local(self.window.end),
            "as_of": self._local(self.window.as_of),
            "complete": self.complete,
            "council": self.park,
            "group": None
            if self.scope is None
            else {"chat_id": self.scope.chat_id, "name": self.scope.name},
            "totals": self.totals.to_dict(),
            "groups": [
                {"chat_id": g.chat_id, "name": g.name, "kind": g.kind, **f.to_dict()}
                for g, f in self.groups
            ],
            "enterprises": [{"name": name, **f.to_dict()} for name, f in self.enterprises],
            "top_members": [
                {
                    "member_id": m.member_id,
                    "name": m.name,
                    "enterprise": m.enterprise,
                    "interactions": m.interactions,
                }
                for m in self.top_members
            ],
            "inactive_members": [
                {
                    "member_id": m.member_id,
                    "name": m.name,
                    "enterprise": m.enterprise,
                    "last_active_at": self._local(m.last_active_at),
                }
                for m in self.inactive_members
            ],
            "on_leave": [
                {
                    "member_id": m.member_id,
                    "name": m.name,
                    "enterprise": m.enterprise,
                    "until": self._local(leave.end),
                    "away": away_label(leave, self.tz),  # "vắng 30/11" or "đến 10/12"
                }
                for m, leave in self.on_leave
            ],
            "previous": None
            if prev is None
            else {"week": self.trend[-2][0], "totals": prev.to_dict(), "delta": self.delta()},
            "trend": [{"week": wk, **f.to_dict()} for wk, f in self.trend],
            "open_incidents": {
                "total": sum(self.open_incidents.values()),
                "by_category": dict(self.open_incidents),
            },
            "pending_directives": [
                {
                    "id": d.id,
                    "text": d.text,
                    "created_at": self._local(d.created_at),
                    "acked": d.acked,
                    "expected": d.expected,
                    "missing": list(d.missing),
                    "on_leave": [
                        {
                            "name": who,
                            "until": self._local(leave.end),
                            "away": away_label(leave, self.tz),
                        }
                        for who, leave in d.on_leave
                    ],
                    "late": list(d.late),
                }
                for d in self.pending_directives
            ],
            "requests": [
                {
                    "code": request_code(r.id),
                    "member_id": r.member_id,
                    "text": r.text,
                    "asked_at": self._local(r.asked_at),
                    "answered_at": self._local(r.answered_at),
                }
                for r in self.requests
            ],
            "incidents": [self._incident_json(i) for i in self.incidents],
            "commendations": [
                {
                    "member_id": c.member_id,
                    "name": c.name,
                    "enterprise": c.enterprise,
                    "reason": c.reason,
                    "at": self._local(c.at),
                    "reports_in_month": c.reports,
                    "patrols_in_month": c.patrols,
                }
                for c in self.commendations
            ],
            "patrols": [
                {
                    "enterprise": p.enterprise,
                    "expected": p.expected,
                    "done": p.done,
                    "missed": p.missed,
                }
                for p in self.patrols
            ],
            "shifts": [self._shift_json(s) for s in self.shifts],
            "coverage": {
                "partial": self.partial_view,
                "private_messages": self.seen.get("private", 0),
                "group_messages": sum(n for k, n in self.seen.items() if k != "private"),
            },
            "budget": {
                "used": self.budget_used,
                "limit": self.budget_limit,
                "left": max(0, self.budget_limit - self.budget_used),
            },
            "posts": self._posts_json(),
            "dashboard_url": self.dashboard_url,
            "generated_at": self._local(self.generated_at),
        }

    def _posts_json(self) -> dict[str, Any]:
        if not self.posts:
            return {"published": 0, "reach": 0, "correct": 0, "by_enterprise": [], "items": []}
        items = [{**i, "at": self._local(i["at"])} for i in self.posts["items"]]
        return {**self.posts, "items": items}

    @staticmethod
    def _shift_json(s: q.ShiftLine) -> dict[str, Any]:
        return {
            "enterprise": s.enterprise,
            "shift": s.shift,
            "from": s.start.strftime("%H:%M") if s.start else None,
            "to": s.end.strftime("%H:%M") if s.end else None,
            "night": s.night,
            "checkins": s.checkins,
            "attendance": s.attendance,
            "shift_starts": s.shift_starts,
            "shift_ends": s.shift_ends,
            "patrols": s.patrols,
        }

    def shift_totals(self) -> list[tuple[str, int]]:
        """Check-ins per shift name over every enterprise, in the order shifts are listed."""
        out: dict[str, int] = {}
        for s in self.shifts:
            out[s.shift] = out.get(s.shift, 0) + s.checkins
        return list(out.items())

    def _incident_json(self, i: q.IncidentLine) -> dict[str, Any]:
        return {
            "code": incident_code(i.id),
            "category": i.category,
            "severity": i.severity,
            "status": i.status,
            "places": list(i.places),
            "reported_at": self._local(i.reported_at),
            "acknowledged_at": self._local(i.acknowledged_at),
            "resolved_at": self._local(i.resolved_at),
            "reporters": list(i.reporters),
            "handler": i.handler,
            "outcome": i.outcome,
            "reports": i.reports,
        }

    @property
    def week_number(self) -> int:
        return parse_week(self.week)[1]

    def span(self) -> tuple[str, str]:
        """First and last day of the week, as people write them (week_span)."""
        return week_span(self.window, self.tz)

    def render_text(self, *, with_link: bool = True, public: bool = False) -> str:
        """A short Zalo message: thanks first, then the figures, what is open, who is quiet.

        `public` (a group chat) names nobody who is behind: only praise is public.
        """
        start, end = self.span()
        if self.scope is not None:
            title = texts.TITLE_GROUP.format(
                group=self.scope.name, num=self.week_number, start=start, end=end
            )
        elif self.complete or self.closing:
            title = texts.TITLE.format(num=self.week_number, start=start, end=end)
        else:
            title = texts.TITLE_WEEK.format(num=self.week_number, start=start, end=end)
        if self.park:  # several parks on one installation: say which one
            title = texts.TITLE_PARK.format(title=title, park=self.park)
        if not self.complete:  # a week in progress: say up to when
            as_of = self.window.as_of.astimezone(self.tz).strftime("%H:%M %d/%m")
            title += texts.SO_FAR.format(as_of=as_of)
        t = self.totals
        lines = [title]
        if self.top_members:
            names = ", ".join(_who(m) for m in self.top_members)
            lines.append(texts.THANKS.format(names=names))
        else:
            lines.append(texts.NO_THANKS)
        lines.append(
            texts.ACTIVE.format(
                active=t.active,
                members=t.members,
                pct=percent(t.active, t.members),
                delta=self._active_delta(),
            )
        )
        if t.reengaged:
            lines.append(texts.REENGAGED.format(n=t.reengaged))
        detail = (
            texts.CHECKIN_DETAIL.format(patrols=t.patrols, night=t.checkins_night)
            if t.checkins
            else ""
        )
        lines.append(
            texts.ACTIVITY.format(
                checkins=t.checkins,
                detail=detail,
                reports=t.reports,
                breakdown=_breakdown(t.reports_by_category),
            )
        )
        per_shift = [f"{_short(name, 20)} ({n})" for name, n in self.shift_totals() if n]
        per_shift = per_shift[:MAX_SHIFTS]  # one short line; the page has the full table
        if per_shift:
            night = texts.SHIFTS_NIGHT.format(pct=percent(t.checkins_night, t.checkins))
            lines.append(texts.SHIFTS.format(shifts=" · ".join(per_shift), night=night))
        if t.directives:
            rate = tally_note(t.acks, t.expected_acks, t.acks_on_leave)
            late = texts.ACKS_LATE.format(n=t.acks_late) if t.acks_late else ""
            lines.append(
                texts.DIRECTIVES.format(
                    n=t.directives, acks=t.acks, expected=t.expected_acks, pct=rate, late=late
                )
            )
        if self.posts.get("published"):
            lines.append(
                post_texts.DIGEST_LINE.format(
                    n=self.posts["published"],
                    reach=self.posts["reach"],
                    right=self.posts["correct"],
                )
            )
        if t.tasks_done or t.tasks_overdue:
            lines.append(texts.TASKS.format(done=t.tasks_done, overdue=t.tasks_overdue))
        if self.open_incidents:
            lines.append(
                texts.OPEN_INCIDENTS.format(
                    n=sum(self.open_incidents.values()), breakdown=_categories(self.open_incidents)
                )
            )
        lines.extend(self._incident_lines(public))
        lines.extend(self._programme_lines(public))
        lines.extend(self._pending_line(d, public) for d in self.pending_directives[:3])
        if public:
            if t.inactive > 0:
                lines.append(texts.INACTIVE_COUNT.format(n=t.inactive))
            if t.on_leave > 0:
                lines.append(texts.ON_LEAVE_COUNT.format(n=t.on_leave))
        elif self.inactive_members or self.on_leave:
            if self.inactive_members:
                lines.append(
                    texts.INACTIVE.format(
                        n=len(self.inactive_members),
                        names=names_list([_who(m) for m in self.inactive_members]),
                    )
                )
            if self.on_leave:
                away = [
                    texts.ON_LEAVE_UNTIL.format(who=_who(m), away=away_label(leave, self.tz))
                    for m, leave in self.on_leave
                ]
                lines.append(texts.ON_LEAVE.format(n=len(away), names=names_list(away)))
        elif t.members:
            lines.append(texts.ALL_ACTIVE)
        holiday_at = len(lines)  # the holiday note goes here if the message still fits
        if self.partial_view:
            lines.append(texts.COVERAGE.format(n=sum(self.seen.values())))
        if self.budget_limit:
            lines.append(texts.BUDGET.format(used=self.budget_used, limit=self.budget_limit))
        if with_link and self.dashboard_url:
            lines.append(texts.LINK.format(url=self.dashboard_url))
        if self.holidays:
            note = texts.HOLIDAY_WEEK.format(days=", ".join(self.holidays))
            if _utf16("\n".join([*lines, note])) <= TEXT_LIMIT:
                lines.insert(holiday_at, note)
        return "\n".join(lines)

    def _programme_lines(self, public: bool) -> list[str]:
        """Who was honoured this week; for coordinators, night-shift patrols that were missed."""
        lines: list[str] = []
        if self.commendations:
            names = ", ".join(dict.fromkeys(c.name for c in self.commendations))
            lines.append(honour_texts.DIGEST_PRAISED.format(names=names))
        if self.patrols and not public:
            short = [p for p in self.patrols if p.missed]
            lines.append(
                honour_texts.DIGEST_PATROLS.format(
                    done=sum(p.done for p in self.patrols),
                    expected=sum(p.expected for p in self.patrols),
                    missed=sum(p.missed for p in self.patrols),
                    names=", ".join(f"{p.enterprise} {p.missed}" for p in short) or "-",
                )
            )
        return lines

    def _pending_line(self, d: q.DirectiveStatus, public: bool) -> str:
        """ "📌 Thông báo … còn 2 người chưa xác nhận: …; nghỉ phép: Hoàng Văn Em đến 10/12"."""
        text, behind = _short(d.text, 40), d.behind
        if not behind:
            line = texts.PENDING_AWAY.format(text=text)
        elif public:
            return texts.PENDING_COUNT.format(text=text, n=len(behind))
        else:
            line = texts.PENDING.format(text=text, n=len(behind), names=names_list(behind))
        if public:
            return line + "."
        away = [
            texts.ON_LEAVE_UNTIL.format(who=who, away=away_label(leave, self.tz))
            for who, leave in d.on_leave
        ]
        return line + texts.PENDING_AWAY_NAMES.format(names=names_list(away)) if away else line

    def _incident_lines(self, public: bool) -> list[str]:
        """The week's incidents, one line each with how they ended (or stand)."""
        if not self.incidents:
            return []
        lines = [texts.INCIDENTS.format(n=len(self.incidents))]
        for i in gravest(self.incidents, MAX_INCIDENTS):
            lines.append(incident_line(i, public=public))
        rest = len(self.incidents) - MAX_INCIDENTS
        if rest > 0:
            lines.append(texts.INCIDENTS_MORE.format(n=rest))
        return lines

    def _active_delta(self) -> str:
        prev = self.previous
        if prev is None:
            return ""
        diff = self.totals.active - prev.active
        if diff > 0:
            return texts.DELTA_UP.format(n=diff)
        if diff < 0:
            return texts.DELTA_DOWN.format(n=-diff)
        return texts.DELTA_SAME


SEVERITY_RANK = {"urgent": 0, "high": 1, "medium": 2, "low": 3}


def gravest(incidents: list[q.IncidentLine], n: int) -> list[q.IncidentLine]:
    """The `n` incidents a coordinator must not miss, in the order they happened: the gravest
    first, then those still open. Why: oldest-first cut a week's fires off the chat text
    behind Monday's small matters."""
    if len(incidents) <= n:
        return incidents
    ranked = sorted(
        incidents,
        key=lambda i: (
            SEVERITY_RANK.get(i.severity, 2),
            i.status in q.CLOSED_INCIDENT_STATUSES,
            i.reported_at,
        ),
    )
    chosen = {i.id for i in ranked[:n]}
    return [i for i in incidents if i.id in chosen]


def shown_places(i: q.IncidentLine) -> str:
    """The incident's places as replies and alerts show them ("Cty May Viet", docs/incidents.md);
    the JSON keeps them as typed."""
    return places_text(i.place_items)


def incident_line(i: q.IncidentLine, *, public: bool = False) -> str:
    """• SV3 cháy nổ ở Xưởng 2 (3 báo cáo): đã xử lý xong (đã dập tắt)."""
    shown = shown_places(i)
    place = texts.AT_PLACE.format(place=_short(shown, 30)) if shown else ""
    merged = texts.MERGED.format(n=i.reports) if i.reports > 1 else ""
    who = "" if public or not i.handler else _short(i.handler, 30)
    outcome = texts.OUTCOME.get(i.status, texts.OUTCOME["open"])
    if who and i.status in ("acknowledged", "handling"):
        outcome = texts.OUTCOME_BY[i.status].format(who=who)
    if i.outcome:
        outcome += f" ({_short(i.outcome, 36)})"
    return texts.INCIDENT_LINE.format(
        code=incident_code(i.id),
        category=texts.CATEGORY.get(i.category, i.category),
        place=place,
        merged=merged,
        outcome=outcome,
    )


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def percent(part: int, whole: int) -> str:
    return f"{whole_percent(part, whole)}%" if whole else "–"


def names_list(names: list[str], limit: int = MAX_NAMES) -> str:
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return f"{shown} {texts.MORE.format(n=rest)}" if rest > 0 else shown


def _who(m: q.MemberLine) -> str:
    name = _short(m.name or m.member_id or "?", 40)
    return f"{name} ({_short(m.enterprise, 30)})" if m.enterprise else name


def _short(text: str, limit: int) -> str:
    """At most `limit` characters, cut between words ("không thiệt hại" is not "không
    thi…"), unless one long word fills most of it."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def _categories(counts: dict[str, int]) -> str:
    return ", ".join(
        f"{texts.CATEGORY.get(k, k)} {n}"
        for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def _breakdown(counts: dict[str, int]) -> str:
    return f" ({_categories(counts)})" if counts else ""


async def build_digest(
    session: AsyncSession,
    settings: Settings,
    week: str,
    now: datetime,
    *,
    group_chat_id: str | None = None,
    with_members: bool = True,
    council_id: str | None = None,
) -> Digest:
    """Every figure of one week (so far, if it is the current week). LookupError: no such group.

    `council_id` keeps it to one park's council, with its own settings (docs/councils.md)."""
    council = scope_of(settings, council_id)
    if council_id is not None:
        settings = council_settings(settings, council_id)
    tz = settings.tz
    night = night_of(settings)
    w = replace(window(week, tz, now, night), council_id=council)
    scope: q.GroupInfo | None = None
    if group_chat_id is not None:
        scope = await q.group_by_chat(session, group_chat_id)
        if scope is None or (council and not await q.groups(session, scope.id, council)):
            raise LookupError(group_chat_id)  # unknown, or another park's group
    gpk = scope.id if scope is not None else None
    totals = await q.totals(session, w, gpk)
    silent = await q.inactive_members(session, w, gpk) if with_members else []
    silent_pks = [m.member_pk for m in silent] if with_members else None
    away = await _on_leave(session, settings, w, gpk, silent_pks)
    per_group = await q.figures(session, w, "group", gpk)
    per_ent = await q.figures(session, w, "enterprise", gpk)
    await _count_on_leave(session, w, gpk, list(away), totals, per_group, per_ent)
    trend: list[tuple[str, q.Figures]] = []
    for back in (3, 2, 1):
        wk = shift_week(week, -back)
        past = replace(window(wk, tz, now, night), council_id=council)
        past_totals = await q.totals(session, past, gpk)
        past_totals.on_leave = len(await _on_leave(session, settings, past, gpk))
        trend.append((wk, past_totals))
    trend.append((week, totals))
    used_before = False
    first = trend[0][1]
    if not (first.messages or first.checkins or first.reports):  # else the chart needs no more
        w0 = replace(window(trend[0][0], tz, now, night), council_id=council)
        start = datetime(FIRST_YEAR, 1, 1, tzinfo=tz)
        earlier = await q.totals(
            session, replace(w0, start=start, end=w0.start, as_of=w0.start, nights=()), gpk
        )
        used_before = bool(earlier.messages or earlier.checkins or earlier.reports)
    groups = [(g, per_group.get(g.id, q.Figures())) for g in await q.groups(session, gpk, council)]
    enterprises = sorted(per_ent.items(), key=lambda kv: enterprise_rank(str(kv[0]), kv[1]))
    public = settings.server.public_url.rstrip("/")
    return Digest(
        week=week,
        tz=tz,
        window=w,
        totals=totals,
        groups=groups,
        enterprises=[(str(k), f) for k, f in enterprises],
        top_members=await q.top_members(session, w, gpk) if with_members else [],
        inactive_members=[m for m in silent if m.member_pk not in away],
        on_leave=[(m, away[m.member_pk]) for m in silent if m.member_pk in away],
        trend=trend,
        used_before=used_before,
        open_incidents=await q.open_incidents(session, w, gpk),
        pending_directives=await q.directive_statuses(session, w, gpk, pending_only=True),
        budget_used=await q.budget_used(session, w.as_of),
        budget_limit=settings.engagement.monthly_message_budget,
        generated_at=now,
        scope=scope,
        dashboard_url=f"{public}/dashboard/digest/{week}" if public else None,
        requests=await q.week_requests(session, w, gpk),
        incidents=await q.week_incidents(session, w, gpk),
        seen=await q.messages_seen(session, w, gpk),
        partial_view=settings.platform.kind in PARTIAL_VIEW,
        sent=await q.sent_digest(session, week, council_id or DEFAULT_COUNCIL)
        if scope is None
        else None,
        commendations=await honour.commendations(session, w.start, w.end, tz, w.as_of, council)
        if scope is None
        else [],
        patrols=await honour.patrol_table(
            session,
            shift_times(settings),
            tz,
            settings.patrols.expected_per_shift,
            w.start,
            w.end,
            w.as_of,
            council,
        )
        if scope is None
        else [],
        holidays=[
            f"{d:%d/%m} {holiday_name(settings, d)}" for d in holidays_in_week(settings, w.start)
        ],
        shifts=await q.shift_checkins(session, w, shift_times(settings), tz, gpk),
        posts=await week_posts_figures(
            session,
            w.start,
            w.as_of,
            {scope.chat_id} if scope is not None else None,
            council,
        ),
        park=council_name(settings, council),
    )


async def _on_leave(
    session: AsyncSession,
    settings: Settings,
    w: q.Window,
    gpk: int | None,
    silent: list[int] | None = None,
) -> dict[int, Leave]:
    """The scope's silent members on declared leave in the week, with the leave."""
    if silent is None:
        silent = await q.silent_members(session, w, gpk)
    return await away_in_week(session, settings, w, silent)


async def _count_on_leave(
    session: AsyncSession,
    w: q.Window,
    gpk: int | None,
    away: list[int],
    totals: q.Figures,
    per_group: dict[Any, q.Figures],
    per_ent: dict[Any, q.Figures],
) -> None:
    """Every scope counts its people on leave apart, so no figure calls them inactive."""
    totals.on_leave = len(away)
    scopes: tuple[tuple[q.ScopeKind, dict[Any, q.Figures]], ...] = (
        ("group", per_group),
        ("enterprise", per_ent),
    )
    for kind, figures in scopes:
        for key, n in (await q.members_per_key(session, w, kind, away, gpk)).items():
            if key in figures:
                figures[key].on_leave = n


def enterprise_rank(name: str, f: q.Figures) -> tuple[float, float, str]:
    """Best acknowledgement rate first (none asked: last), then participation, then name."""
    rate = -1.0 if f.ack_rate is None else f.ack_rate
    active = f.active / f.members if f.members else 0.0
    return (-rate, -active, name)
