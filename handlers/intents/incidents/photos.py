"""Photos: attached to the member's recent report, else kept until one comes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from handlers.context import Context
from handlers.intents.incidents.reports import attachment
from handlers.registry import intent
from handlers.texts import incidents as texts
from handlers.texts.people import title_of
from models.incidents import (
    add_event,
    get_incident,
    keep_waiting_photo,
    latest_report_since,
    orphan_photos,
)
from models.tables import Attachment


@intent("kind:image")
async def photo(ctx: Context) -> None:
    """A photo attaches to the member's report from the last few minutes, else waits for one."""
    if not ctx.event.media_url:
        return
    since = ctx.now - timedelta(minutes=ctx.settings.alerts.photo_attach_minutes)
    you = texts.addressed(title_of(ctx.member))
    report = await latest_report_since(ctx.session, ctx.member.id, since)
    if report is None:
        earlier = await orphan_photos(ctx.session, ctx.member.id, since)
        keep_waiting_photo(ctx.session, attachment(ctx, None))
        if not earlier:  # ask once, not once per photo of a burst
            hint = "" if ctx.is_private else texts.GROUP_ANSWER_HINT
            await ctx.reply((texts.PHOTO_ORPHAN + hint).format(**you))
        return
    before = (
        await ctx.session.execute(
            select(func.count()).select_from(Attachment).where(Attachment.report_pk == report.id)
        )
    ).scalar_one()
    ctx.session.add(attachment(ctx, report.id))
    incident = await get_incident(ctx.session, report.incident_pk) if report.incident_pk else None
    if incident is not None:
        add_event(ctx.session, incident, "photo", ctx.now, ctx.member.id, f"báo cáo số {report.id}")
    if not before:
        code = texts.incident_code(report.incident_pk) if report.incident_pk else ""
        await ctx.reply(texts.PHOTO_ATTACHED.format(report_id=report.id, code=code, **you))
