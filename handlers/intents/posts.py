"""Members' quote-replies to a propaganda post ("đã đọc", a quiz answer) and /lichdang."""

from __future__ import annotations

from handlers.context import Context
from handlers.intents.requests import address
from handlers.registry import hook, intent
from handlers.text import fold_key
from handlers.texts import posts as texts
from models.outbox import find_quoted
from models.posts import all_posts, is_right, response_of
from models.tables import Post, PostResponse

READ_WORDS = ("da doc", "doc roi", "da xem", "da nam", "da ro")
LIST_LIMIT = 15


def says_read(text: str) -> bool:
    key = fold_key(text)
    return any(word in key for word in READ_WORDS)


@hook(18, needs="quote")
async def reply_to_post(ctx: Context) -> bool:
    """A quote-reply to a post: a read, or an answer to its quiz; reports go their own way."""
    quoted = ctx.event.quote_message_id
    if not quoted or not ctx.text.strip():
        return False
    row = await find_quoted(ctx.session, ctx.event.chat_id, quoted)
    if row is None or row.ref_type != "post" or row.ref_id is None:
        return False
    if ctx.parsed is not None and ctx.parsed.type in ("incident", "command", "question"):
        return False
    post = await ctx.session.get(Post, row.ref_id)
    if post is None:
        return False
    name = address(ctx.member)
    if post.question and not says_read(ctx.text):
        await _answer(ctx, post, name)
        return True
    await _record(ctx, post, "read", None)
    await ctx.reply(texts.READ_NOTED.format(name=name), ref_type="post-reply", ref_id=post.id)
    return True


async def _answer(ctx: Context, post: Post, name: str) -> None:
    if post.closed_at is not None:
        await ctx.reply(texts.CLOSED.format(answer=post.answers[0]))
        return
    right = is_right(ctx.text, post.answers)
    before = await response_of(ctx.session, post.id, ctx.member.id, "answer")
    if before is not None and before.correct:
        await ctx.reply(texts.ALREADY_RIGHT.format(name=name[:1].upper() + name[1:]))
        return
    await _record(ctx, post, "answer", right)
    reply = texts.RIGHT if right else texts.ANSWER_NOTED
    await ctx.reply(reply.format(name=name), ref_type="post-reply", ref_id=post.id)


async def _record(ctx: Context, post: Post, kind: str, correct: bool | None) -> None:
    """One read and one answer per member; a later answer replaces a wrong one."""
    row = await response_of(ctx.session, post.id, ctx.member.id, kind)
    if row is None:
        row = PostResponse(post_pk=post.id, member_pk=ctx.member.id, kind=kind)
        ctx.session.add(row)
    row.chat_id = ctx.event.chat_id
    row.text = ctx.text.strip()[:1000]
    row.correct = correct
    row.at = ctx.now
    await ctx.session.flush()


@intent("command:lichdang")
async def lichdang(ctx: Context) -> None:
    """Coordinators: the posts still to be published."""
    if not ctx.is_coordinator:
        await ctx.reply(texts.COORDINATOR_ONLY)
        return
    coming = [p for p in await all_posts(ctx.session, since=ctx.now) if p.published_at is None]
    if not coming:
        await ctx.reply(texts.LIST_NONE)
        return
    lines = [texts.LIST_HEADER.format(n=len(coming))]
    for p in coming[:LIST_LIMIT]:
        first = p.text.splitlines()[0]
        lines.append(
            texts.LIST_LINE.format(
                when=p.at.astimezone(ctx.tz).strftime("%H:%M %d/%m"),
                text=first[:60] + ("…" if len(first) > 60 else ""),
                quiz=texts.LIST_QUIZ if p.question else "",
            )
        )
    await ctx.reply("\n".join(lines))
