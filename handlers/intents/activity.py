"""Bookkeeping on every message: a nudged member who answers is re-engaged; stale nudges stop."""

from __future__ import annotations

from sqlalchemy import select, update

from handlers.context import Context
from handlers.registry import hook
from models.prefetch import no_open_nudge
from models.tables import Nudge, Outbox


@hook(5)
async def reengagement(ctx: Context) -> bool:
    """Never claims the message; records the effect of nudges and cancels unsent ones."""
    at = ctx.event.sent_at
    if no_open_nudge(ctx.session, ctx.member.id):
        return False  # known for the whole slice of events (models/prefetch.py)
    # Most messages come from members with no open nudge: one indexed probe, no writes.
    open_nudge = await ctx.session.execute(
        select(Nudge.id)
        .where(Nudge.member_pk == ctx.member.id, Nudge.reengaged_at.is_(None))
        .limit(1)
    )
    if open_nudge.first() is None:
        return False
    # A nudge still waiting in the outbox (quiet hours) is no longer needed; a group's names
    # this member among the quiet, so it is withdrawn too (the weekly run plans anew).
    pending = select(Nudge.outbox_pk).where(
        Nudge.member_pk == ctx.member.id,
        Nudge.outbox_pk.is_not(None),
        Nudge.channel.in_(("private", "group")),
    )
    await ctx.session.execute(
        update(Outbox)
        .where(Outbox.id.in_(pending), Outbox.status == "pending")
        .values(status="cancelled", last_error="a member it names became active before it was sent")
    )
    # The first activity after a delivered nudge counts as re-engagement (the digest shows it).
    sent = (
        select(Nudge.id)
        .join(Outbox, Outbox.id == Nudge.outbox_pk)
        .where(
            Nudge.member_pk == ctx.member.id,
            Nudge.reengaged_at.is_(None),
            Outbox.status == "sent",
            Outbox.sent_at <= at,
        )
    )
    await ctx.session.execute(update(Nudge).where(Nudge.id.in_(sent)).values(reengaged_at=at))
    return False
