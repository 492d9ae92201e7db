"""From a stored inbox event to records and replies: record who and where, parse, route."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

import handlers.intents  # noqa: F401  (registers the handlers)
from handlers.clock import Clock
from handlers.config import Settings
from handlers.context import Context
from handlers.councils import (
    council_of_chat,
    council_settings,
    join_council,
    member_councils,
    member_role,
)
from handlers.events import ContentKind, InboundEvent
from handlers.intents.basic import plain_message, unknown_command
from handlers.park_choice import private_council
from handlers.parse import parse
from handlers.registry import HANDLERS, Handler, hooks_for
from handlers.text import fold
from models.inserts import write_row
from models.outbox import enqueue
from models.people import (
    ensure_membership,
    get_or_create_group,
    get_or_create_member,
    mark_private_chat,
    touch_activity,
)
from models.scoping import ALL_COUNCILS, ROLES, keep_to_council, set_role_here
from models.tables import DEFAULT_COUNCIL, Group, Member, Message

log = logging.getLogger(__name__)

# Content kinds that are a member's own message (stored and counted as activity).
MESSAGE_KINDS = {
    "text",
    "image",
    "sticker",
    "voice",
    "file",
    "location",
    "link",
    "video",
    "unsupported",
}


def strip_bot_mention(text: str, bot_name: str) -> str:
    """Remove a leading "@Bot Name" (group mentions may or may not keep it)."""
    stripped = text.lstrip()
    if not stripped.startswith("@") or not bot_name:
        return text
    pattern = r"@" + re.escape(bot_name) + r"\b[\s,:]*"
    match = re.match(pattern, stripped, flags=re.IGNORECASE)
    if match is None:
        match = re.match(
            r"@" + re.escape(fold(bot_name)) + r"\b[\s,:]*", fold(stripped), flags=re.IGNORECASE
        )
    return stripped[match.end() :] if match else text


def group_config(settings: Settings, chat_id: str) -> tuple[str, str, str | None]:
    for g in settings.groups:
        if g.chat_id == chat_id:
            return g.name, g.kind, g.enterprise
    return "", "council", None


# Events that show a member is there without saying anything (Zalo OA: seen receipts, joins).
PRESENCE_KINDS = {"receipt", "join", "leave"}


async def handle_event(
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    event: InboundEvent,
    event_pk: int | None = None,
) -> Context | None:
    """Handle one event inside the caller's transaction; returns the context for inspection."""
    if event.sender_is_bot or not event.sender_id:
        return None
    if event.kind not in MESSAGE_KINDS and event.kind not in PRESENCE_KINDS:
        return None  # follow/unfollow and unknown events are kept in the inbox only
    now = clock.now()
    if "\x00" in event.text or "\x00" in event.sender_name:
        # PostgreSQL text cannot hold NUL; the raw body in the inbox keeps it.
        event = replace(
            event,
            text=event.text.replace("\x00", ""),
            sender_name=event.sender_name.replace("\x00", ""),
        )
    _as_if_alone(session)
    if event.chat_type == "private":
        group = await get_or_create_group(
            session, event.chat_id, now=now, name=event.sender_name or event.chat_id, kind="private"
        )
    else:
        name, kind, enterprise = group_config(settings, event.chat_id)
        group = await get_or_create_group(
            session, event.chat_id, now=now, name=name, kind=kind, enterprise=enterprise
        )
    private = event.chat_id if event.chat_type == "private" else None
    member, member_created = await get_or_create_member(
        session, event.sender_id, display_name=event.sender_name, now=now, private_chat_id=private
    )
    if member.member_id in settings.province.coordinators and member.role != "province":
        # The province's staff: known people who owe no acknowledgement in any park.
        member.role, member.status = "province", "member"
    if settings.councils and event.chat_type != "private":
        await _group_council(session, settings, group, member, now)
    membership = await ensure_membership(session, member, group, now=now)
    if event.chat_type == "private":
        await mark_private_chat(session, member, event.chat_id)
    if event.kind == "leave":
        await session.delete(membership)  # no longer expected to acknowledge there
        return None
    # Activity is when the member acted, not when we processed it (redeliveries come late).
    await touch_activity(session, member, membership, min(event.sent_at, now))
    if event.kind in PRESENCE_KINDS:
        return None  # a read receipt or a join is activity, not a message to answer

    text = strip_bot_mention(event.text, settings.platform.bot_name) if event.text else ""
    parsed = parse(text, event.sent_at, settings.tz) if text.strip() else None
    council = group.council_id if event.chat_type != "private" else DEFAULT_COUNCIL
    # One Core INSERT, the row kept in the session (a flush of the unit of work costs 3x).
    message = await write_row(
        session,
        Message(
            council_id=council,
            event_pk=event_pk,
            platform=event.platform,
            chat_id=event.chat_id,
            chat_type=event.chat_type,
            member_pk=member.id,
            member_id=event.sender_id,
            message_id=event.message_id,
            sent_at=event.sent_at,
            kind=event.kind,
            text=event.text,
            media_url=event.media_url,
            quote_message_id=event.quote_message_id,
            type=parsed.type if parsed else None,
            category=parsed.category if parsed else None,
            parse=parsed.to_dict() if parsed else None,
            created_at=now,
        ),
    )
    held: list[int] = []
    if settings.councils:
        if event.chat_type == "private":
            choice = await private_council(session, settings, member, message, text, now)
            if choice.council is None:  # the park question was asked or answered
                await _answer(session, event, member, choice.reply, now)
                held = choice.held
                if not held:
                    return None
                council = choice.picked or DEFAULT_COUNCIL
            else:
                council = choice.council
            if message.council_id != council:  # an unchanged value would still be flushed
                message.council_id = council
        # Everything this event reads and writes is this council's (models/scoping.py).
        keep_to_council(session, council)
        set_role_here(session, member, await member_role(session, settings, member, council))
        settings = council_settings(settings, council)
    if held:
        return await _route_held(session, settings, clock, event, member, group, held)
    ctx = Context(
        session=session,
        settings=settings,
        clock=clock,
        event=event,
        member=member,
        group=group,
        membership=membership,
        message=message,
        parsed=parsed,
        text=text,
        member_created=member_created,
    )
    return await _run(ctx)


def _as_if_alone(session: AsyncSession) -> None:
    """Start unscoped, as an event alone in its transaction would: the slice's previous
    event kept the session to its park, and a new group would have been stamped with it."""
    keep_to_council(session, None)
    session.info.pop(ROLES, None)  # people's roles in that park


async def _run(ctx: Context) -> Context:
    """Hooks first (answers to the bot's questions, quote-replies), then the handler."""
    event = ctx.event
    for pre in hooks_for(event.chat_type == "private", bool(event.quote_message_id)):
        if await pre(ctx):
            return ctx
    handler = route(ctx)
    await handler(ctx)
    return ctx


async def _group_council(
    session: AsyncSession, settings: Settings, group: Group, member: Member, now: datetime
) -> None:
    """A group's council is the configuration's; an unconfigured group takes the council of
    its first writer when they sit on exactly one. The writer joins the group's council."""
    configured = council_of_chat(settings, group.chat_id)
    if configured is not None and group.council_id != configured:
        group.council_id = configured
    elif configured is None and group.council_id == DEFAULT_COUNCIL:
        mine = await member_councils(session, settings, member.id)
        if len(mine) == 1:
            group.council_id = mine[0]
    if group.council_id != DEFAULT_COUNCIL and member.role != "province":
        await join_council(session, member.id, group.council_id, now)


async def _answer(
    session: AsyncSession, event: InboundEvent, member: Member, text: str | None, now: datetime
) -> None:
    """The park question, or the choice confirmed, in the member's private chat."""
    if text:
        await enqueue(
            session,
            chat_id=event.chat_id,
            text=text,
            kind="reply",
            key=f"park:{event.platform}:{event.event_key}",
            now=now,
            member_pk=member.id,
        )


async def _route_held(
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    event: InboundEvent,
    member: Member,
    group: Group,
    held: list[int],
) -> Context | None:
    """The messages that waited for the park question, handled now in the chosen park, as
    if they had just arrived (each keeps its own text and time)."""
    ctx: Context | None = None
    for n, pk in enumerate(held):
        old = await session.get(Message, pk, execution_options={ALL_COUNCILS: True})
        if old is None:
            continue
        old.council_id = settings.council_id or DEFAULT_COUNCIL
        text = strip_bot_mention(old.text, settings.platform.bot_name) if old.text else ""
        parsed = parse(text, old.sent_at, settings.tz) if text.strip() else None
        again = replace(
            event,
            text=old.text,
            message_id=old.message_id,
            sent_at=old.sent_at,
            kind=cast(ContentKind, old.kind),
            media_url=old.media_url,
            quote_message_id=old.quote_message_id,
            event_key=f"{event.event_key}:held{n}",
        )
        ctx = await _run(
            Context(
                session=session,
                settings=settings,
                clock=clock,
                event=again,
                member=member,
                group=group,
                membership=None,
                message=old,
                parsed=parsed,
                text=text,
            )
        )
    return ctx


def route(ctx: Context) -> Handler:
    """Pick the handler: a command by name, else the parse type, else the content kind."""
    parsed = ctx.parsed
    if parsed is not None and parsed.type == "command" and parsed.command is not None:
        return HANDLERS.get(f"command:{parsed.command.name}", unknown_command)
    if parsed is not None and parsed.type in HANDLERS:
        return HANDLERS[parsed.type]
    kind_key = f"kind:{ctx.event.kind}"
    if kind_key in HANDLERS:
        return HANDLERS[kind_key]
    return HANDLERS.get("other", plain_message)
