"""The reporter's answer to the bot's question: đúng confirms, sai withdraws, sửa corrects."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from handlers.context import Context
from handlers.intents.incidents.alerts import (
    is_held,
    raise_alert,
    release_held,
    tell_alerted,
)
from handlers.intents.incidents.reports import (
    confirm_reply,
    place_report,
)
from handlers.intents.incidents.understanding import (
    Understood,
    folded_words,
    is_urgent,
    local,
    name_of,
    occurred_at,
    place_keys,
    time_text,
    yes_or_no,
)
from handlers.parse import parse
from handlers.registry import hook
from handlers.texts import incidents as texts
from handlers.texts.people import title_of
from models.incidents import (
    CLOSED,
    NOTED,
    NOTED_CATEGORIES,
    add_event,
    get_incident,
    join_key,
    open_doubt,
    reports_of,
)
from models.questions import asked_since
from models.tables import Incident, Report


# Asked of every message with text (hook 10), and members repeat themselves ("có mặt"): a
# pure function of the text, kept for the texts seen lately (the result is immutable).
@lru_cache(maxsize=4096)
def classify_answer(text: str) -> tuple[str, str] | None:
    """("yes"|"no"|"fix", rest) for an answer to the doubt question, else None."""
    words = folded_words(text)
    if not words:
        return None
    first = words.split()[0]
    if first == "sua":
        match = re.match(r"\s*\S+[\s:,.-]*(.*)$", text, flags=re.DOTALL)
        return ("fix", match.group(1).strip() if match else "")
    if first == "chay" and len(words.split()) <= 6:
        # "chạy" (ran) says the bot misread; "cháy" confirms; a bare "chay" says neither.
        typed = unicodedata.normalize("NFC", text).lower()
        if "chạy" in typed:
            return ("no", "")
        return ("yes", "") if "cháy" in typed else None
    said = yes_or_no(text)
    return (said, "") if said else None


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
    if yes_or_no(ctx.text) is not None and await asked_since(ctx.session, conv, ctx.now):
        return False  # a bare "đúng" answers the question asked later; this one stays open
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
        where = texts.places_text(report.places)
        await ctx.reply(texts.doubt_question(report.category, where, title_of(ctx.member)))
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
        await _tell_confirmed(ctx, incident)
    await confirm_reply(ctx, report, incident, stored_time(report, ctx.tz), alerted=incident.urgent)


async def _tell_confirmed(ctx: Context, incident: Incident) -> None:
    """Those already alerted hear that the reporter stands by it and it still needs a taker."""
    text = texts.TO_ALERTED["confirmed"].format(
        code=texts.incident_code(incident.id), category=texts.category_name(incident.category)
    )
    await tell_alerted(ctx.session, ctx.now, incident, "confirmed", text, set())


def stored_time(report: Report, tz: ZoneInfo) -> dict[str, str] | None:
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
    await ctx.reply(texts.DOUBT_CANCELLED.format(report_id=report.id, you=title_of(ctx.member)))


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
        incident, _merged = await place_report(
            ctx.session, ctx.settings, ctx.now, report, ctx.member.id
        )
    else:
        incident.category = report.category
        incident.severity = report.severity
        incident.place_key = join_key(place_keys(report.places))
        if incident.status == NOTED and incident.category not in NOTED_CATEGORIES:
            incident.status = "reported"  # "sửa: cháy thật" makes a drill an open incident
        elif incident.status == "reported" and incident.category in NOTED_CATEGORIES:
            incident.status = NOTED
        add_event(ctx.session, incident, "corrected", ctx.now, ctx.member.id, text)
    if (
        is_urgent(ctx.settings, report.category, report.severity, u.reasons, ctx.now)
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
        await _tell_confirmed(ctx, incident)
    await confirm_reply(
        ctx, report, incident, u.time or stored_time(report, ctx.tz), alerted=incident.urgent
    )
