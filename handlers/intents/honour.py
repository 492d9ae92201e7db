"""/khen @tên lý do: a coordinator honours a member; the praise goes to the member's groups."""

from __future__ import annotations

from sqlalchemy import select

from handlers.calendar import next_polite_time, polite_time
from handlers.context import Context
from handlers.councils import own
from handlers.intents.tasks import resolve_mentions
from handlers.registry import intent
from handlers.texts import core as core_texts
from handlers.texts import honour as texts
from handlers.texts.people import you_words
from models.honour import add_commendation
from models.people import address, address_full, capitalized
from models.tables import Group, Membership


@intent("command:khen")
async def praise(ctx: Context) -> None:
    if not ctx.is_coordinator:
        await ctx.reply(core_texts.COORDINATOR_ONLY.format(name="khen", **you_words(ctx.member)))
        return
    args = (ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else "").strip()
    words = args.split()
    if not words or not words[0].startswith("@"):
        await ctx.reply(texts.PRAISE_USAGE)
        return
    mentions, used = await resolve_mentions(ctx, words[:6])
    label, hits = mentions[0]
    # Only the first @name is honoured; any further words are the reason.
    used = len(label.split()) if hits else used
    reason = " ".join(words[used:]).strip(" :,-")
    if not hits:
        await ctx.reply(texts.PRAISE_WHO.format(name=label))
        return
    if len(hits) > 1:
        options = "; ".join(f"{address_full(m)} ({m.enterprise or '-'})" for m in hits)
        await ctx.reply(texts.PRAISE_WHICH.format(name=label, n=len(hits), options=options))
        return
    if not reason:
        await ctx.reply(texts.PRAISE_USAGE)
        return
    member = hits[0]
    row = await add_commendation(
        ctx.session, member, ctx.member, ctx.event.chat_id, reason, ctx.now
    )
    chats = (
        await ctx.session.execute(
            select(Group.chat_id)
            .join(Membership, Membership.group_pk == Group.id)
            .where(
                Membership.member_pk == member.id,
                Group.kind != "private",
                *own(Group, ctx.settings),
            )
            .order_by(Group.id)
        )
    ).scalars()
    name = address(member)
    post = texts.PRAISE_POST.format(
        name=name, enterprise=member.enterprise or "Hội đồng", reason=reason.rstrip(".")
    )
    posted = 0
    for chat in dict.fromkeys(chats):
        # "praise" waits out quiet hours at the sender, as posts do.
        if await ctx.say(chat, post, kind="praise", key=f"praise:{row.id}:{chat}") is not None:
            posted += 1
    if posted and not polite_time(ctx.settings, ctx.now):
        at = next_polite_time(ctx.settings, ctx.now).astimezone(ctx.tz)
        await ctx.reply(
            texts.PRAISE_DONE_MORNING.format(name=name, n=posted, at=f"{at:%H:%M %d/%m}")
        )
    elif posted:
        await ctx.reply(texts.PRAISE_DONE.format(name=name, n=posted))
    else:
        await ctx.reply(texts.PRAISE_DONE_NO_GROUP.format(name=name, name_cap=capitalized(name)))
