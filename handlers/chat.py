"""Non-essential replies (check-ins, thanks): capped per member per hour (issue 15).

Alerts, incident receipts, directives and answers to requests never go through here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handlers.context import Context
from models.outbox import CHAT, chat_replies_since
from models.prefetch import chat_replies_since_facts, note_reply


async def chat_reply(ctx: Context, text: str, **extra: Any) -> int | None:
    """Answer like ctx.reply, unless this member already had the hour's share of chat
    replies (engagement.max_replies_per_member_per_hour): then say nothing, the record stays."""
    cap = ctx.settings.engagement.max_replies_per_member_per_hour
    if cap and await _replies_this_hour(ctx) >= cap:
        return None
    queued = await ctx.reply(text, ref_type=CHAT, member_pk=ctx.member.id, **extra)
    if queued is not None:
        note_reply(ctx.session, ctx.member.id, ctx.now)
    return queued


async def _replies_this_hour(ctx: Context) -> int:
    since = ctx.now - timedelta(hours=1)
    known = await chat_replies_since_facts(ctx.session, ctx.member.id, since, ctx.now)
    if known is not None:
        return known
    return await chat_replies_since(ctx.session, ctx.member.id, since)
