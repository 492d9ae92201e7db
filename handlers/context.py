"""What a handler receives: the event, who sent it, where, the parse, the session and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.clock import Clock
from handlers.config import Settings
from handlers.events import InboundEvent
from models.outbox import enqueue
from models.scoping import role_here
from models.tables import Group, Member, Membership, Message

if TYPE_CHECKING:
    from handlers.parse import ParsedMessage


@dataclass
class Context:
    """One event being handled, inside its one transaction."""

    session: AsyncSession
    settings: Settings
    clock: Clock
    event: InboundEvent
    member: Member
    group: Group
    membership: Membership | None
    message: Message | None
    parsed: ParsedMessage | None
    text: str  # the text without a leading @mention of the bot
    member_created: bool = False  # first time the bot sees this sender
    replies: list[int] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz

    @property
    def is_private(self) -> bool:
        return self.event.chat_type == "private"

    @property
    def is_coordinator(self) -> bool:
        return role_here(self.member) in ("coordinator", "admin")

    async def reply(self, text: str, *, kind: str = "reply", **extra: Any) -> int | None:
        """Answer in the chat the event came from (written to the outbox, same transaction)."""
        return await self.say(self.event.chat_id, text, kind=kind, **extra)

    async def say(
        self, chat_id: str, text: str, *, kind: str = "reply", key: str | None = None, **extra: Any
    ) -> int | None:
        """Queue a message to any chat; the key defaults to one derived from this event."""
        n = len(self.replies)
        key = key or f"{kind}:{self.event.platform}:{self.event.event_key}:{n}"
        out = await enqueue(
            self.session, chat_id=chat_id, text=text, kind=kind, key=key, now=self.now, **extra
        )
        if out is not None:
            self.replies.append(out)
        return out
