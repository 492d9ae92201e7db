"""Queries behind the dashboard pages that are not digest figures: reports, roster edits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.people import fold_name
from models.tables import AuditLog, Incident, Member, Report

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
    return [ReportRow(*row) for row in await session.execute(stmt)]


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
