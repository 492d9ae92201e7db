"""Which park a private message is about, for a member of several parks' councils.

A member of one council is in it for private chats too. A member of several is asked once
(a numbered pick, or the park's name), the message waits meanwhile, and the answer holds
for that conversation (PARK_HOURS since the last private message)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.config import Settings
from handlers.councils import Council, councils, member_councils
from handlers.text import fold_key
from handlers.texts import councils as texts
from models.outbox import find_quoted
from models.tables import DEFAULT_COUNCIL, Conversation, Member, Message

PARK = "park"  # Conversation.kind: the chosen park, or the question waiting for an answer
PARK_HOURS = 24


@dataclass
class Choice:
    """The council of a private message, or the question asked instead (`council` None)."""

    council: str | None
    reply: str | None = None  # what to answer the member (the question, or the choice)
    held: list[int] = field(default_factory=list)  # messages that waited: route them now
    picked: str | None = None  # the park just chosen, for the held messages


def park_keys(council: Council) -> set[str]:
    """Ways a member names a park: its name, without "KCN", its id."""
    name = fold_key(council.name)
    keys = {name, fold_key(council.id.replace("-", " "))}
    bare = re.sub(r"^(kcn|khu cong nghiep)\s+", "", name)
    if len(bare) >= 3:
        keys.add(bare)
    return keys


def named_park(text: str, options: list[Council]) -> Council | None:
    """The one park the text names (a whole word match of a key); None for none or several."""
    folded = f" {fold_key(text)} "
    hits = [
        c
        for c in options
        if any(re.search(rf"(?<!\w){re.escape(k)}(?!\w)", folded) for k in park_keys(c))
    ]
    return hits[0] if len(hits) == 1 else None


def picked_park(text: str, options: list[Council]) -> Council | None:
    """An answer to the question: its number ("1", "số 2") or the park's name."""
    m = re.fullmatch(r"\s*(?:so\s*)?(\d{1,2})\s*[.)!]?\s*", fold_key(text))
    if m:
        n = int(m[1])
        return options[n - 1] if 1 <= n <= len(options) else None
    return named_park(text, options)


def is_bare_answer(text: str, picked: Council) -> bool:
    """Only the pick: a number, or the park's name (with "KCN", "khu công nghiệp", "số")."""
    rest = re.sub(r"\b(kcn|khu cong nghiep|so|o|tai|a|ạ|nhe)\b|[\d.,!?)]", " ", fold_key(text))
    for key in sorted(park_keys(picked), key=len, reverse=True):
        rest = rest.replace(key, " ")
    return not rest.strip()


async def _open(
    session: AsyncSession, chat_id: str, member: Member, now: datetime
) -> Conversation | None:
    stmt = (
        select(Conversation)
        .where(
            Conversation.chat_id == chat_id,
            Conversation.member_pk == member.id,
            Conversation.kind == PARK,
            Conversation.status == "open",
            Conversation.expires_at > now,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def private_council(
    session: AsyncSession,
    settings: Settings,
    member: Member,
    message: Message,
    text: str,
    now: datetime,
) -> Choice:
    """The council of a private message (see the module's docstring)."""
    mine = await member_councils(session, settings, member.id)
    if not mine:
        return Choice(DEFAULT_COUNCIL)  # a stranger: no park's views show it
    if len(mine) == 1:
        return Choice(mine[0])
    options = [c for c in councils(settings) if c.id in mine]
    talk = await _open(session, message.chat_id, member, now)
    until = now + timedelta(hours=PARK_HOURS)
    quoted = await _quoted_council(session, message)
    if quoted in mine:  # a reply to the bot's message about one park is about that park
        return Choice(quoted)
    if talk is not None and "council" in talk.data:
        if talk.data["council"] in mine:
            talk.expires_at = until  # the conversation goes on: the choice holds
            return Choice(str(talk.data["council"]))
        talk.status, talk = "expired", None  # no longer on that park's council: ask again
    if talk is not None:  # the question is waiting for this answer
        picked = picked_park(text, options) if text else None
        held = [int(pk) for pk in talk.data.get("held", [])]
        if picked is None:
            talk.data = {**talk.data, "held": [*held, message.id]}
            talk.expires_at = until
            return Choice(None, texts.PARK_AGAIN.format(n=len(options)))
        if not is_bare_answer(text, picked):  # "kho sơn KCN Khai Quang bị cháy": route it too
            held.append(message.id)
        talk.data = {"council": picked.id}
        talk.expires_at = until
        return Choice(None, texts.PARK_CHOSEN.format(name=picked.name), held, picked.id)
    named = named_park(text, options) if text else None
    if named is not None:  # "cháy ở xưởng 2 KCN Khai Quang": no need to ask
        session.add(_talk(message.chat_id, member, {"council": named.id}, now, until))
        return Choice(named.id)
    session.add(_talk(message.chat_id, member, {"held": [message.id]}, now, until))
    choices = "\n".join(texts.CHOICE.format(n=i, name=c.name) for i, c in enumerate(options, 1))
    return Choice(None, texts.ASK_PARK.format(choices=choices))


async def _quoted_council(session: AsyncSession, message: Message) -> str | None:
    """The council of the bot's message this one quotes, if it quotes one."""
    if not message.quote_message_id:
        return None
    out = await find_quoted(session, message.chat_id, message.quote_message_id)
    return out.council_id if out is not None else None


def _talk(
    chat_id: str, member: Member, data: dict[str, object], now: datetime, until: datetime
) -> Conversation:
    return Conversation(
        chat_id=chat_id,
        member_pk=member.id,
        kind=PARK,
        data=data,
        status="open",
        created_at=now,
        expires_at=until,
    )
