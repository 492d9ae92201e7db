"""Queries behind the dashboard pages that are not digest figures: reports, roster edits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.people import fold_name
from models.tables import Attachment, AuditLog, Incident, Member, Report

EDITABLE = ("name", "phone", "enterprise", "role")


@dataclass(frozen=True)
class ReportRow:
    id: int
    created_at: datetime
    category: str
    severity: str
    state: str  # the incident's status when merged into one, else the report's
    name: str | None
    enterprise: str | None
    text: str
    photos: tuple[int, ...] = ()  # attachment ids of the photos kept with the report


# Photos the dashboard shows inline; anything else (an SVG can carry script) is not served.
SHOWN_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def _state() -> Any:
    return func.coalesce(Incident.status, Report.status)


async def report_filters(session: AsyncSession) -> tuple[list[str], list[str]]:
    """Categories and statuses present, for the filter menus."""
    cats = (
        await session.execute(select(Report.category).distinct().order_by(Report.category))
    ).scalars()
    states = (
        await session.execute(
            select(_state())
            .select_from(Report)
            .outerjoin(Incident, Incident.id == Report.incident_pk)
            .distinct()
        )
    ).scalars()
    return list(cats), sorted(s for s in states if s)


async def reports(
    session: AsyncSession,
    *,
    category: str = "",
    status: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[ReportRow]:
    """Newest reports first, filtered; `until` is exclusive."""
    state = _state().label("state")
    stmt = (
        select(
            Report.id,
            Report.created_at,
            Report.category,
            Report.severity,
            state,
            Member.name,
            Member.enterprise,
            Report.text,
        )
        .outerjoin(Incident, Incident.id == Report.incident_pk)
        .outerjoin(Member, Member.id == Report.member_pk)
    )
    if category:
        stmt = stmt.where(Report.category == category)
    if status:
        stmt = stmt.where(_state() == status)
    if since is not None:
        stmt = stmt.where(Report.created_at >= since)
    if until is not None:
        stmt = stmt.where(Report.created_at < until)
    stmt = stmt.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)
    rows = [ReportRow(*row) for row in await session.execute(stmt)]
    photos = await photos_of(session, [r.id for r in rows])
    return [replace(r, photos=photos.get(r.id, ())) for r in rows]


async def photos_of(session: AsyncSession, report_ids: list[int]) -> dict[int, tuple[int, ...]]:
    """Fetched, showable photos per report, oldest first."""
    if not report_ids:
        return {}
    found = await session.execute(
        select(Attachment.report_pk, Attachment.id)
        .where(
            Attachment.report_pk.in_(report_ids),
            Attachment.status == "fetched",
            Attachment.content_type.in_(SHOWN_IMAGE_TYPES),
        )
        .order_by(Attachment.id)
    )
    out: dict[int, list[int]] = {}
    for report_pk, attachment_id in found.tuples():
        if report_pk is not None:
            out.setdefault(report_pk, []).append(attachment_id)
    return {k: tuple(v) for k, v in out.items()}


async def photo(session: AsyncSession, attachment_id: int) -> tuple[bytes, str] | None:
    """A kept photo's bytes and type, if it is one the dashboard shows."""
    row = (
        await session.execute(
            select(Attachment.data, Attachment.content_type).where(
                Attachment.id == attachment_id,
                Attachment.status == "fetched",
                Attachment.content_type.in_(SHOWN_IMAGE_TYPES),
            )
        )
    ).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return bytes(row[0]), str(row[1])


async def update_member(
    session: AsyncSession, member: Member, changes: dict[str, Any], *, actor: str, now: datetime
) -> dict[str, list[Any]]:
    """Apply roster edits and write one audit row naming each field's old and new value."""
    diff: dict[str, list[Any]] = {}
    for key in EDITABLE:
        if key in changes and getattr(member, key) != changes[key]:
            diff[key] = [getattr(member, key), changes[key]]
            setattr(member, key, changes[key])
    if "name" in diff:
        member.name_folded = fold_name(member.name)
    if diff:
        session.add(
            AuditLog(
                at=now,
                actor=actor,
                action="member.update",
                detail={"member_pk": member.id, "member_id": member.member_id, "changes": diff},
            )
        )
    return diff
