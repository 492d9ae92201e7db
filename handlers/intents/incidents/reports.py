"""Filing a report: merge or open an incident, alert if urgent, answer the reporter."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.config import Settings
from handlers.context import Context
from handlers.intents.incidents.alerts import (
    alerted_reach,
    hold_alert,
    is_held,
    raise_alert,
    reach_of,
    tell_alerted,
)
from handlers.intents.incidents.status import clipped
from handlers.intents.incidents.understanding import (
    DOUBT_MINUTES,
    HOLD_MINUTES,
    URGENT_REASONS,
    Understood,
    is_urgent,
    local,
    name_of,
    occurred_at,
    people_trapped,
    place_keys,
    time_text,
    worse,
)
from handlers.registry import intent
from handlers.texts import incidents as texts
from handlers.texts.people import title_of
from models.incidents import (
    CONFIRM_REPORT,
    NOTED,
    NOTED_CATEGORIES,
    alerted_chats,
    core_add_event,
    find_mergeable,
    join_key,
    lock_category,
    orphan_photos,
    reports_of,
    split_key,
    unwritten_incident,
)
from models.inserts import write_row
from models.prefetch import note_incident, note_report
from models.tables import Attachment, Conversation, Incident, Member, Report


async def place_report(
    session: AsyncSession, settings: Settings, now: datetime, report: Report, member_pk: int
) -> tuple[Incident, bool]:
    """Put a report into the open incident it belongs to, or a new one: (incident, merged).

    A new report (not yet in the session) is written here, once, with its incident; the
    incident and its timeline entry go in by Core INSERTs (models/inserts.write_row).
    """
    keys = place_keys(report.places)
    with session.no_autoflush:
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
        incident = await write_row(session, _new_incident(report, keys, now))
        note_incident(session, incident)
    else:
        incident.last_reported_at = now
        incident.severity = worse(incident.severity, report.severity)
        incident.place_key = join_key(split_key(incident.place_key) | keys)
    report.incident_pk = incident.id
    if report.id is None:
        await write_row(session, report)
        note_report(session, report.member_pk)
    else:
        await session.flush()  # a corrected report: its earlier timeline entries first
    await core_add_event(
        session,
        incident,
        "merged" if merged else "report",
        now,
        member_pk=member_pk,
        note=f"báo cáo số {report.id}",
    )
    return incident, merged


def _new_incident(report: Report, keys: set[str], now: datetime) -> Incident:
    """The incident a report opens, not yet written."""
    category = report.category
    return unwritten_incident(
        {
            "category": category,
            "severity": report.severity,
            # An inspection or a drill is kept on record; nobody has to handle or close it.
            "status": NOTED if category in NOTED_CATEGORIES else "reported",
            "place_key": join_key(keys),
            "urgent": False,
            "first_reported_at": now,
            "last_reported_at": now,
            "escalation_level": 0,
        }
    )


async def _adopt_photos(ctx: Context, report: Report) -> None:
    """The report's own photo (an image with a caption) and photos sent just before it."""
    since = ctx.now - timedelta(minutes=ctx.settings.alerts.photo_attach_minutes)
    for att in await orphan_photos(ctx.session, ctx.member.id, since):
        att.report_pk = report.id
    if ctx.event.kind == "image" and ctx.event.media_url:
        ctx.session.add(attachment(ctx, report.id))


def attachment(ctx: Context, report_pk: int | None) -> Attachment:
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
    if people_trapped(text, u.people):
        # "xe container đâm vào cổng 2, có người bị kẹt": as grave as when it comes as a detail.
        severity = "high"
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
    incident, merged = await place_report(s, settings, now, report, ctx.member.id)
    await _adopt_photos(ctx, report)
    doubtful = u.doubtful
    if doubtful and merged:
        # Someone else already confirmed this incident: the doubt is answered by them.
        others = [r for r in await reports_of(s, incident.id) if r.id != report.id]
        if any(r.status == "confirmed" for r in others):
            report.status, doubtful = "confirmed", False
    held = alerted_now = False
    if (
        is_urgent(settings, category, severity, u.reasons, now)
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
            alerted_now = True
    where = texts.places_text(report.places)
    you = title_of(ctx.member)
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
            texts.hold_question(category, where, HOLD_MINUTES, you)
            if held
            else texts.doubt_question(category, where, you)
        )
        if ask_in:
            await ctx.say(
                ask_in,
                texts.ASKED_FROM_GROUP.format(group=ctx.group.name, you=you) + question,
                ref_type="report",
                ref_id=report.id,
            )
        elif not ctx.is_private:
            hint = texts.GROUP_ANSWER_HINT.format(you=you)
            await ctx.reply(question + hint, ref_type="report", ref_id=report.id)
        else:
            await ctx.reply(question, ref_type="report", ref_id=report.id)
    elif merged:
        handler = await s.get(Member, incident.handler_pk) if incident.handler_pk else None
        answer = texts.report_merged(
            report.id,
            incident.id,
            category,
            where,
            name_of(handler) if handler else None,
            bool(await alerted_chats(s, incident.id)),
            you,
        )
        if not alerted_now:
            answer += await _grave_news(ctx, u, report, incident)
        await ctx.reply(answer, ref_type="report", ref_id=report.id)
    else:
        await confirm_reply(ctx, report, incident, u.time, alerted=incident.urgent, where=where)
    return report


async def _grave_news(ctx: Context, u: Understood, report: Report, incident: Incident) -> str:
    """Someone hurt, trapped, dead, fire spreading... in a report that joined an incident
    already alerted: those alerted hear it at once ("🚨 Sự việc SV1 (…): anh Nam báo thêm
    "3 công nhân bị ngạt khói…""), as a reporter's own grave detail reaches them; what the
    reporter is told of it, from the rows queued."""
    if not URGENT_REASONS.intersection(u.reasons):
        return ""
    named = report.places or next(
        (r.places for r in await reports_of(ctx.session, incident.id) if r.places), []
    )
    places = texts.places_text(named)  # where the alerted know it by
    text = texts.DETAIL_TO_ALERTED.format(
        code=texts.incident_code(incident.id),
        category=texts.category_name(incident.category),
        where=f" tại {places}" if places else "",
        who=name_of(ctx.member),
        words=clipped(report.text),
    )
    what = f"merged-{report.id}"
    told = await tell_alerted(ctx.session, ctx.now, incident, what, text, set(), urgent=True)
    if not told:
        return ""
    reach = await reach_of(ctx.session, told)
    names = reach.people + [f"nhóm {g}" for g in reach.groups]
    return texts.DETAIL_PASSED_ON.format(names=texts.names_text(names))


async def confirm_reply(
    ctx: Context,
    report: Report,
    incident: Incident,
    time: dict[str, str] | None,
    alerted: bool,
    where: str | None = None,
) -> None:
    """The reporter hears what was understood and, for an urgent one, who really was alerted;
    `where`: the report's places as text, when the caller has them already."""
    reach = await alerted_reach(ctx.session, incident.id) if alerted else None
    you = title_of(ctx.member)
    await ctx.reply(
        texts.report_received(
            report.id,
            incident.id,
            report.category,
            texts.places_text(report.places) if where is None else where,
            time_text(time, ctx.tz),
            report.people,
            report.phones,
            texts.reach_sentence(reach.people, reach.groups, you) if reach is not None else "",
            you,
        ),
        ref_type="report",
        ref_id=report.id,
    )


@intent("incident")
async def incident_message(ctx: Context) -> None:
    """A message the parser read as an incident report."""
    await file_report(ctx, Understood.of(ctx.parsed), ctx.text)
