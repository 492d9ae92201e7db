"""The provincial overview (issue 20): every park's week side by side, the trend, and which
park needs attention and why (the rules are in docs/scaling.md "Which park needs attention")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.codes import incident_code
from handlers.config import Settings
from handlers.councils import councils
from handlers.digest import parse_week, percent, shift_week, week_span, window
from handlers.leave import away_in_week
from handlers.text import whole_percent
from handlers.texts import province as texts
from handlers.texts.categories import CATEGORY
from models import digest as q
from models import province as pq
from models.province import ParkFigures

TREND_WEEKS = 6  # this week and the five before it
# The attention rules' thresholds (docs/scaling.md explains each one).
OPEN_DAYS = 3  # an incident open this many days
SLOW_ACK_MINUTES = 120  # median time to take an incident, and twice the province's
ACK_GAP = 0.2  # ack rate this far below the province's, with at least MIN_EXPECTED asked
MIN_EXPECTED = 5
PARTICIPATION_GAP = 0.25  # participation this far below the province's, or under LOW_SHARE
LOW_SHARE = 0.2
MIN_MEMBERS = 5  # parks smaller than this are not judged on shares or nights
NIGHT_DAYS = 3  # the night rule waits until the week has had this many days
UNANSWERED = 3  # members' requests left unanswered


@dataclass(frozen=True)
class Reason:
    """Why a park needs attention: the rule's name and the sentence people read."""

    rule: str
    text: str


@dataclass
class Park:
    """One park's council in the overview."""

    id: str
    name: str
    figures: ParkFigures
    reasons: list[Reason] = field(default_factory=list)
    totals: q.Figures = field(default_factory=q.Figures)  # its own weekly digest's `totals`

    @property
    def sentence(self) -> str | None:
        """One short sentence: the first reason, and how many more there are."""
        if not self.reasons:
            return None
        more = texts.MORE_REASONS.format(n=len(self.reasons) - 1) if len(self.reasons) > 1 else ""
        first = self.reasons[0].text
        return first[0].upper() + first[1:].removesuffix(".") + more + "."


@dataclass
class ProvinceDigest:
    """One week of every park, with the province's totals and the trend."""

    week: str
    tz: ZoneInfo
    window: q.Window
    parks: list[Park]
    province: ParkFigures
    trend: list[tuple[str, dict[str, ParkFigures], ParkFigures]]  # oldest first, this week last
    generated_at: datetime
    dashboard_url: str | None = None

    @property
    def complete(self) -> bool:
        return self.window.as_of >= self.window.end

    @property
    def week_number(self) -> int:
        return parse_week(self.week)[1]

    @property
    def attention(self) -> list[Park]:
        return [p for p in self.parks if p.reasons]

    def span(self) -> tuple[str, str]:
        """First and last day of the week, as the parks' digests write them."""
        return week_span(self.window, self.tz)

    def _local(self, at: datetime | None) -> str | None:
        return at.astimezone(self.tz).isoformat() if at is not None else None

    def figures_json(self, f: ParkFigures) -> dict[str, Any]:
        """The overview's figures of one park or of the province, flat (the xlsx's columns)."""
        oldest = f.open_incidents[0] if f.open_incidents else None
        return {
            "members": f.members,
            "active": f.active,
            "participation": f.participation,
            "messages": f.messages,
            "checkins": f.checkins,
            "checkins_night": f.checkins_night,
            "patrols": f.patrols,
            "reports": f.reports,
            "reports_by_category": dict(sorted(f.reports_by_category.items())),
            "incidents_new": f.incidents_new,
            "incidents_open": f.incidents_open,
            "oldest_open": None
            if oldest is None
            else {
                "code": incident_code(oldest.id),
                "category": oldest.category,
                "reported_at": self._local(oldest.first_reported_at),
                "days": open_days(oldest.first_reported_at, self.window.as_of),
            },
            "median_ack_minutes": f.median_ack_minutes,
            "median_resolve_minutes": f.median_resolve_minutes,
            "directives": f.directives,
            "expected_acks": f.expected_acks,
            "acks_on_leave": f.acks_on_leave,
            "acks": f.acks,
            "ack_rate": f.ack_rate,
            "requests": f.requests,
            "requests_answered": f.requests_answered,
        }

    def _council_json(self, p: Park) -> dict[str, Any]:
        """SPEC.md 2's council entry; the overview's own figures follow as extra keys."""
        f = p.figures
        extra = self.figures_json(f)
        return {
            "id": p.id,
            "name": p.name,
            "totals": p.totals.to_dict(),
            "incidents_open": f.incidents_open,
            "median_minutes_to_ack": f.median_ack_minutes,
            "attention": p.sentence,
            "participation": f.participation,
            "incidents_new": f.incidents_new,
            "oldest_open": extra["oldest_open"],
            "median_minutes_to_resolve": f.median_resolve_minutes,
            "requests": f.requests,
            "requests_answered": f.requests_answered,
            "reasons": [{"rule": r.rule, "text": r.text} for r in p.reasons],
        }

    def to_json(self) -> dict[str, Any]:
        """The object `antt-bot digest --province --format json` prints (SPEC.md 2)."""
        return {
            "week": self.week,
            "start": self._local(self.window.start),
            "end": self._local(self.window.end),
            "as_of": self._local(self.window.as_of),
            "complete": self.complete,
            "province": self.figures_json(self.province),
            "councils": [self._council_json(p) for p in self.parks],
            "attention": [
                {"council": p.id, "name": p.name, "text": p.sentence} for p in self.attention
            ],
            "trend": [
                {
                    "week": wk,
                    "province": total.headline(),
                    "councils": {
                        p.id: parks.get(p.id, ParkFigures()).headline() for p in self.parks
                    },
                }
                for wk, parks, total in self.trend
            ],
            "dashboard_url": self.dashboard_url,
            "generated_at": self._local(self.generated_at),
        }

    def render_text(self, *, with_link: bool = True) -> str:
        """A Zalo message for the province's board: totals, who needs attention, each park."""
        start, end = self.span()
        title = (texts.TITLE if self.complete else texts.TITLE_WEEK).format(
            num=self.week_number, start=start, end=end
        )
        if not self.complete:
            title += texts.SO_FAR.format(
                as_of=self.window.as_of.astimezone(self.tz).strftime("%H:%M %d/%m")
            )
        t = self.province
        lines = [
            title,
            texts.TOTALS.format(parks=len(self.parks), **_line_fields(t)),
        ]
        # What needs attention first: with 30 parks the list runs past one message.
        if self.attention:
            lines.append(texts.ATTENTION)
            lines.extend(
                texts.ATTENTION_LINE.format(name=p.name, reason=p.sentence) for p in self.attention
            )
        else:
            lines.append(texts.ALL_WELL)
        lines.append(texts.PARKS)
        for p in self.parks:
            lines.append(texts.PARK.format(name=p.name, **_line_fields(p.figures)))
        if with_link and self.dashboard_url:
            lines.append(texts.LINK.format(url=self.dashboard_url))
        return "\n".join(lines)


def rate(value: float | None) -> str:
    return f"{whole_percent(value)}%" if value is not None else texts.NONE


def _line_fields(f: Any) -> dict[str, Any]:
    """The figures a line of the provincial digest shows, for the province or one park."""
    return {
        "active": f.active,
        "members": f.members,
        "pct": percent(f.active, f.members),
        "checkins": f.checkins,
        "patrols": f.patrols,
        "reports": f.reports,
        "open": f.incidents_open,
        "ack": _ack(f.ack_rate),
    }


def _ack(value: float | None) -> str:
    return "" if value is None else texts.ACK.format(pct=rate(value))


def open_days(since: datetime, at: datetime) -> int:
    return max(0, int((at - since).total_seconds() // 86400))


def took(minutes: float) -> str:
    """'45 phút', '3 giờ', '2 ngày': how long, as people say it."""
    if minutes < 60:
        return texts.MINUTES.format(n=round(minutes))
    if minutes < 48 * 60:
        return texts.HOURS.format(n=round(minutes / 60))
    return texts.DAYS.format(n=round(minutes / 1440))


def reasons(park: ParkFigures, province: ParkFigures, w: q.Window) -> list[Reason]:
    """Why a park needs attention, most pressing first (docs/scaling.md lists the rules)."""
    out: list[Reason] = []
    R = texts.REASON
    if park.open_incidents:
        oldest = park.open_incidents[0]
        days = open_days(oldest.first_reported_at, w.as_of)
        if days >= OPEN_DAYS:
            category = CATEGORY.get(oldest.category, oldest.category)
            text = R["open_incident"].format(
                code=incident_code(oldest.id), category=category, days=days
            )
            out.append(Reason("open_incident", text))
    mine, theirs = park.median_ack_minutes, province.median_ack_minutes
    if mine is not None and theirs is not None and mine > max(SLOW_ACK_MINUTES, 2 * theirs):
        text = R["slow_ack"].format(took=took(mine), province=took(theirs))
        out.append(Reason("slow_ack", text))
    mine_rate, all_rate = park.ack_rate, province.ack_rate
    if (
        mine_rate is not None
        and all_rate is not None
        and park.expected_acks >= MIN_EXPECTED
        and mine_rate < all_rate - ACK_GAP
    ):
        text = R["low_acks"].format(pct=rate(mine_rate), province=rate(all_rate))
        out.append(Reason("low_acks", text))
    judged = park.members >= MIN_MEMBERS
    if judged and park.checkins_night == 0 and w.as_of - w.start >= timedelta(days=NIGHT_DAYS):
        out.append(Reason("no_night", R["no_night"]))
    share, all_share = park.participation, province.participation
    if (
        judged
        and share is not None
        and all_share is not None
        and (share < LOW_SHARE or share < all_share - PARTICIPATION_GAP)
    ):
        text = R["low_participation"].format(pct=rate(share), province=rate(all_share))
        out.append(Reason("low_participation", text))
    waiting = park.requests - park.requests_answered
    if waiting >= UNANSWERED:
        out.append(Reason("unanswered", R["unanswered"].format(n=waiting)))
    return out


def _total(parks: dict[str, ParkFigures], ids: list[str]) -> ParkFigures:
    total = ParkFigures()
    for council_id in ids:
        if council_id in parks:
            total.add(parks[council_id])
    total.open_incidents.sort(key=lambda i: (i.first_reported_at, i.id))
    return total


async def _count_on_leave(
    session: AsyncSession, settings: Settings, w: q.Window, totals: dict[str, q.Figures]
) -> None:
    """Each park's silent members on declared leave, apart from its inactive ones, as the
    park's own digest counts them."""
    silent = await pq.silent_by_council(session, w)
    everyone = sorted({pk for pks in silent.values() for pk in pks})
    away = await away_in_week(session, settings, w, everyone)
    for council, pks in silent.items():
        if council in totals:
            totals[council].on_leave = sum(pk in away for pk in pks)


async def build_province_digest(
    session: AsyncSession, settings: Settings, week: str, now: datetime
) -> ProvinceDigest:
    """Every park's figures of one week (so far, if current) and the weeks before it."""
    tz = settings.tz
    w = window(week, tz, now)
    parks = councils(settings)
    ids = [c.id for c in parks]
    totals, figures = await pq.week_figures(session, w)
    await _count_on_leave(session, settings, w, totals)
    province = _total(figures, ids)
    trend: list[tuple[str, dict[str, ParkFigures], ParkFigures]] = []
    for back in range(TREND_WEEKS - 1, 0, -1):
        wk = shift_week(week, -back)
        past = await pq.headline_figures(session, window(wk, tz, now))
        trend.append((wk, past, _total(past, ids)))
    trend.append((week, figures, province))
    shown = []
    for c in parks:
        f = figures.get(c.id, ParkFigures())
        own = totals.get(c.id, q.Figures())
        shown.append(Park(c.id, c.name, f, reasons(f, province, w), own))
    public = settings.server.public_url.rstrip("/")
    return ProvinceDigest(
        week=week,
        tz=tz,
        window=w,
        parks=shown,
        province=province,
        trend=trend,
        generated_at=now,
        dashboard_url=f"{public}/dashboard/province?week={week}" if public else None,
    )
