"""Queries over incidents, their reports, timeline, doubt questions and photos (never commit)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import String, bindparam, func, insert, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_dict, instance_state

from models import fastlane
from models.base import utc_from_sqlite
from models.outbox import enqueue
from models.prefetch import (
    Candidate,
    cast_table,
    keep_open_incidents,
    no_photos_waiting,
    no_report_since,
    note_photo_waiting,
    open_incidents_read,
)
from models.scoping import session_council
from models.tables import (
    Attachment,
    Conversation,
    Incident,
    IncidentEvent,
    Member,
    Outbox,
    Report,
)

OPEN = ("reported", "acknowledged", "handling")
# Inspections and drills are recorded as "noted": never open, never in need of closing.
NOTED = "noted"
NOTED_CATEGORIES = ("inspection",)
# "settled": the reporter says it is over ("không sao"); it happened, so no false alarm.
CLOSED = ("resolved", "settled", "false_alarm", NOTED)
CONFIRM_REPORT = "confirm_report"  # Conversation.kind of the bot's doubt question
KEY_SEP = "|"
MERGE_CANDIDATES = 50  # the latest open incidents of a category a report may join


def split_key(place_key: str) -> set[str]:
    """An incident's place key back into its parts ("workshop:2|company:abc")."""
    return {k for k in place_key.split(KEY_SEP) if k}


def join_key(keys: Iterable[str]) -> str:
    """Canonical place key: sorted parts, fitting the column."""
    return KEY_SEP.join(sorted(set(keys)))[:200]


def _companies(keys: AbstractSet[str]) -> set[str]:
    return {k for k in keys if k.startswith("company:")}


def same_place(report_keys: AbstractSet[str], incident_keys: AbstractSet[str]) -> bool:
    """Every place in the report is already one of the incident's places."""
    return bool(report_keys) and report_keys <= incident_keys


def near_place(report_keys: AbstractSet[str], incident_keys: AbstractSet[str]) -> bool:
    """Places overlap (or one side named none), and they do not name different companies.

    "xưởng 2" exists in many companies: a shared workshop code is not the same place when
    both reports name their company and the companies differ.
    """
    a, b = _companies(report_keys), _companies(incident_keys)
    if a and b and not a & b:
        return False
    return not report_keys or not incident_keys or bool(report_keys & incident_keys)


async def lock_category(session: AsyncSession, category: str) -> None:
    """Serialise merging per category across instances (PostgreSQL); SQLite has one writer."""
    if session.bind.dialect.name == "postgresql":
        key = zlib.crc32(f"incident:{category}".encode())
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


async def find_mergeable(
    session: AsyncSession, *, category: str, keys: set[str], now: datetime, window: timedelta
) -> Incident | None:
    """The open incident a new report of `category` at `keys` belongs to, if any.

    Same category and same place (any age while open), else same category reported within
    the window at an overlapping place; the most recently reported candidate wins.
    """
    candidates = await merge_candidates(session, category)
    chosen = _same_place(candidates, keys)
    if chosen is None:
        chosen = _near_place(candidates, keys, now - window)
    return None if chosen is None else await session.get(Incident, chosen)


def _same_place(candidates: Sequence[Candidate], keys: AbstractSet[str]) -> int | None:
    """The first candidate that holds every place of the report (same_place, in a loop)."""
    if not keys:
        return None  # no place named: never the same place
    return next((i for i, place, _ in candidates if keys <= place), None)


def _near_place(
    candidates: Sequence[Candidate], keys: AbstractSet[str], since: datetime
) -> int | None:
    """The first candidate reported since `since` at a near place (near_place, with the
    report's companies taken once and each candidate's from a cache: it runs ~50 times a
    report)."""
    mine = _companies(keys)
    # Most reports name one place: a membership test, not a set operation per candidate.
    (only,) = keys if len(keys) == 1 else (None,)
    for i, place, last in candidates:
        if last < since:
            continue
        if not keys or not place:
            return i  # one side named no place (and so no company)
        overlap = only in place if only is not None else not keys.isdisjoint(place)
        if not overlap:
            continue
        if mine and (theirs := companies_of(place)) and mine.isdisjoint(theirs):
            continue
        return i
    return None


@lru_cache(maxsize=4096)
def companies_of(place: frozenset[str]) -> frozenset[str]:
    """A candidate's companies (its place sets recur report after report in a slice)."""
    return frozenset(_companies(place))


@lru_cache(maxsize=4096)
def place_of(place_key: str) -> frozenset[str]:
    """split_key as a frozenset, kept: the same incidents' keys are split for every report."""
    return frozenset(split_key(place_key))


async def merge_candidates(session: AsyncSession, category: str) -> list[Candidate]:
    """The latest MERGE_CANDIDATES open incidents of the category, latest report first.

    In a slice, read once per category and kept (models/prefetch.py): later reports of the
    slice see the incidents made or changed since laid over that read.
    """
    known = _known_candidates(session, category)
    if known is not None:
        return known
    # Only the columns the choice needs (ORM objects for 50 candidates cost a third of
    # handling a report), by Core with the council's filter written out (the ORM's own
    # costs more than the read); the ix_incidents_merge index serves the filter and order.
    council = session_council(session)
    params = (
        {"category": category} if council is None else {"category": category, "council": council}
    )
    if session.bind.dialect.name == "sqlite":
        # The time as stored, made a datetime once per value (the same rows are read slice
        # after slice): converting 50 of them cost half the read.
        stmt = _CANDIDATES_TEXT if council is None else _COUNCIL_CANDIDATES_TEXT
        read = await fastlane.execute_core(session, stmt, params)
        rows = [(i, place_of(key), _from_stored(last)) for i, key, last in read]
    else:
        stmt = _CANDIDATES if council is None else _COUNCIL_CANDIDATES
        read = await fastlane.execute_core(session, stmt, params)
        rows = [(i, place_of(key), last) for i, key, last in read]
    keep_open_incidents(session, category, rows, full=len(rows) >= MERGE_CANDIDATES)
    return rows


@lru_cache(maxsize=4096)
def _from_stored(stored: str) -> datetime:
    """A time as SQLite stores it, as a datetime (UTCDateTime's reading, the fast path's
    own), kept: the same incidents' times are read slice after slice."""
    read = utc_from_sqlite(stored)
    if read is None:
        raise ValueError("an incident without a last report time")
    return read


def _candidates(*, as_text: bool = False, council: bool = False) -> Any:
    """The merge candidates' read, built once (a statement built per report costs about as
    much again as running it): bound by category (and council). `as_text`: the same SQL,
    its time column left as stored (SQLite's text) for `_from_stored`."""
    table = cast_table(Incident)
    last = table.c.last_reported_at
    stmt = (
        select(table.c.id, table.c.place_key, type_coerce(last, String) if as_text else last)
        .where(table.c.category == bindparam("category"), table.c.status.in_(OPEN))
        .order_by(last.desc(), table.c.id.desc())
        .limit(MERGE_CANDIDATES)
    )
    return stmt.where(table.c.council_id == bindparam("council")) if council else stmt


_CANDIDATES = _candidates()
_COUNCIL_CANDIDATES = _candidates(council=True)
_CANDIDATES_TEXT = _candidates(as_text=True)
_COUNCIL_CANDIDATES_TEXT = _candidates(as_text=True, council=True)
_INSERT_EVENT = insert(cast_table(IncidentEvent))


def _known_candidates(session: AsyncSession, category: str) -> list[Candidate] | None:
    """The candidates from the slice's read and its changed incidents; None when they
    cannot say (not read, a changed row not loaded, or too few left above the read's end)."""
    known = open_incidents_read(session, category)
    if known is None:
        return None
    read, changed = known
    council = session_council(session)
    changed_ids = {incident.id for incident in changed}
    laid_over: list[Candidate] = []
    for incident in changed:
        # The loaded values, read plainly: this runs for every changed row, every report.
        values = instance_dict(incident)
        if not _MERGE_COLUMNS.issubset(values):
            return None  # expired: what the database holds is not known here
        if (
            values["category"] == category
            and values["status"] in OPEN
            and (council is None or values["council_id"] == council)
        ):
            place = place_of(values["place_key"])
            laid_over.append((values["id"], place, values["last_reported_at"]))
    kept = [row for row in read.rows if row[0] not in changed_ids] if changed_ids else read.rows
    rows = _in_merge_order(laid_over, kept)
    if read.full:
        # Open incidents beyond the read rank below its last row: the first rows are the
        # database's only when at least MERGE_CANDIDATES known rows rank at or above it
        # (the rows are sorted, so when the MERGE_CANDIDATES-th one does).
        end = _latest_first(read.rows[-1])
        if len(rows) < MERGE_CANDIDATES or _latest_first(rows[MERGE_CANDIDATES - 1]) < end:
            return None
    return rows[:MERGE_CANDIDATES]


def _in_merge_order(laid_over: list[Candidate], kept: list[Candidate]) -> list[Candidate]:
    """The changed incidents and the read's other rows (in order), latest report first.
    Incidents made in the slice were reported last: mostly they go before the read whole,
    with no sort of the read's rows (it ran for every report)."""
    laid_over.sort(key=_latest_first, reverse=True)
    if laid_over and kept and _latest_first(laid_over[-1]) < _latest_first(kept[0]):
        rows = kept + laid_over
        rows.sort(key=_latest_first, reverse=True)
        return rows
    return laid_over + kept


# find_mergeable's order (last report, then id), to be sorted in reverse.
_latest_first: Callable[[Candidate], tuple[datetime, int]] = itemgetter(2, 0)


_MERGE_COLUMNS = frozenset(
    {"id", "category", "status", "council_id", "place_key", "last_reported_at"}
)


def unwritten_incident(values: dict[str, Any]) -> Incident:
    """A new incident holding `values`, for write_row to write at once. Made without the
    constructor's `set` events: their only listener (models/prefetch.py) notes changes to
    rows in a session, and this one is in none until written (a tenth of filing a report)."""
    incident: Incident = _INCIDENT_MANAGER.new_instance()
    instance_state(incident).dict.update(values)
    return incident


_INCIDENT_MANAGER = Incident.__mapper__.class_manager


async def get_incident(
    session: AsyncSession, incident_id: int, *, lock: bool = False
) -> Incident | None:
    stmt = select(Incident).where(Incident.id == incident_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_incidents(session: AsyncSession, limit: int = 50) -> list[Incident]:
    stmt = (
        select(Incident)
        .where(Incident.status.in_(OPEN))
        .order_by(Incident.urgent.desc(), Incident.first_reported_at.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def count_open(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(Incident).where(Incident.status.in_(OPEN))
    return int((await session.execute(stmt)).scalar_one())


async def unacknowledged_urgent(session: AsyncSession) -> list[Incident]:
    stmt = (
        select(Incident)
        .where(Incident.status == "reported", Incident.urgent.is_(True))
        .order_by(Incident.id)
    )
    return list((await session.execute(stmt)).scalars())


async def urgent_under_way(
    session: AsyncSession, since: datetime, limit: int = 10
) -> list[Incident]:
    """Open urgent incidents reported (first or again) at or after `since`, latest first."""
    stmt = (
        select(Incident)
        .where(
            Incident.status.in_(OPEN),
            Incident.urgent.is_(True),
            Incident.last_reported_at >= since,
        )
        .order_by(Incident.last_reported_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def open_under_way(session: AsyncSession, since: datetime, limit: int = 10) -> list[Incident]:
    """Open incidents reported (first or again) at or after `since`, urgent or not, latest
    first: those a member's "cập nhật vụ …" may be about."""
    stmt = (
        select(Incident)
        .where(Incident.status.in_(OPEN), Incident.last_reported_at >= since)
        .order_by(Incident.last_reported_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def reports_of(session: AsyncSession, incident_id: int) -> list[Report]:
    stmt = select(Report).where(Report.incident_pk == incident_id).order_by(Report.id)
    return list((await session.execute(stmt)).scalars())


async def timeline(session: AsyncSession, incident_id: int) -> list[IncidentEvent]:
    """Everything that happened to an incident, oldest first."""
    stmt = (
        select(IncidentEvent)
        .where(IncidentEvent.incident_pk == incident_id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    return list((await session.execute(stmt)).scalars())


def add_event(
    session: AsyncSession,
    incident: Incident,
    kind: str,
    at: datetime,
    member_pk: int | None = None,
    note: str = "",
) -> IncidentEvent:
    event = IncidentEvent(
        incident_pk=incident.id, at=at, kind=kind, member_pk=member_pk, note=note[:2000]
    )
    session.add(event)
    return event


async def core_add_event(
    session: AsyncSession,
    incident: Incident,
    kind: str,
    at: datetime,
    member_pk: int | None = None,
    note: str = "",
) -> None:
    """add_event written at once by one Core INSERT, with no ORM row (nothing reads it back
    in the event). Earlier events of the incident must be written already: ids order the
    timeline within one moment. (Named so that tests/test_one_label.py finds its kinds.)"""
    values = {
        "incident_pk": incident.id,
        "at": at,
        "kind": kind,
        "member_pk": member_pk,
        "note": note[:2000],
    }
    await fastlane.execute_core(session, _INSERT_EVENT, values)


# Read by the index on (ref_id, ref_type) (revision 0014): the outbox only grows.
ALERTED_CHATS = (
    select(Outbox.chat_id)
    .where(
        Outbox.ref_type == "incident",
        Outbox.ref_id == bindparam("incident"),
        Outbox.kind == "alert",
    )
    .order_by(Outbox.id)
)


async def alerted_chats(session: AsyncSession, incident_id: int) -> list[str]:
    """Chats that received an alert or escalation for this incident, in first-sent order."""
    seen: list[str] = []
    for chat in (await session.execute(ALERTED_CHATS, {"incident": incident_id})).scalars():
        if chat not in seen:
            seen.append(chat)
    return seen


async def woken_for(session: AsyncSession, incident_id: int) -> list[Member]:
    """The people an escalation of this incident reached (or is reaching) in private: its
    security lead, the escalation chain, the chair, and coordinators told again."""
    stmt = (
        select(Member)
        .join(Outbox, Outbox.member_pk == Member.id)
        .where(
            Outbox.ref_type == "incident",
            Outbox.ref_id == incident_id,
            Outbox.kind == "alert",
            Outbox.idempotency_key.like(f"escalate:{incident_id}:%"),
            Outbox.status != "cancelled",
        )
        .order_by(Outbox.id)
    )
    return list(dict.fromkeys((await session.execute(stmt)).scalars()))


async def due_escalations(session: AsyncSession, now: datetime, limit: int = 100) -> list[Incident]:
    """Urgent incidents nobody took whose escalation time has come (locked for this run)."""
    stmt = (
        select(Incident)
        .where(
            Incident.status == "reported",
            Incident.urgent.is_(True),
            Incident.next_escalation_at.is_not(None),
            Incident.next_escalation_at <= now,
        )
        .order_by(Incident.next_escalation_at, Incident.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def due_reminders(
    session: AsyncSession, now: datetime, age: timedelta, limit: int = 100
) -> list[Incident]:
    """Open incidents older than `age` not reminded about within the last `age`."""
    stmt = (
        select(Incident)
        .where(
            Incident.status.in_(OPEN),
            Incident.first_reported_at <= now - age,
            (Incident.reminded_at.is_(None)) | (Incident.reminded_at <= now - age),
        )
        .order_by(Incident.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def open_doubt(
    session: AsyncSession, chat_id: str, member_pk: int, now: datetime
) -> Conversation | None:
    """The member's newest unanswered doubt question in this chat, if still current."""
    stmt = (
        select(Conversation)
        .where(
            Conversation.chat_id == chat_id,
            Conversation.member_pk == member_pk,
            Conversation.status == "open",
            Conversation.kind == CONFIRM_REPORT,
            Conversation.expires_at > now,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def expired_doubts(
    session: AsyncSession, now: datetime, limit: int = 200
) -> list[Conversation]:
    stmt = (
        select(Conversation)
        .where(
            Conversation.status == "open",
            Conversation.kind == CONFIRM_REPORT,
            Conversation.expires_at <= now,
        )
        .order_by(Conversation.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def doubts_for_reports(session: AsyncSession, report_ids: list[int]) -> list[Conversation]:
    if not report_ids:
        return []
    stmt = select(Conversation).where(
        Conversation.status == "open",
        Conversation.kind == CONFIRM_REPORT,
        Conversation.ref_id.in_(report_ids),
    )
    return list((await session.execute(stmt)).scalars())


async def latest_report_since(
    session: AsyncSession, member_pk: int, since: datetime
) -> Report | None:
    """The member's newest report filed at or after `since` (photos attach to it)."""
    stmt = (
        select(Report)
        .where(
            Report.member_pk == member_pk,
            Report.created_at >= since,
            Report.status != "false_alarm",
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def latest_report_in_chat(
    session: AsyncSession, member_pk: int, chat_id: str, since: datetime
) -> Report | None:
    """The member's newest report in this chat filed at or after `since` (details sent right
    after it join it), whatever its incident's state: the caller checks that. Asked of
    many messages: the slice's facts answer "none" for most senders with no statement."""
    if await no_report_since(session, member_pk, since):
        return None
    stmt = (
        select(Report)
        .where(
            Report.member_pk == member_pk,
            Report.chat_id == chat_id,
            Report.created_at >= since,
            Report.status != "false_alarm",
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_reports_since(
    session: AsyncSession, member_pk: int, since: datetime
) -> list[Report]:
    """The member's reports filed at or after `since`, in any chat, whose incidents are still
    open, newest first (a detail sent in private joins one of them when they are one)."""
    if await no_report_since(session, member_pk, since):
        return []
    stmt = (
        select(Report)
        .join(Incident, Incident.id == Report.incident_pk)
        .where(
            Report.member_pk == member_pk,
            Report.created_at >= since,
            Report.status != "false_alarm",
            Incident.status.in_(OPEN),
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(20)
    )
    return list((await session.execute(stmt)).scalars())


async def open_incidents_in_chat(
    session: AsyncSession, chat_id: str, since: datetime, limit: int = 5
) -> list[Incident]:
    """Open incidents with a report filed in this chat at or after `since`, newest report
    first (the fire brigade arriving in a group joins the incident under way there)."""
    newest = (
        select(Report.incident_pk, func.max(Report.created_at).label("at"))
        .where(Report.chat_id == chat_id, Report.created_at >= since)
        .group_by(Report.incident_pk)
        .subquery()
    )
    stmt = (
        select(Incident)
        .join(newest, newest.c.incident_pk == Incident.id)
        .where(Incident.status.in_(OPEN))
        .order_by(newest.c.at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


# What a reporter does about an incident: reports it, adds to it, confirms, corrects, sends a
# photo. Each keeps the window for details open (handlers/intents/incidents/details.py).
REPORTER_STEPS = ("report", "merged", "detail", "photo", "confirmed", "corrected")


async def last_word_on(session: AsyncSession, incident_pk: int, member_pk: int) -> datetime | None:
    """When the member last said something about the incident (REPORTER_STEPS)."""
    stmt = (
        select(IncidentEvent.at)
        .where(
            IncidentEvent.incident_pk == incident_pk,
            IncidentEvent.member_pk == member_pk,
            IncidentEvent.kind.in_(REPORTER_STEPS),
        )
        .order_by(IncidentEvent.at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def orphan_photos(session: AsyncSession, member_pk: int, since: datetime) -> list[Attachment]:
    """Photos the member sent recently that no report has claimed yet."""
    if await no_photos_waiting(session, member_pk, since):
        return []
    stmt = (
        select(Attachment)
        .where(
            Attachment.member_pk == member_pk,
            Attachment.report_pk.is_(None),
            Attachment.created_at >= since,
        )
        .order_by(Attachment.id)
    )
    return list((await session.execute(stmt)).scalars())


def keep_waiting_photo(session: AsyncSession, photo: Attachment) -> None:
    """Add a photo that waits for its report (orphan_photos finds it)."""
    session.add(photo)
    if photo.member_pk is not None:
        note_photo_waiting(session, photo.member_pk)


async def claim_due_attachments(
    session: AsyncSession, now: datetime, hold: timedelta, limit: int = 20
) -> list[Attachment]:
    """Pending photos due for a fetch; their next attempt moves past `hold` while in hand."""
    stmt = (
        select(Attachment)
        .where(Attachment.status == "pending", Attachment.next_attempt_at <= now)
        .order_by(Attachment.next_attempt_at, Attachment.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(stmt)).scalars())
    for row in rows:
        row.next_attempt_at = now + hold
    return rows


async def queue_alerts(
    session: AsyncSession,
    incident_id: int,
    targets: Iterable[tuple[str, int | None]],
    text: str,
    key_prefix: str,
    now: datetime,
    kind: str = "alert",
    not_before: datetime | None = None,
) -> int:
    """One message about the incident per (chat, member) target, keyed `{key_prefix}:{chat}`
    (urgent alerts, and reminders with kind="reminder"); returns how many were new."""
    queued = 0
    for chat, member_pk in targets:
        out = await enqueue(
            session,
            chat_id=chat,
            text=text,
            kind=kind,
            now=now,
            key=f"{key_prefix}:{chat}",
            member_pk=member_pk,
            ref_type="incident",
            ref_id=incident_id,
            not_before=not_before,
        )
        queued += out is not None
    return queued
