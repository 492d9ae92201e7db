"""/baomat and the one-line privacy notice on a member's first private message."""

from __future__ import annotations

from handlers.context import Context
from handlers.registry import hook, intent
from handlers.texts import privacy as texts
from models.privacy import notice_due


@intent("command:baomat", "command:privacy")
async def show_privacy(ctx: Context) -> None:
    """What the bot keeps, why and for how long (the dashboard page says the same)."""
    r = ctx.settings.retention
    await ctx.reply(texts.summary(r.messages_days, r.photos_days, r.inbox_days, r.digests_days))


@hook(1, needs="private")
async def privacy_notice(ctx: Context) -> bool:
    """Once per member, before the answer: never blocks the message it rides on."""
    if not ctx.settings.retention.first_message_notice or not ctx.is_private:
        return False
    if not await notice_due(ctx.session, ctx.member.id, ctx.now):
        return False
    public = ctx.settings.server.public_url.rstrip("/")
    where = f"{public}{texts.PAGE_PATH}" if public else "nhắn /baomat"
    await ctx.reply(texts.NOTICE.format(where=where), key=f"privacy-notice:{ctx.member.id}")
    return False
