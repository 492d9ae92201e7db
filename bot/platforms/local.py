"""The `local` platform: a Zalo stand-in inside the process, for the demo and tests."""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.platforms.base import OutboundMessage, PermanentError, SendResult
from handlers.config import ConfigError
from models.tables import InboundEvent, KeyValue

log = logging.getLogger(__name__)


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


SERVED_BY = "platform.kind"  # kv key: the platform that last served this database


async def check_database_platform(
    sessions: async_sessionmaker[AsyncSession], kind: str, now: datetime
) -> None:
    """A database remembers the platform that serves it, and the simulator refuses a real
    bot's: it "sends" by marking messages sent (an empty or cut-off config.yaml falls back
    to `local` with the real database.url). Moving from the simulator to Zalo is fine."""
    async with sessions() as session:
        row = await session.get(KeyValue, SERVED_BY)
        served = row.value.get("kind") if row is not None else None
        if served is None and kind == "local":
            # A database from before this record: its deliveries tell (the simulator's
            # own arrive as "local"; tests may post Zalo bodies to it, but they record it).
            served = (
                await session.execute(
                    select(InboundEvent.platform).where(InboundEvent.platform != "local").limit(1)
                )
            ).scalar()
    if kind == "local" and served not in (None, "local"):
        raise ConfigError(
            f"platform.kind: local (the simulator) refuses this database: {served} "
            "served it, and the simulator would mark that bot's queued replies as sent "
            f"without sending them. Check that config.yaml is the right, complete file "
            f"(platform.kind: {served}), or give the simulator its own database.url"
        )
    if row is not None and served == kind:
        return
    try:
        async with sessions() as session, session.begin():
            await session.execute(delete(KeyValue).where(KeyValue.key == SERVED_BY))
            session.add(KeyValue(key=SERVED_BY, value={"kind": kind}, updated_at=now))
    except DBAPIError as exc:
        # Best effort: a database that refuses writes is reported by `serve` and /healthz;
        # the record is written the next time it can be.
        log.warning("could not record the platform serving this database: %s", exc)
