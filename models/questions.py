"""The bot's yes-or-no questions to a member: a plain "đúng" / "không" answers the newest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.incidents import CONFIRM_REPORT
from models.tables import Conversation

TASK_DONE = "task_done"  # Conversation.kind of "did you finish CV3?" (handlers/intents/tasks.py)
# Questions a bare "đúng" or "không" answers. A member answers what he read last: with two
# open in one chat, the one asked first must not take the answer meant for the other.
YES_NO_KINDS = (CONFIRM_REPORT, TASK_DONE)


async def asked_since(session: AsyncSession, question: Conversation, now: datetime) -> bool:
    """Whether the bot asked the same member, in the same chat, another yes-or-no question
    after `question` that is still waiting: a plain "đúng" now answers that one."""
    later = exists().where(
        Conversation.chat_id == question.chat_id,
        Conversation.member_pk == question.member_pk,
        Conversation.kind.in_(YES_NO_KINDS),
        Conversation.status == "open",
        Conversation.expires_at > now,
        Conversation.id > question.id,
    )
    return bool((await session.execute(select(later))).scalar())
