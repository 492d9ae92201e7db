"""Check-ins: attendance ("có mặt", /diemdanh), shift start ("đã vào ca") and patrol all-clears."""

from __future__ import annotations

from handlers.context import Context
from handlers.registry import intent
from handlers.text import fold
from handlers.texts import engagement as texts
from models.people import address
from models.tables import CheckIn

SHIFT_WORDS = ("vao ca", "nhan ca", "len ca", "bat dau ca", "truc ca")


def checkin_kind(ctx: Context) -> str:
    """patrol for all-clear reports, shift for shift words, attendance otherwise."""
    if ctx.parsed is not None and ctx.parsed.type == "all_clear":
        return "patrol"
    folded = fold(ctx.text).lower()
    if any(w in folded for w in SHIFT_WORDS):
        return "shift"
    return "attendance"


@intent("check_in", "all_clear", "command:diemdanh")
async def check_in(ctx: Context) -> None:
    kind = checkin_kind(ctx)
    note = ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else ctx.text
    ctx.session.add(
        CheckIn(
            message_pk=ctx.message.id if ctx.message else None,
            member_pk=ctx.member.id,
            chat_id=ctx.event.chat_id,
            kind=kind,
            note=note[:500],
            at=ctx.event.sent_at,
        )
    )
    at = ctx.event.sent_at.astimezone(ctx.tz).strftime("%H:%M")
    await ctx.reply(texts.CHECKIN_OK[kind].format(name=address(ctx.member), time=at))


@intent("absent")
async def absent(ctx: Context) -> None:
    await ctx.reply(texts.ABSENT_OK.format(name=address(ctx.member)))
