"""Handlers every deployment has: help, unknown commands, plain messages."""

from __future__ import annotations

from handlers.context import Context
from handlers.registry import hook, intent
from handlers.texts import core as texts
from models.identity import open_claim
from models.people import DEFAULT_TITLE, address, title_of
from models.scoping import role_here


@intent("command:huongdan", "command:help")
async def show_help(ctx: Context) -> None:
    await ctx.reply(texts.help_text(role_here(ctx.member)))


async def unknown_command(ctx: Context) -> None:
    """Fallback for a command nobody registered."""
    name = ctx.parsed.command.name if ctx.parsed and ctx.parsed.command else "?"
    await ctx.reply(texts.UNKNOWN_COMMAND.format(name=name))


THANKS_WORDS = 6  # "cám ơn bot nhiều lắm ạ": thanks; longer, it may say something more


async def plain_message(ctx: Context) -> None:
    """A message no intent claimed: stored already. In a group the bot stays quiet; in private
    it says once a day how to use it (every send costs quota)."""
    if not ctx.is_private:
        return
    from handlers.intents.directives import is_thanks  # directives imports this module

    day = ctx.now.astimezone(ctx.tz).date().isoformat()
    if is_thanks(ctx.text) and len(ctx.text.split()) <= THANKS_WORDS:
        # "cảm ơn bot": thanked back once a day, not told how to report an incident.
        text = texts.THANKS_BACK.format(name=address(ctx.member))
        await ctx.reply(text, key=f"thanks:{ctx.member.id}:{day}")
        return
    text = texts.NOT_UNDERSTOOD_PRIVATE.format(name=address(ctx.member), you=title_of(ctx.member))
    await ctx.reply(text, key=f"unclear:{ctx.member.id}:{day}")


@intent("kind:voice")
async def voice_note(ctx: Context) -> None:
    """A voice note in private: the bot cannot listen, so each one is answered with a request
    for words (not the once-a-day hint: a fire told by voice must never meet silence)."""
    if not ctx.is_private:
        return
    await ctx.reply(texts.VOICE_NOT_HEARD.format(you=title_of(ctx.member)))


@hook(6, needs="private")
async def welcome_guest(ctx: Context) -> bool:
    """A first-time sender not on the roster hears that coordinators will confirm them."""
    if ctx.member_created and ctx.member.status == "guest" and ctx.is_private:
        if await open_claim(ctx.session, ctx.member.id, ctx.now) is not None:
            return False  # named like a coordinator: the identity question was the welcome
        # Zalo OA deliveries carry no display name: the guest's name would be just an id.
        name = address(ctx.member) if ctx.member.display_name else DEFAULT_TITLE
        await ctx.reply(texts.WELCOME_GUEST.format(name=name), key=f"welcome-guest:{ctx.member.id}")
    return False
