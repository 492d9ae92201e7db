"""The `local` platform: a Zalo stand-in inside the process, for the demo and tests."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.platforms.base import OutboundMessage, PermanentError, SendResult
from handlers.config import ConfigError
from models.tables import InboundEvent


@dataclass(slots=True)
class ChatLine:
    """One line of a chat as the local platform shows it."""

    id: int
    message_id: str
    chat_id: str
    sender_id: str
    sender_name: str
    is_bot: bool
    text: str
    at: datetime
    photo_url: str | None = None
    quote_message_id: str | None = None


@dataclass
class LocalStore:
    """Every line said in local chats, members' and the bot's, in order."""

    lines: list[ChatLine] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    fail_next: list[Exception] = field(default_factory=list)
    # Like Zalo's, message ids stay unique across restarts (a new store starts counting again).
    _prefix: str = field(default_factory=lambda: secrets.token_hex(3))

    def add(
        self,
        *,
        chat_id: str,
        sender_id: str,
        sender_name: str,
        is_bot: bool,
        text: str,
        at: datetime | None = None,
        photo_url: str | None = None,
        quote_message_id: str | None = None,
        message_id: str | None = None,
    ) -> ChatLine:
        n = next(self._ids)
        line = ChatLine(
            id=n,
            message_id=message_id or f"loc{self._prefix}{n:012d}",
            chat_id=chat_id,
            sender_id=sender_id,
            sender_name=sender_name,
            is_bot=is_bot,
            text=text,
            at=at or datetime.now(UTC),
            photo_url=photo_url,
            quote_message_id=quote_message_id,
        )
        self.lines.append(line)
        self.changed.set()
        self.changed = asyncio.Event()
        return line

    def bot_lines(self, chat_id: str | None = None) -> list[ChatLine]:
        return [x for x in self.lines if x.is_bot and (chat_id is None or x.chat_id == chat_id)]

    def after(self, line_id: int) -> list[ChatLine]:
        return [x for x in self.lines if x.id > line_id]


class LocalClient:
    """Sends land in the LocalStore; tests can queue failures in `store.fail_next`."""

    name = "local"

    def __init__(self, store: LocalStore, bot_id: str = "bot", bot_name: str = "Bot ANTT") -> None:
        self.store = store
        self.bot_id = bot_id
        self.bot_name = bot_name

    async def send(self, message: OutboundMessage) -> SendResult:
        if self.store.fail_next:
            raise self.store.fail_next.pop(0)
        if not message.text and not message.photo_url:
            raise PermanentError("empty message", code=400)
        line = self.store.add(
            chat_id=message.chat_id,
            sender_id=self.bot_id,
            sender_name=self.bot_name,
            is_bot=True,
            text=message.text,
            photo_url=message.photo_url,
        )
        return SendResult(message_ids=(line.message_id,))

    async def close(self) -> None:
        await asyncio.sleep(0)


async def refuse_foreign_database(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The simulator "sends" by marking messages sent: never on a real bot's database (an
    empty or cut-off config.yaml falls back to `local` with the real database.url)."""
    async with sessions() as session:
        other = (
            await session.execute(
                select(InboundEvent.platform).where(InboundEvent.platform != "local").limit(1)
            )
        ).scalar()
    if other is not None:
        raise ConfigError(
            f"platform.kind: local (the simulator) refuses this database: it holds messages "
            f"from {other}, whose queued replies the simulator would mark as sent without "
            f"sending them. Check that config.yaml is the right, complete file (platform.kind: "
            f"{other}), or give the simulator its own database.url"
        )
