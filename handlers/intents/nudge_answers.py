"""Answers to a nudge ("Đã 7 ngày bot chưa thấy anh tương tác ..."): the member is there.

A nudge asks for "có mặt". Whatever short word comes back ("ok", "dạ", "👍"), or a word of
still following ("em vẫn theo dõi nhóm ạ", "em vẫn làm bình thường, chỉ không nhắn thôi"), is
that presence: recorded as an attendance check-in and answered warmly. It is an answer to the
nudge when it quotes the nudge, or comes privately within a day of it (docs/acks-and-budget.md).
Anything else (an absence, a report, a question) takes its usual way.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from handlers.context import Context
from handlers.intents.checkins import names_patrol, presence
from handlers.registry import hook
from handlers.text import fold, lower
from models.engagement import open_directive_for
from models.outbox import find_quoted
from models.tables import Nudge, Outbox

# How long after a private nudge an unquoted message is still read as its answer.
ANSWER_WITHIN = timedelta(days=1)
# Folded: words that say nothing but "yes, I'm here" ("dạ", "vâng ạ", "ok anh"): the parse
# reads most as an acknowledgement, "dạ" alone as nothing.
YES_WORDS = frozenset(
    {"da", "vang", "ok", "oke", "okay", "okie", "uh", "u", "um", "a", "nhe", "nha", "roi"}
    | {"em", "e", "anh", "chi", "dong", "toi", "minh", "co", "day", "oi", "vay"}
)
# Folded: still there, only silent ("vẫn theo dõi nhóm", "vẫn làm bình thường", "chỉ không
# nhắn thôi", "em vẫn đọc tin"): presence with a kind word, never a report she did not make.
STILL_HERE_RE = re.compile(
    r"\btheo doi (?:nhom|group|tin|zalo|thong bao|bot)\b"
    r"|\bvan (?:lam|di lam|lam viec|truc|lam viec) binh thuong\b"
    r"|\b(?:chi|chu) (?:khong|ko|k|it) (?:nhan|nhan tin|tuong tac)\b"
    r"|\bvan (?:doc|xem) (?:tin|nhom|thong bao)\b|\bvan (?:o )?day\b"
)
SHORT_TYPES = ("ack", "other")
ANSWER_TYPES = ("ack", "other", "all_clear")


def _answer_kind(ctx: Context) -> str | None:
    """ "short" for a bare yes, "still" for still following, else None (not a presence)."""
    parsed = ctx.parsed
    if parsed is None or parsed.command is not None or parsed.type not in ANSWER_TYPES:
        return None  # most messages: a report, a question, a check-in of their own
    folded = fold(lower(ctx.text))
    # "em vẫn làm bình thường": no patrol, round or place named, so no patrol report.
    reported = parsed.type == "all_clear" and (names_patrol(ctx.text) or bool(parsed.places))
    still = STILL_HERE_RE.search(folded) is not None
    if still and not reported:
        return "still"
    if parsed.type == "ack":
        return "short"
    words = re.findall(r"\w+", folded)
    if parsed.type in SHORT_TYPES and words and all(w in YES_WORDS for w in words):
        return "short"
    return None


async def _quotes_nudge(ctx: Context) -> bool:
    """Whether the message quotes a nudge to a member (private, or a group's list)."""
    quoted = ctx.event.quote_message_id
    if not quoted:
        return False
    out = await find_quoted(ctx.session, ctx.event.chat_id, quoted)
    if out is None or out.kind != "nudge":
        return False
    found = await ctx.session.execute(
        select(Nudge.id)
        .where(Nudge.outbox_pk == out.id, Nudge.channel.in_(("private", "group")))
        .limit(1)
    )
    return found.first() is not None


async def _follows_nudge(ctx: Context) -> bool:
    """Whether a private nudge reached this member within the last day."""
    at = ctx.event.sent_at
    found = await ctx.session.execute(
        select(Nudge.id)
        .join(Outbox, Outbox.id == Nudge.outbox_pk)
        .where(
            Nudge.member_pk == ctx.member.id,
            Nudge.channel == "private",
            Outbox.status == "sent",
            Outbox.sent_at <= at,
            Outbox.sent_at >= at - ANSWER_WITHIN,
        )
        .limit(1)
    )
    return found.first() is not None


@hook(26)
async def nudge_answered(ctx: Context) -> bool:
    """A presence said in answer to a nudge: recorded and answered as "có mặt" is. Last of
    the hooks: a "dạ" that answers the bot's own question (a choice, a confirmation) is
    that answer first."""
    kind = _answer_kind(ctx)
    if kind is None:
        return False
    if not await _quotes_nudge(ctx):
        if ctx.event.quote_message_id or not ctx.is_private or not await _follows_nudge(ctx):
            return False
        if kind == "short" and await open_directive_for(ctx.session, ctx.member, ctx.now):
            return False  # "ok" unquoted while a notice waits: its acknowledgement
    if ctx.message is not None:
        ctx.message.type = "check_in"  # what the bot read it as, for the records
    await presence(ctx, warm=kind == "still")
    return True
