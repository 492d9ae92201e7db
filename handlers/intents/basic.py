"""Handlers every deployment has: help, unknown commands, plain messages."""

from __future__ import annotations

from handlers.context import Context
from handlers.registry import intent
from handlers.texts import core as texts


@intent("command:huongdan", "command:help")
async def show_help(ctx: Context) -> None:
    await ctx.reply(texts.help_text(ctx.member.role))


async def unknown_command(ctx: Context) -> None:
    """Fallback for a command nobody registered."""
    name = ctx.parsed.command.name if ctx.parsed and ctx.parsed.command else "?"
    await ctx.reply(texts.UNKNOWN_COMMAND.format(name=name))


async def plain_message(ctx: Context) -> None:
    """A message no intent claimed: stored already; nothing to say in a group."""
    return None
