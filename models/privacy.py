"""Personal data by law (Decree 13/2023/NĐ-CP): everything held about one member, and forgetting
a member's name, phone and message text everywhere while reports and counts stay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from models.tables import (
    Ack,
    AuditLog,
    Base,
    CheckIn,
    Commendation,
    Directive,
    InboundEvent,
    IncidentEvent,
    KeyValue,
    Member,
    MemberRequest,
    Message,
    Outbox,
    PostResponse,
    Report,
    SentDigest,
    Task,
)

FORGOTTEN_NAME = "Thành viên đã xoá"
NOTICE_KEY = "privacy_notice:{pk}"  # kv: the one-line notice was sent to this member


def _row(obj: Base, *skip: str) -> dict[str, Any]:
    """A table row as JSON-ready values (datetimes as ISO text, bytes left out)."""
    out: dict[str, Any] = {}
    for col in obj.__table__.columns:
        if col.key in skip:
            continue
        value = getattr(obj, col.key)
        if isinstance(value, bytes):
            continue
        out[col.key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def confirms(member: Member, typed: str) -> bool:
    """The admin typed this member's name (any case or spacing), member id or #id."""
    said = " ".join(typed.split())
    if not said:
        return False
    names = {member.name, member.display_name}
    return said.casefold() in {" ".join(n.split()).casefold() for n in names if n} or said in {
        member.member_id,
        f"#{member.id}",
    }


async def find_member(session: AsyncSession, member_id: str) -> Member | None:
    """By platform user id, or by the database id ("#12" or "12")."""
    found = await session.scalar(select(Member).where(Member.member_id == member_id))
    if found is None and member_id.lstrip("#").isdigit():
        found = await session.get(Member, int(member_id.lstrip("#")))
    return found


async def member_data(session: AsyncSession, member: Member) -> dict[str, Any]:
    """Everything held about one member: the roster row and each kind of record."""
    pk = member.id

    async def rows(model: Any, column: Any) -> list[dict[str, Any]]:
        found = await session.scalars(select(model).where(column == pk).order_by(model.id))
        return [_row(r) for r in found]

    return {
        "member": _row(member),
        "messages": await rows(Message, Message.member_pk),
        "reports": await rows(Report, Report.member_pk),
        "checkins": await rows(CheckIn, CheckIn.member_pk),
        "requests": await rows(MemberRequest, MemberRequest.member_pk),
        "acks": await rows(Ack, Ack.member_pk),
        "tasks": await rows(Task, Task.assignee_pk),
        "post_responses": await rows(PostResponse, PostResponse.member_pk),
        "commendations": await rows(Commendation, Commendation.member_pk),
    }


# Free text where a member's name or phone may be quoted by someone else or by the bot.
_TEXT_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Message.text,
    Report.text,
    Outbox.text,
    IncidentEvent.note,
    CheckIn.note,
    MemberRequest.text,
    MemberRequest.answer,
    Task.text,
    Task.note,
    Directive.text,
    SentDigest.text,
    Commendation.reason,
)


async def forget_member(
    session: AsyncSession, member: Member, actor: str, now: datetime
) -> dict[str, int]:
    """Erase name, phone and message text; reports keep category, time and place. Audited."""
    pk = member.id
    secrets = [s for s in {member.name, member.display_name, member.phone or ""} if len(s) >= 3]
    if member.phone:
        secrets.append(member.phone.replace(" ", ""))
    counts: dict[str, int] = {}
    own = await session.execute(
        update(Message).where(Message.member_pk == pk).values(text="", parse=None, media_url=None)
    )
    counts["messages"] = own.rowcount or 0  # type: ignore[attr-defined]
    reports = await session.execute(
        update(Report).where(Report.member_pk == pk).values(text="", phones=[])
    )
    counts["reports"] = reports.rowcount or 0  # type: ignore[attr-defined]
    await session.execute(
        update(MemberRequest).where(MemberRequest.member_pk == pk).values(text="")
    )
    await session.execute(update(CheckIn).where(CheckIn.member_pk == pk).values(note=""))
    # Quiz answers and "đã đọc" replies are the member's own words; right/wrong stays counted.
    await session.execute(update(PostResponse).where(PostResponse.member_pk == pk).values(text=""))
    if member.member_id:  # the raw deliveries carry the sender's name and text
        await session.execute(
            update(InboundEvent)
            .where(InboundEvent.sender_id == member.member_id)
            .values(payload={"forgotten": True})
        )
    counts["mentions"] = await _scrub_mentions(session, secrets)
    await _scrub_phone_lists(session, [s for s in secrets if s.isdigit()])
    member.name = member.display_name = f"{FORGOTTEN_NAME} #{pk}"
    member.name_folded = member.name.lower()
    member.phone = None
    member.title = None
    session.add(
        AuditLog(at=now, actor=actor, action="member.forget", detail={"member_pk": pk, **counts})
    )
    return counts


async def _scrub_mentions(session: AsyncSession, secrets: list[str]) -> int:
    """Replace the name or phone wherever someone quoted it: messages, alerts, digests."""
    if not secrets:
        return 0
    changed = 0
    for column in _TEXT_COLUMNS:
        model = column.class_
        col: Column[Any] = column  # type: ignore[assignment]
        found = await session.scalars(
            select(model).where(or_(*(col.contains(s, autoescape=True) for s in secrets)))
        )
        for row in found:
            text = getattr(row, column.key) or ""
            for s in sorted(secrets, key=len, reverse=True):
                text = text.replace(s, "***")
            setattr(row, column.key, text)
            changed += 1
    return changed


async def _scrub_phone_lists(session: AsyncSession, phones: list[str]) -> None:
    """Other members' reports may list the phone among their extracted numbers."""
    if not phones:
        return
    for pk, listed in (await session.execute(select(Report.id, Report.phones))).all():
        kept = [p for p in listed or [] if p.replace(" ", "") not in phones]
        if kept != (listed or []):
            await session.execute(update(Report).where(Report.id == pk).values(phones=kept))


async def notice_due(session: AsyncSession, member_pk: int, now: datetime) -> bool:
    """True once per member: the first private message gets the privacy notice."""
    key = NOTICE_KEY.format(pk=member_pk)
    if await session.get(KeyValue, key) is not None:
        return False
    session.add(KeyValue(key=key, value={"at": now.isoformat()}, updated_at=now))
    return True


async def purge_sent_digests(session: AsyncSession, before: datetime) -> int:
    """Delete the stored digest texts queued before `before` (`retention.digests_days`);
    the figures stay computable from the records, only the sent wording goes."""
    result = await session.execute(delete(SentDigest).where(SentDigest.created_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
