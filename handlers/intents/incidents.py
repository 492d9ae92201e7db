"""Incidents: reports from parses and /baocao, doubt questions, urgent alerts, merges, status.

Users see incident ids as "SV12" (sự việc) and task ids as "CV7" (công việc); see
docs/incidents.md for the whole flow and the decisions behind it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.config import Settings, parse_quiet_hours
from handlers.context import Context
from handlers.parse import parse
from handlers.registry import HANDLERS, hook, intent
from handlers.text import fold
from handlers.texts import incidents as texts
from models.incidents import (
    CLOSED,
    CONFIRM_REPORT,
    add_event,
    alerted_chats,
    doubts_for_reports,
    find_mergeable,
    get_incident,
    join_key,
    latest_report_since,
    lock_category,
    open_doubt,
    open_incidents,
    orphan_photos,
    queue_alerts,
    reports_of,
    split_key,
    timeline,
    unacknowledged_urgent,
)
from models.outbox import cancel_pending, enqueue, find_quoted
from models.people import coordinators
from models.tables import Attachment, Conversation, Group, Incident, Member, Report, Task

log = logging.getLogger(__name__)

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


# ---------------------------------------------------------------------------- understanding


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


def is_held(incident: Incident) -> bool:
    """An urgent incident whose first alert waits for the reporter's answer."""
    return incident.urgent and incident.escalation_level == HELD and incident.status == "reported"


def hold_alert(session: AsyncSession, now: datetime, incident: Incident) -> None:
    """Mark the incident urgent with its first alert held for HOLD_MINUTES."""
    incident.urgent = True
    incident.escalation_level = HELD
    incident.next_escalation_at = now + timedelta(minutes=HOLD_MINUTES)
    add_event(session, incident, "alert_held", now, note=f"chờ người báo {HOLD_MINUTES} phút")


async def release_held(
    session: AsyncSession, settings: Settings, now: datetime, incident: Incident, confirmed: bool
) -> int:
    """The held first alert goes out: the reporter said "đúng" or did not deny in time."""
    reports = await reports_of(session, incident.id)
    if not reports:
        return 0
    first = reports[0]
    reporter = await session.get(Member, first.member_pk) if first.member_pk else None
    when = local(first.occurred_at or first.created_at, settings.tz)
    reach = await raise_alert(
        session, settings, now, incident, first, reporter, when, unconfirmed=not confirmed
    )
    return len(reach.targets)


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
    {"injury", "death", "weapon", "spreading", "explosion", "toxic", "evacuation"}
)


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
    """Urgent by category or severity, by what it says (injury, weapon...), or by the hour."""
    return (
        category in settings.alerts.urgent_categories
        or severity in settings.alerts.urgent_severities
        or bool(URGENT_REASONS.intersection(reasons))
        or (category in settings.alerts.night_urgent_categories and at_night(settings, at))
    )


def worse(a: str, b: str) -> str:
    return a if SEVERITY_RANK.get(a, 1) >= SEVERITY_RANK.get(b, 1) else b


def name_of(member: Member | None) -> str:
    if member is None:
        return "?"
    return member.name or member.display_name or member.member_id or "?"


def folded_words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(text).lower()))


def has_phrase(words: str, phrase: str) -> bool:
    return f" {phrase} " in f" {words} "


# ---------------------------------------------------------------------------- alerts


async def coordinator_targets(
    session: AsyncSession, settings: Settings, exclude_member_pk: int | None = None
) -> list[tuple[str, int | None]]:
    """Where alerts go: each coordinator's private chat, then each coordinators' chat."""
    members, chats = await coordinators(session, settings.coordinators)
    targets: list[tuple[str, int | None]] = []
    for m in members:
        if m.private_chat_id and m.id != exclude_member_pk:
            targets.append((m.private_chat_id, m.id))
    targets.extend((chat, None) for chat in chats)
    unique: dict[str, int | None] = {}
    for chat, member_pk in targets:
        unique.setdefault(chat, member_pk)
    return list(unique.items())


@dataclass
class Reach:
    """Who an alert was actually queued for: people by name, groups by name."""

    targets: list[tuple[str, int | None]] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


async def alert_reach(
    session: AsyncSession, settings: Settings, exclude_member_pk: int | None = None
) -> Reach:
    """Coordinators privately and the coordinators' chats; with no coordinator reachable in
    private, the council group(s) too, so an alert never waits for nobody."""
    reach = Reach(targets=await coordinator_targets(session, settings, exclude_member_pk))
    private = [pk for _chat, pk in reach.targets if pk is not None]
    if not private:
        councils = await session.execute(
            select(Group.chat_id).where(Group.kind == "council").order_by(Group.id)
        )
        known = {chat for chat, _pk in reach.targets}
        reach.targets.extend((chat, None) for (chat,) in councils if chat not in known)
    await _name_targets(session, reach)
    return reach


async def _name_targets(session: AsyncSession, reach: Reach) -> None:
    for chat, pk in reach.targets:
        person = await session.get(Member, pk) if pk is not None else None
        if person is None:
            person = (
                (await session.execute(select(Member).where(Member.private_chat_id == chat)))
                .scalars()
                .first()
            )
        if person is not None:
            reach.people.append(name_of(person))
            continue
        group = (
            await session.execute(select(Group).where(Group.chat_id == chat))
        ).scalar_one_or_none()
        reach.groups.append(group.name if group is not None and group.name else "điều phối")


async def alerted_reach(session: AsyncSession, incident_id: int) -> Reach:
    """Who really has an alert row for this incident (what the reporter is told)."""
    reach = Reach(targets=[(chat, None) for chat in await alerted_chats(session, incident_id)])
    await _name_targets(session, reach)
    return reach


async def raise_alert(
    session: AsyncSession,
    settings: Settings,
    now: datetime,
    incident: Incident,
    report: Report,
    reporter: Member | None,
    when: str,
    unconfirmed: bool,
) -> Reach:
    """Level 0: tell every coordinator at once (priority 0: quiet hours and budget do not apply)."""
    exclude = reporter.id if reporter is not None else None
    reach = await alert_reach(session, settings, exclude_member_pk=exclude)
    text = texts.alert(
        incident.id,
        incident.category,
        texts.places_text(report.places),
        texts.Reporter(
            name_of(reporter),
            reporter.phone if reporter is not None else None,
            reporter.enterprise if reporter is not None else None,
        ),
        when,
        report.text,
        report.phones,
        unconfirmed,
    )
    await queue_alerts(session, incident.id, reach.targets, text, f"alert:{incident.id}:0", now)
    incident.urgent = True
    incident.escalation_level = 0
    incident.next_escalation_at = now + timedelta(minutes=settings.alerts.ack_timeout_minutes)
    note = ", ".join(reach.people + reach.groups) or "không có người nhận: chờ chuyển cấp"
    add_event(
        session, incident, "alert", now, note=note + (" (chưa xác nhận)" if unconfirmed else "")
    )
    if not reach.targets:
        log.warning("incident %s: no coordinator to alert", incident.id)
    return reach


async def tell_alerted(
    session: AsyncSession, now: datetime, incident: Incident, what: str, text: str, skip: set[str]
) -> None:
    """Follow-up to everyone who got the alert (taken, confirmed, false alarm)."""
    for chat in await alerted_chats(session, incident.id):
        if chat in skip:
            continue
        await enqueue(
            session,
            chat_id=chat,
            text=text,
            kind="alert" if what == "confirmed" else "reply",
            now=now,
            key=f"incident-{what}:{incident.id}:{chat}",
            ref_type="incident",
            ref_id=incident.id,
        )


# ---------------------------------------------------------------------------- filing


async def _place(
    session: AsyncSession, settings: Settings, now: datetime, report: Report, member_pk: int
) -> tuple[Incident, bool]:
    """Put a report into the open incident it belongs to, or a new one: (incident, merged)."""
    keys = place_keys(report.places)
    await lock_category(session, report.category)
    incident = await find_mergeable(
        session,
        category=report.category,
        keys=keys,
        now=now,
        window=timedelta(minutes=settings.alerts.merge_window_minutes),
    )
    merged = incident is not None
    if incident is None:
        incident = Incident(
            category=report.category,
            severity=report.severity,
            status="reported",
            place_key=join_key(keys),
            urgent=False,
            first_reported_at=now,
            last_reported_at=now,
            escalation_level=0,
        )
        session.add(incident)
        await session.flush()
    else:
        incident.last_reported_at = now
        incident.severity = worse(incident.severity, report.severity)
        incident.place_key = join_key(split_key(incident.place_key) | keys)
    report.incident_pk = incident.id
    await session.flush()
    add_event(
        session,
        incident,
        "merged" if merged else "report",
        now,
        member_pk=member_pk,
        note=f"báo cáo số {report.id}",
    )
    return incident, merged


async def _adopt_photos(ctx: Context, report: Report) -> None:
    """The report's own photo (an image with a caption) and photos sent just before it."""
    since = ctx.now - timedelta(minutes=ctx.settings.alerts.photo_attach_minutes)
    for att in await orphan_photos(ctx.session, ctx.member.id, since):
        att.report_pk = report.id
    if ctx.event.kind == "image" and ctx.event.media_url:
        ctx.session.add(_attachment(ctx, report.id))


def _attachment(ctx: Context, report_pk: int | None) -> Attachment:
    return Attachment(
        report_pk=report_pk,
        message_pk=ctx.message.id if ctx.message else None,
        member_pk=ctx.member.id,
        url=ctx.event.media_url or "",
        status="pending",
        attempts=0,
        next_attempt_at=ctx.now,
        created_at=ctx.now,
    )


async def file_report(ctx: Context, u: Understood, text: str) -> Report:
    """Store a report, merge it or open an incident, alert if urgent, and answer the reporter."""
    s, settings, now = ctx.session, ctx.settings, ctx.now
    category = u.category or "other"
    severity = u.severity or "medium"
    report = Report(
        chat_id=ctx.event.chat_id,
        member_pk=ctx.member.id,
        message_pk=ctx.message.id if ctx.message else None,
        category=category,
        severity=severity,
        status="pending" if u.doubtful else "confirmed",
        occurred_at=occurred_at(u.time, ctx.event.sent_at, ctx.tz),
        places=u.places,
        people=u.people,
        phones=u.phones,
        text=text,
        ambiguous=u.ambiguous,
        created_at=now,
    )
    s.add(report)
    incident, merged = await _place(s, settings, now, report, ctx.member.id)
    await _adopt_photos(ctx, report)
    doubtful = u.doubtful
    if doubtful and merged:
        # Someone else already confirmed this incident: the doubt is answered by them.
        others = [r for r in await reports_of(s, incident.id) if r.id != report.id]
        if any(r.status == "confirmed" for r in others):
            report.status, doubtful = "confirmed", False
    held = False
    if (
        is_urgent(settings, category, severity, u.reasons, report.occurred_at)
        and (not incident.urgent or is_held(incident))
        and incident.status == "reported"
    ):
        if doubtful and u.ask_first and not incident.urgent:
            hold_alert(s, now, incident)
            held = True
        else:
            when = time_text(u.time, ctx.tz) or local(ctx.event.sent_at, ctx.tz)
            await raise_alert(
                s, settings, now, incident, report, ctx.member, when, unconfirmed=doubtful
            )
    where = texts.places_text(report.places)
    if doubtful:
        # Asked in private when the reporter has a private chat with the bot (nobody else
        # in the group needs the question); else in the group, saying how to answer there.
        ask_in = ctx.member.private_chat_id if not ctx.is_private else None
        s.add(
            Conversation(
                chat_id=ask_in or ctx.event.chat_id,
                member_pk=ctx.member.id,
                kind=CONFIRM_REPORT,
                ref_id=report.id,
                data={"incident": incident.id},
                status="open",
                created_at=now,
                expires_at=now + timedelta(minutes=DOUBT_MINUTES),
            )
        )
        question = (
            texts.hold_question(category, where, HOLD_MINUTES)
            if held
            else texts.doubt_question(category, where)
        )
        if ask_in:
            await ctx.say(
                ask_in,
                texts.ASKED_FROM_GROUP.format(group=ctx.group.name) + question,
                ref_type="report",
                ref_id=report.id,
            )
        elif not ctx.is_private:
            await ctx.reply(question + texts.GROUP_ANSWER_HINT, ref_type="report", ref_id=report.id)
        else:
            await ctx.reply(question, ref_type="report", ref_id=report.id)
    elif merged:
        handler = await s.get(Member, incident.handler_pk) if incident.handler_pk else None
        await ctx.reply(
            texts.report_merged(
                report.id,
                incident.id,
                category,
                where,
                name_of(handler) if handler else None,
                bool(await alerted_chats(s, incident.id)),
            ),
            ref_type="report",
            ref_id=report.id,
        )
    else:
        await _confirm_reply(ctx, report, incident, u.time, alerted=incident.urgent)
    return report


async def _confirm_reply(
    ctx: Context, report: Report, incident: Incident, time: dict[str, str] | None, alerted: bool
) -> None:
    """The reporter hears what was understood and, for an urgent one, who really was alerted."""
    reach = await alerted_reach(ctx.session, incident.id) if alerted else None
    await ctx.reply(
        texts.report_received(
            report.id,
            incident.id,
            report.category,
            texts.places_text(report.places),
            time_text(time, ctx.tz),
            report.people,
            report.phones,
            texts.reach_sentence(reach.people, reach.groups) if reach is not None else "",
        ),
        ref_type="report",
        ref_id=report.id,
    )


@intent("incident")
async def incident_message(ctx: Context) -> None:
    """A message the parser read as an incident report."""
    await file_report(ctx, Understood.of(ctx.parsed), ctx.text)


# ---------------------------------------------------------------------------- doubt answers


def classify_answer(text: str) -> tuple[str, str] | None:
    """("yes"|"no"|"fix", rest) for an answer to the doubt question, else None."""
    words = folded_words(text)
    if not words:
        return None
    first = words.split()[0]
    if first == "sua":
        match = re.match(r"\s*\S+[\s:,.-]*(.*)$", text, flags=re.DOTALL)
        return ("fix", match.group(1).strip() if match else "")
    short = len(words.split()) <= 6
    if first == "chay" and short:
        # "chạy" (ran) says the bot misread; "cháy" confirms; a bare "chay" says neither.
        typed = unicodedata.normalize("NFC", text).lower()
        if "chạy" in typed:
            return ("no", "")
        return ("yes", "") if "cháy" in typed else None
    if words in YES or (short and first in YES_LEAD):
        return ("yes", "")
    if words in NO or (short and first in NO_LEAD):
        return ("no", "")
    return None


@hook(10)
async def doubt_answer(ctx: Context) -> bool:
    """ "đúng" confirms, "sai" cancels, "sửa ..." corrects; anything else is routed as usual."""
    if not ctx.text.strip():
        return False
    answer = classify_answer(ctx.text)  # cheap first: most messages are not answers
    if answer is None:
        return False
    conv = await open_doubt(ctx.session, ctx.event.chat_id, ctx.member.id, ctx.now)
    if conv is None:
        return False
    report = await ctx.session.get(Report, conv.ref_id) if conv.ref_id else None
    incident = (
        await get_incident(ctx.session, report.incident_pk, lock=True)
        if (report is not None and report.incident_pk)
        else None
    )
    if report is None or incident is None:
        conv.status = "done"
        return False
    kind, rest = answer
    if kind == "fix" and not rest:
        await ctx.reply(texts.doubt_question(report.category, texts.places_text(report.places)))
        return True
    conv.status = "done"
    if kind == "yes":
        await _confirm(ctx, report, incident)
    elif kind == "no":
        await _withdraw(ctx, report, incident)
    else:
        await _correct(ctx, report, incident, rest)
    return True


async def _confirm(ctx: Context, report: Report, incident: Incident) -> None:
    report.status = "confirmed"
    add_event(ctx.session, incident, "confirmed", ctx.now, ctx.member.id, f"báo cáo số {report.id}")
    if is_held(incident):
        await release_held(ctx.session, ctx.settings, ctx.now, incident, confirmed=True)
    elif incident.urgent and incident.status == "reported":
        await tell_alerted(
            ctx.session,
            ctx.now,
            incident,
            "confirmed",
            texts.TO_ALERTED["confirmed"].format(
                code=texts.incident_code(incident.id),
                category=texts.category_name(incident.category),
            ),
            set(),
        )
    await _confirm_reply(
        ctx, report, incident, _stored_time(report, ctx.tz), alerted=incident.urgent
    )


def _stored_time(report: Report, tz: ZoneInfo) -> dict[str, str] | None:
    """A time to show back: the stored occurrence when it differs from the filing moment."""
    if report.occurred_at is None or abs(report.occurred_at - report.created_at) < timedelta(
        minutes=1
    ):
        return None
    return {"at": report.occurred_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M")}


async def _withdraw(ctx: Context, report: Report, incident: Incident) -> None:
    """The reporter says it was not what the bot thought: cancel, and close if nothing is left."""
    report.status = "false_alarm"
    add_event(ctx.session, incident, "withdrawn", ctx.now, ctx.member.id, f"báo cáo số {report.id}")
    live = [r for r in await reports_of(ctx.session, incident.id) if r.status != "false_alarm"]
    if not live and incident.status not in CLOSED:
        incident.status = "false_alarm"
        incident.resolved_at = ctx.now
        incident.next_escalation_at = None
        add_event(ctx.session, incident, "false_alarm", ctx.now, ctx.member.id, "người báo hủy")
        await tell_alerted(
            ctx.session,
            ctx.now,
            incident,
            "false_alarm",
            texts.TO_ALERTED["false_alarm"].format(
                code=texts.incident_code(incident.id), who=name_of(ctx.member)
            ),
            set(),
        )
    await ctx.reply(texts.DOUBT_CANCELLED.format(report_id=report.id))


async def _correct(ctx: Context, report: Report, incident: Incident, text: str) -> None:
    """ "sửa ...": what the correction names replaces the old reading; the rest stays."""
    u = Understood.of(parse(text, ctx.event.sent_at, ctx.tz))
    old_keys = place_keys(report.places)
    report.category = u.category or report.category
    report.severity = u.severity or report.severity
    report.places = u.places or report.places
    report.people = u.people if u.people is not None else report.people
    report.phones = u.phones or report.phones
    if u.time:
        report.occurred_at = occurred_at(u.time, ctx.event.sent_at, ctx.tz)
    report.text = f"{report.text}\nSửa: {text}"
    report.status = "confirmed"
    others = [
        r
        for r in await reports_of(ctx.session, incident.id)
        if r.id != report.id and r.status != "false_alarm"
    ]
    moved = report.category != incident.category or place_keys(report.places) != old_keys
    if others and moved:
        # It was merged with other reports that still stand: it leaves them.
        add_event(
            ctx.session,
            incident,
            "moved",
            ctx.now,
            ctx.member.id,
            f"báo cáo số {report.id} sửa lại",
        )
        incident, _merged = await _place(ctx.session, ctx.settings, ctx.now, report, ctx.member.id)
    else:
        incident.category = report.category
        incident.severity = report.severity
        incident.place_key = join_key(place_keys(report.places))
        add_event(ctx.session, incident, "corrected", ctx.now, ctx.member.id, text)
    if (
        is_urgent(ctx.settings, report.category, report.severity, u.reasons, report.occurred_at)
        and not incident.urgent
        and incident.status == "reported"
    ):
        when = time_text(u.time, ctx.tz) or local(report.occurred_at or ctx.now, ctx.tz)
        await raise_alert(
            ctx.session,
            ctx.settings,
            ctx.now,
            incident,
            report,
            ctx.member,
            when,
            unconfirmed=False,
        )
    elif incident.urgent and incident.status == "reported":
        await tell_alerted(
            ctx.session,
            ctx.now,
            incident,
            "confirmed",
            texts.TO_ALERTED["confirmed"].format(
                code=texts.incident_code(incident.id),
                category=texts.category_name(incident.category),
            ),
            set(),
        )
    await _confirm_reply(
        ctx, report, incident, u.time or _stored_time(report, ctx.tz), alerted=incident.urgent
    )


# ---------------------------------------------------------------------------- status


def may_manage(settings: Settings, member: Member, incident: Incident | None = None) -> bool:
    """Coordinators, people in the escalation chain, and whoever took the incident."""
    return (
        member.role in ("coordinator", "admin")
        or (
            member.member_id is not None
            and (
                member.member_id in settings.coordinators
                or member.member_id in settings.alerts.escalation_chain
            )
        )
        or (incident is not None and incident.handler_pk == member.id)
    )


async def set_status(ctx: Context, incident: Incident, status: str, note: str = "") -> str:
    """Move an incident along reported -> acknowledged -> handling -> resolved | false_alarm.

    Records the step, stops escalation, tells reporters and the other alerted chats;
    returns the answer for the person who asked.
    """
    s, now, actor = ctx.session, ctx.now, ctx.member
    code = texts.incident_code(incident.id)
    if incident.status in CLOSED:
        return texts.ALREADY_CLOSED.format(code=code, status=texts.STATUS[incident.status])
    if status == "acknowledged" and incident.status != "reported":
        handler = await s.get(Member, incident.handler_pk) if incident.handler_pk else None
        if handler is not None and handler.id != actor.id:
            return texts.ALREADY_TAKEN.format(code=code, who=name_of(handler))
        return texts.STATUS_CHANGED["acknowledged"].format(who=name_of(actor), code=code)
    first_take = incident.status == "reported"
    if status in ("acknowledged", "handling") or incident.handler_pk is None:
        incident.handler_pk = actor.id
    incident.acknowledged_at = incident.acknowledged_at or now
    incident.next_escalation_at = None
    incident.status = status
    if status in CLOSED:
        incident.resolved_at = now
        # A reminder held for the morning must not say "still open" about a closed incident.
        await cancel_pending(
            s,
            "incident",
            incident.id,
            ("alert", "reminder"),
            f"incident {status} before it was sent",
        )
    add_event(s, incident, status, now, actor.id, note)
    who = name_of(actor)
    here = {ctx.event.chat_id}
    if actor.private_chat_id:
        here.add(actor.private_chat_id)
    # Reporters hear about every step once, in the chat they reported from.
    category = texts.category_name(incident.category)
    for chat in {r.chat_id for r in await reports_of(s, incident.id)} - here:
        await enqueue(
            s,
            chat_id=chat,
            kind="reply",
            now=now,
            ref_type="incident",
            ref_id=incident.id,
            key=f"incident-status:{incident.id}:{status}:{chat}",
            text=texts.TO_REPORTERS[status].format(code=code, category=category, who=who),
        )
    if first_take or status == "false_alarm":
        what = "false_alarm" if status == "false_alarm" else "acknowledged"
        await tell_alerted(
            s, now, incident, what, texts.TO_ALERTED[what].format(code=code, who=who), here
        )
    if status in CLOSED:
        reports = await reports_of(s, incident.id)
        for conv in await doubts_for_reports(s, [r.id for r in reports]):
            conv.status = "done"
    return texts.STATUS_CHANGED[status].format(who=who, code=code)


def reply_action(text: str) -> str | None:
    words = folded_words(text)
    for status, phrases in REPLY_ACTIONS:
        if any(has_phrase(words, p) for p in phrases):
            return status
    return None


@hook(20)
async def alert_reply(ctx: Context) -> bool:
    """A quote-reply to one of the bot's alerts: acknowledge, or change the status it names."""
    quoted_id = ctx.event.quote_message_id
    if not quoted_id:
        return False
    row = await find_quoted(ctx.session, ctx.event.chat_id, quoted_id)
    if row is None or row.ref_type != "incident" or row.ref_id is None or row.kind != "alert":
        return False
    incident = await get_incident(ctx.session, row.ref_id, lock=True)
    if incident is None:
        return False
    action = reply_action(ctx.text)
    if action is None and ctx.parsed is not None and ctx.parsed.type == "ack":
        action = "acknowledged"
    manager = may_manage(ctx.settings, ctx.member, incident)
    if not manager and action != "acknowledged":
        return False  # someone else's remark in the coordinators' chat: routed as usual
    if action is None:
        # Any reply from a coordinator to an alert means they have it in hand.
        action = "acknowledged"
    await ctx.reply(await set_status(ctx, incident, action, ctx.text))
    return True


@hook(22)
async def private_take_over(ctx: Context) -> bool:
    """ "nhận xử lý" in private (no quote): takes the one urgent incident nobody has taken."""
    if not ctx.is_private or ctx.event.quote_message_id or not ctx.text.strip():
        return False
    words = folded_words(ctx.text)
    if not has_phrase(words, TAKE_OVER) or len(words.split()) > 8:
        return False
    if not may_manage(ctx.settings, ctx.member):
        return False
    named = SV_RE.search(ctx.text)
    if named:
        incident = await get_incident(ctx.session, int(named.group(1)), lock=True)
        if incident is None:
            await ctx.reply(texts.NOT_FOUND.format(code=f"SV{named.group(1)}"))
            return True
    else:
        waiting = await unacknowledged_urgent(ctx.session)
        if not waiting:
            return False
        if len(waiting) > 1:
            codes = ", ".join(texts.incident_code(i.id) for i in waiting[:10])
            await ctx.reply(texts.WHICH_INCIDENT.format(n=len(waiting), codes=codes))
            return True
        incident = waiting[0]
    await ctx.reply(await set_status(ctx, incident, "acknowledged", ctx.text))
    return True


FALSE_ALARM_WORDS = ("bao nham", "nham roi", "khong sao")
FALSE_ALARM_HOURS = 6  # "báo nhầm" without a code refers to the sender's report this recent


@hook(23)
async def false_alarm_message(ctx: Context) -> bool:
    """ "báo nhầm" / "không sao" from the reporter (or a coordinator) withdraws the alarm:
    the incident closes as false_alarm, pending escalations are withdrawn, the alerted hear."""
    words = folded_words(ctx.text)
    if not words or len(words.split()) > 10:
        return False
    if not any(has_phrase(words, p) for p in FALSE_ALARM_WORDS):
        return False
    named = SV_RE.search(ctx.text)
    if named:
        incident = await get_incident(ctx.session, int(named.group(1)), lock=True)
    else:
        incident = await _own_recent_incident(ctx)
        if incident is None and ctx.is_private and may_manage(ctx.settings, ctx.member):
            waiting = await unacknowledged_urgent(ctx.session)
            incident = waiting[0] if len(waiting) == 1 else None
    if incident is None or incident.status in CLOSED:
        return False
    if not may_manage(ctx.settings, ctx.member, incident) and not await _sole_reporter(
        ctx, incident
    ):
        return False
    await ctx.reply(await set_status(ctx, incident, "false_alarm", ctx.text))
    return True


async def _own_recent_incident(ctx: Context) -> Incident | None:
    """The open incident the sender reported last, within FALSE_ALARM_HOURS."""
    since = ctx.now - timedelta(hours=FALSE_ALARM_HOURS)
    row = (
        await ctx.session.execute(
            select(Report.incident_pk)
            .join(Incident, Incident.id == Report.incident_pk)
            .where(
                Report.member_pk == ctx.member.id,
                Report.created_at >= since,
                Incident.status.not_in(CLOSED),
            )
            .order_by(Report.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return await get_incident(ctx.session, row, lock=True) if row is not None else None


# ---------------------------------------------------------------------------- commands


def parse_id(args: str) -> tuple[str, int, str] | None:
    """ "SV12 ghi chú" -> ("incident", 12, "ghi chú"); "CV7" -> task; "12"/"#12" -> number."""
    match = ID_RE.match(args or "")
    if match is None:
        return None
    prefix = (match.group(1) or "").lower()
    kind = {"sv": "incident", "cv": "task"}.get(prefix, "number")
    return kind, int(match.group(2)), match.group(3).strip(" :,-")


def _args(ctx: Context) -> str:
    cmd = ctx.parsed.command if ctx.parsed is not None else None
    return (cmd.args if cmd is not None else "") or ""


async def _incident_command(ctx: Context, status: str, usage: str) -> None:
    ident = parse_id(_args(ctx))
    if ident is None or ident[0] == "task":
        await ctx.reply(usage)
        return
    _kind, number, note = ident
    incident = await get_incident(ctx.session, number, lock=True)
    if incident is None:
        await ctx.reply(texts.NOT_FOUND.format(code=texts.incident_code(number)))
        return
    if not may_manage(ctx.settings, ctx.member, incident) and not (
        status == "false_alarm" and await _sole_reporter(ctx, incident)
    ):
        await ctx.reply(texts.NOT_ALLOWED)
        return
    await ctx.reply(await set_status(ctx, incident, status, note))


async def _sole_reporter(ctx: Context, incident: Incident) -> bool:
    """The only person who reported it may call it a false alarm themselves."""
    reporters = {r.member_pk for r in await reports_of(ctx.session, incident.id)}
    return reporters == {ctx.member.id}


@intent("command:xuly")
async def take_incident(ctx: Context) -> None:
    """/xuly SV12: the sender is handling it (acknowledges it too, stops escalation)."""
    await _incident_command(ctx, "handling", texts.USAGE_XULY)


@intent("command:bao_nham")
async def false_alarm(ctx: Context) -> None:
    """/bao_nham SV12: not a real incident; reporters and alerted chats are told."""
    await _incident_command(ctx, "false_alarm", texts.USAGE_BAO_NHAM)


@intent("command:xong")
async def done(ctx: Context) -> None:
    """/xong SV12 closes an incident; /xong CV7 (or a bare task number) completes a task.

    A bare number is the sender's own open task if there is one, else an open incident the
    sender may close, else it is passed to the tasks feature.
    """
    ident = parse_id(_args(ctx))
    if ident is None:
        await ctx.reply(texts.USAGE_XONG)
        return
    kind, number, _note = ident
    if kind == "number":
        own_task = (
            await ctx.session.execute(
                select(func.count())
                .select_from(Task)
                .where(Task.id == number, Task.assignee_pk == ctx.member.id, Task.status == "open")
            )
        ).scalar_one()
        incident = None if own_task else await get_incident(ctx.session, number)
        openable = (
            incident is not None
            and incident.status not in CLOSED
            and may_manage(ctx.settings, ctx.member, incident)
        )
        kind = "incident" if openable else "task"
    if kind == "task":
        await complete_task(ctx, number)
        return
    await _incident_command(ctx, "resolved", texts.USAGE_XONG)


async def complete_task(ctx: Context, task_id: int) -> None:
    """Hand /xong CV7 to the tasks feature (handlers.intents.tasks), when it is installed."""
    try:
        module = importlib.import_module("handlers.intents.tasks")
    except ModuleNotFoundError as exc:
        if exc.name != "handlers.intents.tasks":
            raise
        module = None
    fn = getattr(module, "complete_task", None)
    if fn is None:
        await ctx.reply(texts.TASKS_UNAVAILABLE)
        return
    result = fn(ctx, task_id)
    if inspect.isawaitable(result):
        await result


@intent("command:baocao")
async def report_command(ctx: Context) -> None:
    """/baocao TEXT files a report; /baocao alone lists open incidents (coordinators)."""
    args = _args(ctx).strip()
    if not args:
        if may_manage(ctx.settings, ctx.member):
            await ctx.reply(await open_list(ctx))
        else:
            await ctx.reply(texts.REPORT_PROMPT)
        return
    named = re.fullmatch(r"#?\s*sv\s*-?\s*(\d{1,12})", args, flags=re.IGNORECASE)
    if named and may_manage(ctx.settings, ctx.member):
        await ctx.reply(await details(ctx, int(named.group(1))))
        return
    parsed = parse(args, ctx.event.sent_at, ctx.tz)
    if getattr(parsed, "type", None) == "all_clear" and "all_clear" in HANDLERS:
        # "/baocao ca 3 bình thường" is a patrol's all-clear, not an incident.
        await HANDLERS["all_clear"](dataclasses.replace(ctx, parsed=parsed, text=args))
        return
    u = Understood.of(parsed)
    if ctx.message is not None:
        ctx.message.category = u.category or "other"
    await file_report(ctx, u, args)


async def open_list(ctx: Context, limit: int = 20) -> str:
    incidents = await open_incidents(ctx.session, limit=limit + 1)
    if not incidents:
        return texts.NO_OPEN_INCIDENTS
    lines = [texts.OPEN_INCIDENTS_HEADER.format(n=len(incidents[:limit]))]
    for inc in incidents[:limit]:
        reports = await reports_of(ctx.session, inc.id)
        places = texts.places_text(reports[0].places) if reports else ""
        unconfirmed = bool(reports) and all(r.status in ("pending", "unconfirmed") for r in reports)
        lines.append(
            texts.open_line(
                inc.id,
                inc.category,
                places,
                local(inc.first_reported_at, ctx.tz),
                inc.status,
                unconfirmed,
            )
        )
    if len(incidents) > limit:
        lines.append(texts.MORE_INCIDENTS.format(n=len(incidents) - limit))
    return "\n".join(lines)


async def details(ctx: Context, incident_id: int) -> str:
    """One incident with its timeline, for coordinators (/baocao SV12)."""
    incident = await get_incident(ctx.session, incident_id)
    if incident is None:
        return texts.NOT_FOUND.format(code=texts.incident_code(incident_id))
    reports = await reports_of(ctx.session, incident.id)
    places = texts.places_text(reports[0].places) if reports else ""
    lines = [
        texts.open_line(
            incident.id,
            incident.category,
            places,
            local(incident.first_reported_at, ctx.tz),
            incident.status,
            False,
        )
    ]
    members: dict[int, Member] = {}
    for ev in await timeline(ctx.session, incident.id):
        if ev.member_pk and ev.member_pk not in members:
            m = await ctx.session.get(Member, ev.member_pk)
            if m is not None:
                members[ev.member_pk] = m
        who = name_of(members.get(ev.member_pk)) if ev.member_pk else ""
        lines.append(texts.timeline_line(local(ev.at, ctx.tz), ev.kind, who, ev.note))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- photos


@intent("kind:image")
async def photo(ctx: Context) -> None:
    """A photo attaches to the member's report from the last few minutes, else waits for one."""
    if not ctx.event.media_url:
        return
    since = ctx.now - timedelta(minutes=ctx.settings.alerts.photo_attach_minutes)
    report = await latest_report_since(ctx.session, ctx.member.id, since)
    if report is None:
        earlier = await orphan_photos(ctx.session, ctx.member.id, since)
        ctx.session.add(_attachment(ctx, None))
        if not earlier:  # ask once, not once per photo of a burst
            hint = "" if ctx.is_private else texts.GROUP_ANSWER_HINT
            await ctx.reply(texts.PHOTO_ORPHAN + hint)
        return
    before = (
        await ctx.session.execute(
            select(func.count()).select_from(Attachment).where(Attachment.report_pk == report.id)
        )
    ).scalar_one()
    ctx.session.add(_attachment(ctx, report.id))
    incident = await get_incident(ctx.session, report.incident_pk) if report.incident_pk else None
    if incident is not None:
        add_event(ctx.session, incident, "photo", ctx.now, ctx.member.id, f"báo cáo số {report.id}")
    if not before:
        code = texts.incident_code(report.incident_pk) if report.incident_pk else ""
        await ctx.reply(texts.PHOTO_ATTACHED.format(report_id=report.id, code=code))
