"""What the person handling an incident writes of it ("đã cho bảo vệ tách 2 người ra"): a
step on its timeline ("Người xử lý cập nhật"), not a new report; nobody is alerted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from handlers.context import Context
from handlers.intents.incidents.status import (
    asks,
    clipped,
    may_manage,
    on_rounds,
    says_false_alarm,
)
from handlers.intents.incidents.understanding import SV_RE, Understood, folded_words
from handlers.parse.followups import responders_coming
from handlers.registry import hook
from handlers.texts import incidents as texts
from handlers.texts.people import title_of
from models.incidents import OPEN, add_event, alerted_chats, get_incident, reports_of
from models.tables import Incident, IncidentEvent

# His words are about the incident he took for at most PROGRESS_HOURS after taking it: a
# shift is 8-12 hours, and what he writes the next day is about the next day.
PROGRESS_HOURS = 12
TAKE_STEPS = ("acknowledged", "handling")
HANDLER_STEPS = (*TAKE_STEPS, "handler_update")
# Words of something done or under way ("đã tách", "đang lập biên bản", "xong"), folded.
PROGRESS_RE = re.compile(r"\b(?:da|dang|xong|roi)\b")


def progress_words(ctx: Context) -> bool:
    """Words that name no kind of incident of their own (the test details after a report
    use) and say something was done: an incident read as `other`, an all-clear, or chat
    with people, a place, a time or progress words in it. No command, question, "báo nhầm"."""
    parsed = ctx.parsed
    if parsed is None or ctx.text.lstrip().startswith(("/", "#")):
        return False
    if says_false_alarm(ctx.text) or asks(ctx):
        return False
    u = Understood.of(parsed)
    if parsed.type == "incident":
        return u.category in (None, "other")
    if parsed.type == "all_clear":
        return True
    if parsed.type != "other":
        return False
    words = folded_words(ctx.text)
    news = u.people or u.places or u.time or u.reasons or responders_coming(ctx.text)
    return len(words.split()) >= 3 and bool(news or PROGRESS_RE.search(words))


@hook(23)
async def handler_progress(ctx: Context) -> bool:
    """The handler's progress on the open incident he took (in private, or where it was
    reported or alerted): an update on its timeline; he hears it was noted."""
    # Only those who may manage take incidents (a cheap test first: most senders are not).
    if not may_manage(ctx.settings, ctx.member) or not progress_words(ctx):
        return False
    incident = await _handled_here(ctx)
    if incident is None:
        return False
    named = {int(n) for n in SV_RE.findall(ctx.text)}
    if named and incident.id not in named:
        return False  # "SV1: công an đã tới" while he handles SV6: SV1's update
    if ctx.parsed is not None and ctx.parsed.type == "all_clear" and on_rounds(ctx, incident):
        return False  # "tuần tra khu B, bình thường": his own round, recorded as one
    add_event(ctx.session, incident, "handler_update", ctx.now, ctx.member.id, ctx.text.strip())
    answer = texts.PROGRESS_ADDED.format(
        code=texts.incident_code(incident.id), words=clipped(ctx.text), title=title_of(ctx.member)
    )
    await ctx.reply(answer, ref_type="incident", ref_id=incident.id)
    return True


async def _handled_here(ctx: Context) -> Incident | None:
    """The open incident the sender took in the last PROGRESS_HOURS, the one he took or
    wrote of last, when this chat is his private one or one where it was reported or
    alerted."""
    s, member = ctx.session, ctx.member
    taken = func.max(IncidentEvent.at).filter(IncidentEvent.kind.in_(TAKE_STEPS))
    stmt = (
        select(Incident.id, taken, func.max(IncidentEvent.at))
        .join(IncidentEvent, IncidentEvent.incident_pk == Incident.id)
        .where(
            Incident.handler_pk == member.id,
            Incident.status.in_(OPEN),
            IncidentEvent.member_pk == member.id,
            IncidentEvent.kind.in_(HANDLER_STEPS),
        )
        .group_by(Incident.id)
    )
    since = ctx.now - timedelta(hours=PROGRESS_HOURS)
    rows: list[tuple[int, datetime | None, datetime]] = [
        (i, t, last) for i, t, last in (await s.execute(stmt)).all()
    ]
    recent = sorted(
        ((_aware(last), i) for i, t, last in rows if t is not None and _aware(t) >= since),
        reverse=True,
    )
    for _last, incident_id in recent:
        if ctx.is_private or await _spoken_of_in(ctx, incident_id):
            incident = await get_incident(s, incident_id, lock=True)
            if incident is not None and incident.status in OPEN:
                return incident
    return None


def _aware(at: datetime) -> datetime:
    """SQLite hands aggregates back without their zone: they are stored in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def _spoken_of_in(ctx: Context, incident_id: int) -> bool:
    """The incident was reported or alerted in this chat."""
    chat = ctx.event.chat_id
    if any(r.chat_id == chat for r in await reports_of(ctx.session, incident_id)):
        return True
    return chat in await alerted_chats(ctx.session, incident_id)
