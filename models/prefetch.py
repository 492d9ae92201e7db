"""What a slice of events will look up, read in a few statements before the first is handled.

The processor handles several events in one transaction. Each event used to look up its
group, its sender, the membership, the sender's open nudges and (for guests) open identity
claims and unlinked roster names: one statement each, per event. Read together for the
slice, they cost one statement each per slice (docs/performance.md, "per-slice look-ups");
on SQLite's fast path two in all: groups with the senders' memberships, and senders with
their nudges, claims and roster names (a statement's own cost outweighs these reads).

Only two kinds of answer are kept: rows (put in the session's identity map, found through
models/people.py's remembered ids) and "certainly none" facts, each true at the start of
the slice and kept true by the code that could change it (`note_claim`). A look-up that the
facts do not settle runs its query as before; without a prefetch (tests, jobs) nothing
changes.

An incident report's look-ups are read on first need, then kept for the slice: each
category's open incidents a report may merge into (with the incidents changed or made in
the slice laid over them, seen by an attribute listener), and which senders have photos
waiting for a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    event,
    exists,
    func,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached, object_session
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from models import fastlane
from models.scoping import ALL_COUNCILS, session_council
from models.tables import (
    Attachment,
    CheckIn,
    Conversation,
    Group,
    Incident,
    Member,
    Membership,
    Nudge,
    Outbox,
    Report,
)

# session.info keys: the facts for the slice being handled, and natural keys -> primary keys
# of rows seen in this session (a chat's group, a regular's member row: read once, then
# taken from the identity map with no statement).
SLICE_FACTS = "antt_slice_facts"
KNOWN_IDS = "antt_known_ids"
# Last activity to write when the slice ends: {table: {primary key: time}}. Not dropped on
# a rollback: the member did act, even if handling their message failed.
ACTIVITY = "antt_activity"
ADOPTED = "antt_adopted"  # rows put in the session by `adopt`
CLAIM_KIND = "identity_claim"  # the Conversation kind of an identity claim (models/identity.py)


# An open incident as a report's merge needs it: (id, place keys, last reported at).
Candidate = tuple[int, frozenset[str], datetime]


@dataclass(slots=True)
class OpenIncidents:
    """A category's open incidents as read, latest report first (as find_mergeable orders
    them); `full` when the read met its limit, so older open ones may exist beyond it."""

    rows: list[Candidate]
    full: bool


def cast_table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


@dataclass(slots=True)
class SliceFacts:
    """Facts true at the start of a slice, for the people and chats in it."""

    member_pks: set[int] = field(default_factory=set)  # the senders known before the slice
    nudged: set[int] = field(default_factory=set)  # of those, who has an open nudge
    claiming: set[int] = field(default_factory=set)  # ... who has an open identity claim
    absent_ids: set[str] = field(default_factory=set)  # platform ids with no member row
    absent_chats: set[str] = field(default_factory=set)  # chats with no group row
    new_members: set[int] = field(default_factory=set)  # made in this slice: no membership
    names_checked: set[str] = field(default_factory=set)  # folded names looked up
    unlinked_names: set[str] = field(default_factory=set)  # ... with an unlinked roster row
    # Read when first asked: the latest check-in per (member, kind), by council, and the
    # chat replies queued per member, since `window` (kept up to date by note_checkin and
    # note_reply). Keyed by member and kind: a look-up reads its own few, not the slice's.
    window: datetime | None = None  # None until read
    checkins: dict[tuple[int, str], dict[str, datetime]] = field(default_factory=dict)
    chat_replies: dict[int, list[datetime]] = field(default_factory=dict)
    # Read when a report first asks: the open incidents of a (council, category) a report
    # may merge into, and the incidents changed or made in the slice (laid over them).
    open_incidents: dict[tuple[str | None, str], OpenIncidents] = field(default_factory=dict)
    changed_incidents: dict[int, Incident] = field(default_factory=dict)
    # Read when first asked: of `photos_asked`, who has photos waiting since `photos_since`.
    photos_since: datetime | None = None
    photos_asked: set[int] = field(default_factory=set)
    photos_waiting: set[int] = field(default_factory=set)
    # Read when first asked: of `reports_asked`, who filed a report since `reports_since`
    # (a detail joins a report of the last minutes; most senders have none).
    reports_since: datetime | None = None
    reports_asked: set[int] = field(default_factory=set)
    reporting: set[int] = field(default_factory=set)
    # The rows read: the identity map holds rows weakly, and these must stay in it.
    rows: list[Any] = field(default_factory=list)


def known_ids(session: AsyncSession) -> dict[tuple[Any, ...], int]:
    known: dict[tuple[Any, ...], int] = session.info.setdefault(KNOWN_IDS, {})
    return known


def remember(session: AsyncSession, key: tuple[Any, ...], row: Any) -> int:
    """Remember `row` (in the session) under a natural key; returns its primary key."""
    pk: int = row.id
    known_ids(session)[key] = pk
    return pk


def adopt(session: AsyncSession, row: Any) -> None:
    """Put a row just written by a Core INSERT (and read back whole) into the session as
    persistent, with no read of its own."""
    state = instance_state(row)
    loaded = state.dict  # a property: read once
    if (
        not _keyed_by_id_alone(state.mapper)
        or state.key is not None
        or state.session_id is not None
        or loaded.get("id") is None
    ):
        make_transient_to_detached(row)  # refuses what is not transient, as before
        session.add(row)
    else:
        # make_transient_to_detached and Session.add in one step, without the mapper's
        # identity read through every primary key attribute and the add's cascade walk.
        state.key = (state.mapper._identity_class, (loaded["id"],), None)
        state._commit_all(loaded)
        if not state.manager.keys() <= loaded.keys():  # else nothing is left to load
            unloaded = state.unloaded
            if unloaded:
                state._expire_attributes(loaded, unloaded)
        state._orphaned_outside_of_session = False  # as Session.add sets it
        _attach(session.sync_session, state)
    session.info.setdefault(ADOPTED, []).append(row)


def _attach(sync: Session, state: Any) -> None:
    """Session._update_impl for a row new to the session: the same, in a few steps, when
    no session listener would see its attaching (else the session's own way)."""
    dispatch = sync.dispatch
    identity_map = sync.identity_map
    if (
        sync._transaction is None
        or state._deleted
        or state.key in identity_map
        or dispatch.before_attach
        or dispatch.after_attach
        or dispatch.detached_to_persistent
    ):
        sync._update_impl(state)
        return
    identity_map.add(state)  # modified rows are kept in its `_modified`, as by the session
    state.session_id = sync.hash_key
    if state.modified and state._strong_obj is None:
        state._strong_obj = state.obj()


_KEYED_BY_ID: dict[Mapper[Any], bool] = {}


def _keyed_by_id_alone(mapper: Mapper[Any]) -> bool:
    """Whether rows of the mapper are identified by their `id` alone and have no
    relationships to cascade to (every table here): `adopt`'s short way applies."""
    known = _KEYED_BY_ID.get(mapper)
    if known is None:
        keys = [mapper.get_property_by_column(c).key for c in mapper.primary_key]
        known = _KEYED_BY_ID[mapper] = keys == ["id"] and not mapper.relationships
    return known


def forget_known_ids(session: AsyncSession) -> None:
    """Drop remembered ids and the slice's facts (after a rollback: a rolled-back row's id
    may come back, and facts may have changed with it). Adopted rows leave the session: a
    rollback does not take them out (to the session they were never new)."""
    session.info.pop(KNOWN_IDS, None)
    session.info.pop(SLICE_FACTS, None)
    for row in session.info.pop(ADOPTED, []):
        if row in session:
            session.expunge(row)


def slice_facts(session: AsyncSession | Session) -> SliceFacts | None:
    facts: SliceFacts | None = session.info.get(SLICE_FACTS)
    return facts


def no_open_nudge(session: AsyncSession, member_pk: int) -> bool:
    """True when the member certainly has no open nudge (nudges are made by jobs only)."""
    facts = slice_facts(session)
    return facts is not None and member_pk in facts.member_pks and member_pk not in facts.nudged


def no_open_claim(session: AsyncSession, member_pk: int) -> bool:
    """True when the guest certainly has no open identity claim."""
    facts = slice_facts(session)
    return facts is not None and member_pk in facts.member_pks and member_pk not in facts.claiming


def note_claim(session: AsyncSession, member_pk: int) -> None:
    """A claim was opened in this slice: the guest's "no claim" fact no longer holds."""
    facts = slice_facts(session)
    if facts is not None:
        facts.claiming.add(member_pk)


def note_new_member(session: AsyncSession, member_pk: int) -> None:
    """A member row made in this slice has no nudge, no claim and no membership yet."""
    facts = slice_facts(session)
    if facts is not None:
        facts.member_pks.add(member_pk)
        facts.new_members.add(member_pk)


def forget_member(session: AsyncSession, member_pk: int) -> None:
    """A member row deleted in this slice (a guest linked to its roster row): nothing the
    slice knew of it holds any more. SQLite may give its id to a row made later in the
    slice, which must not inherit the guest's check-ins, replies or photos."""
    facts = slice_facts(session)
    if facts is None:
        return
    for known in (
        facts.member_pks,
        facts.nudged,
        facts.claiming,
        facts.new_members,
        facts.photos_asked,
        facts.photos_waiting,
    ):
        known.discard(member_pk)
    facts.chat_replies.pop(member_pk, None)
    for key in [key for key in facts.checkins if key[0] == member_pk]:
        del facts.checkins[key]


def no_membership(session: AsyncSession, member_pk: int, group_pk: int) -> bool:
    """True when the member (made in this slice) is certainly in no group yet; the caller
    remembers the membership it makes, so a second event finds it."""
    facts = slice_facts(session)
    return facts is not None and member_pk in facts.new_members


def certainly_new_group(session: AsyncSession, chat_id: str) -> bool:
    """True when no group row had this chat at the start of the slice, nor made since."""
    facts = slice_facts(session)
    if facts is None or chat_id not in facts.absent_chats:
        return False
    return ("group", chat_id) not in known_ids(session)


def no_unlinked_row_named(session: AsyncSession, folded: str) -> bool:
    """True when no unlinked roster row certainly carries this folded name. Rows are only
    linked, never unlinked, while events are handled: the fact stays true in the slice."""
    facts = slice_facts(session)
    if facts is None:
        return False
    return folded in facts.names_checked and folded not in facts.unlinked_names


def certainly_new_member(session: AsyncSession, member_id: str) -> bool:
    """True when no member row had this platform id at the start of the slice."""
    facts = slice_facts(session)
    if facts is None or member_id not in facts.absent_ids:
        return False
    return ("member", member_id) not in known_ids(session)  # not made by an earlier event


# How far back the slice's check-ins and chat replies are read: a shift and an hour fit.
FACTS_WINDOW = timedelta(days=2)


async def _recent(
    session: AsyncSession, member_pk: int, since: datetime, now: datetime
) -> SliceFacts | None:
    """The slice's facts when they can say what the member did since `since` (read on first
    need); None when the caller must ask the database."""
    facts = slice_facts(session)
    if facts is None or member_pk not in facts.member_pks:
        return None
    if facts.window is None:
        await _read_recent(session, facts, now)
    if facts.window is None or since < facts.window:
        return None
    return facts


async def checked_in_since(
    session: AsyncSession, member_pk: int, kind: str, since: datetime, now: datetime
) -> bool | None:
    """Whether the member checked in (`kind`) since `since`, from the slice's facts, in the
    session's council (any council when it is not kept to one); None when they cannot say."""
    facts = await _recent(session, member_pk, since, now)
    if facts is None:
        return None
    latest = facts.checkins.get((member_pk, kind))
    if not latest:
        return False
    council = session_council(session)
    if council is None:
        return any(at >= since for at in latest.values())
    at = latest.get(council)
    return at is not None and at >= since


async def checkin_time_since(
    session: AsyncSession, member_pk: int, kind: str, since: datetime, now: datetime
) -> tuple[bool, datetime | None]:
    """(known, when): the member's latest check-in of `kind` since `since`, from the slice's
    facts, in the session's council; `known` is False when the facts cannot say."""
    facts = await _recent(session, member_pk, since, now)
    if facts is None:
        return False, None
    council = session_council(session)
    latest = facts.checkins.get((member_pk, kind)) or {}
    times = [at for c, at in latest.items() if (council is None or c == council) and at >= since]
    return True, (max(times) if times else None)


def note_checkin(
    session: AsyncSession, council: str, member_pk: int, kind: str, at: datetime
) -> None:
    facts = slice_facts(session)
    if facts is not None and facts.window is not None:
        latest = facts.checkins.setdefault((member_pk, kind), {})
        latest[council] = max(at, latest.get(council, at))


async def chat_replies_since_facts(
    session: AsyncSession, member_pk: int, since: datetime, now: datetime
) -> int | None:
    """Chat replies queued for the member since `since`, from the slice's facts; None when
    they cannot say."""
    facts = await _recent(session, member_pk, since, now)
    if facts is None:
        return None
    return sum(1 for at in facts.chat_replies.get(member_pk, ()) if at >= since)


def note_reply(session: AsyncSession, member_pk: int, at: datetime) -> None:
    facts = slice_facts(session)
    if facts is not None and facts.window is not None:
        facts.chat_replies.setdefault(member_pk, []).append(at)


def _many(name: str) -> Any:
    """An expanding bind: a statement built once takes a new list of values each time."""
    return bindparam(name, expanding=True)


# The slice's look-ups, built once: SQLAlchemy keeps a built statement's cache key, where one
# built per slice costs about as much again as running it (docs/performance.md, round 4).
_RECENT_CHECKINS = (
    select(CheckIn.council_id, CheckIn.member_pk, CheckIn.kind, func.max(CheckIn.at))
    .where(CheckIn.member_pk.in_(_many("pks")), CheckIn.at >= bindparam("since"))
    .group_by(CheckIn.council_id, CheckIn.member_pk, CheckIn.kind)
    .execution_options(**{ALL_COUNCILS: True})
)
# Check-ins and chat replies in one statement: a reply's row has no kind (a check-in's
# always has one).
RECENT_ACTIVITY: Any = union_all(
    _RECENT_CHECKINS,
    select(null(), Outbox.member_pk, null(), Outbox.created_at).where(
        Outbox.member_pk.in_(_many("pks")),
        Outbox.ref_type == "chat",
        Outbox.created_at >= bindparam("since"),
    ),
).execution_options(**{ALL_COUNCILS: True})
_GROUPS = select(Group).where(Group.chat_id.in_(_many("chats")))
_MEMBERS = select(Member).where(Member.member_id.in_(_many("ids")))
_MEMBERSHIPS = select(Membership).where(
    Membership.member_pk.in_(_many("pks")), Membership.group_pk.in_(_many("groups"))
)


def _as_columns(statement: Any, model: type[Any]) -> Any:
    """The same SELECT of `model` as columns (the ORM's own SQL), for the fast path; the
    objects are then made by fastlane.as_objects. Groups, members and memberships are
    shared by every council: no council filter applies to them either way."""
    loaded = fastlane.loaded_columns(model)
    if loaded is None:
        raise TypeError(f"{model.__name__}: not built from columns")
    columns = select(*loaded.columns).where(statement.whereclause)
    return columns.execution_options(**{ALL_COUNCILS: True})


_AS_COLUMNS = {
    id(stmt): _as_columns(stmt, model)
    for stmt, model in ((_GROUPS, Group), (_MEMBERS, Member), (_MEMBERSHIPS, Membership))
}
_NUDGED = select(Nudge.member_pk).where(
    Nudge.member_pk.in_(_many("pks")), Nudge.reengaged_at.is_(None)
)
_CLAIMING = select(Conversation.member_pk).where(
    Conversation.member_pk.in_(_many("pks")),
    Conversation.kind == CLAIM_KIND,
    Conversation.status == "open",
    Conversation.expires_at > bindparam("now"),
)
_UNLINKED_NAMED = and_(
    Member.member_id.is_(None),
    Member.status == "member",
    Member.active.is_(True),
    Member.name_folded.in_(_many("names")),
)
_UNLINKED_NAMES = select(Member.name_folded).where(_UNLINKED_NAMED)
# The slice's senders, with for each whether an open nudge waits (one indexed probe a row)
# and, for a guest, whether an open identity claim does (the claims read once, and only
# when a guest is met), and the unlinked roster rows carrying a sender's name: _MEMBERS,
# _NUDGED, _CLAIMING and _UNLINKED_NAMES in one statement (a row without a platform id is
# a roster row). Nudges are a council's records: read so only while the session is kept
# to no council (as at a slice's start).
_NUDGE_OPEN = exists().where(Nudge.member_pk == Member.id, Nudge.reengaged_at.is_(None))
_CLAIM_OPEN = and_(
    Member.status == "guest",
    Member.id.in_(
        select(Conversation.member_pk).where(
            Conversation.kind == CLAIM_KIND,
            Conversation.status == "open",
            Conversation.expires_at > bindparam("now"),
        )
    ),
)
_SENDERS_WHERE = or_(Member.member_id.in_(_many("ids")), _UNLINKED_NAMED)


def _senders_columns() -> tuple[Any, int, int, int]:
    """The statement, and where a row's nudge flag (the claim flag next), platform id and
    folded name are."""
    loaded = fastlane.loaded_columns(Member)
    if loaded is None:
        raise TypeError("Member: not built from columns")
    statement = select(*loaded.columns, _NUDGE_OPEN, _CLAIM_OPEN).where(_SENDERS_WHERE)
    keys = loaded.keys
    return statement, len(keys), keys.index("member_id"), keys.index("name_folded")


_SENDERS_COLUMNS, _AT_NUDGED, _AT_MEMBER_ID, _AT_NAME = _senders_columns()
_AT_CLAIMING = _AT_NUDGED + 1


@dataclass(slots=True)
class _SendersRead:
    """What the senders' statement says (see _SENDERS_WHERE)."""

    members: list[Member]
    nudged: set[int]
    claiming: set[int]
    unlinked_names: set[str]


def _groups_memberships() -> tuple[Any, int]:
    """The slice's groups, each with the senders' memberships in it (or none: NULLs), as
    columns: _GROUPS and _MEMBERSHIPS in one statement; and where a membership's start."""
    groups, memberships = fastlane.loaded_columns(Group), fastlane.loaded_columns(Membership)
    if groups is None or memberships is None:
        raise TypeError("Group, Membership: not built from columns")
    senders = select(Member.id).where(Member.member_id.in_(_many("ids")))
    joined = cast_table(Group).outerjoin(
        cast_table(Membership),
        and_(Membership.group_pk == Group.id, Membership.member_pk.in_(senders)),
    )
    statement = select(*groups.columns, *memberships.columns).select_from(joined)
    statement = statement.where(Group.chat_id.in_(_many("chats")))
    return statement.execution_options(**{ALL_COUNCILS: True}), len(groups.columns)


_GROUPS_MEMBERSHIPS, _AT_MEMBERSHIP = _groups_memberships()


async def _rows(session: AsyncSession, statement: Any, params: dict[str, Any]) -> list[Any]:
    """A prebuilt column SELECT's rows as tuples, as `session.execute` answers it (on SQLite
    straight on the cursor when nothing the session adds applies: models/fastlane.py)."""
    rows = await fastlane.select_rows(session, statement, params)
    if rows is None:
        return list((await session.execute(statement, params)).tuples())
    return rows


async def _objects(
    session: AsyncSession, model: type[Any], statement: Any, params: dict[str, Any]
) -> list[Any]:
    """A prebuilt ORM SELECT's objects, as `session.execute(...).scalars()` answers it; on
    SQLite read as columns straight on the cursor and made into objects without the ORM's
    loading (models/fastlane.py), where nothing the session adds applies."""
    rows = await fastlane.select_rows(session, _AS_COLUMNS[id(statement)], params)
    objects = None if rows is None else fastlane.as_objects(session, model, rows)
    if objects is None:
        return list((await session.execute(statement, params)).scalars())
    return objects


async def _column(session: AsyncSession, statement: Any, params: dict[str, Any]) -> set[Any]:
    """The first column of a prebuilt SELECT's rows, as a set."""
    return {row[0] for row in await _rows(session, statement, params)}


async def _read_recent(session: AsyncSession, facts: SliceFacts, now: datetime) -> None:
    """The slice's members' recent check-ins and chat replies, every council's."""
    window = now - FACTS_WINDOW
    params = {"pks": list(facts.member_pks), "since": window}
    checkins: dict[tuple[int, str], dict[str, datetime]] = {}
    replies: dict[int, list[datetime]] = {}
    for council, member_pk, kind, at in await _rows(session, RECENT_ACTIVITY, params):
        if kind is not None:  # one row per (council, member, kind): grouped in SQL
            checkins.setdefault((member_pk, kind), {})[council] = at
        elif member_pk is not None:
            replies.setdefault(member_pk, []).append(at)
    facts.checkins = checkins
    facts.chat_replies = replies
    facts.window = window


def open_incidents_read(
    session: AsyncSession, category: str
) -> tuple[OpenIncidents, list[Incident]] | None:
    """The category's open incidents as read in this slice (in the session's council) and
    the incidents changed or made since, to lay over them; None when not read yet."""
    facts = slice_facts(session)
    if facts is None:
        return None
    read = facts.open_incidents.get((session_council(session), category))
    if read is None:
        return None
    return read, list(facts.changed_incidents.values())


def keep_open_incidents(
    session: AsyncSession, category: str, rows: list[Candidate], full: bool
) -> None:
    """Keep a category's open incidents, as just read, for the slice's later reports."""
    facts = slice_facts(session)
    if facts is not None:
        facts.open_incidents[(session_council(session), category)] = OpenIncidents(rows, full)


def note_incident(session: AsyncSession | Session, incident: Incident) -> None:
    """An incident was made or changed in this slice: merges read it from the row itself."""
    facts = slice_facts(session)
    if facts is not None and incident.id is not None:
        facts.changed_incidents[incident.id] = incident  # also keeps it in the identity map


def _incident_changed(target: Incident, value: Any, oldvalue: Any, initiator: Any) -> Any:
    session = object_session(target)
    if session is not None:
        note_incident(session, target)
    return value


# Whatever changes what a merge looks at (status commands, corrections, merges) is seen
# here, so the slice's open incidents never need each writer to remember them.
_MERGE_FIELDS = (
    Incident.status,
    Incident.category,
    Incident.place_key,
    Incident.last_reported_at,
    Incident.council_id,
)
for _attribute in _MERGE_FIELDS:
    event.listen(_attribute, "set", _incident_changed, retval=True)


async def no_photos_waiting(session: AsyncSession, member_pk: int, since: datetime) -> bool:
    """True when the member certainly has no photo sent since `since` that waits for a
    report (read for the slice's senders on first need); False when the caller must ask."""
    facts = slice_facts(session)
    if facts is None or member_pk not in facts.member_pks:
        return False
    if facts.photos_since is None:
        await _read_waiting_photos(session, facts, since)
    if facts.photos_since is None or since < facts.photos_since:
        return False
    # A member made in this slice has sent no photo but those noted since.
    known = member_pk in facts.photos_asked or member_pk in facts.new_members
    return known and member_pk not in facts.photos_waiting


def _waiting_photos() -> Any:
    table = cast_table(Attachment)
    return select(table.c.member_pk).where(
        table.c.member_pk.in_(_many("pks")),
        table.c.report_pk.is_(None),
        table.c.created_at >= bindparam("since"),
    )


_WAITING_PHOTOS = _waiting_photos()


async def _read_waiting_photos(session: AsyncSession, facts: SliceFacts, since: datetime) -> None:
    """Which of the slice's members have photos waiting for a report since `since`."""
    asked = set(facts.member_pks)
    facts.photos_waiting |= await _members_found(session, _WAITING_PHOTOS, asked, since)
    facts.photos_asked = asked
    facts.photos_since = since


async def _members_found(
    session: AsyncSession, statement: Any, asked: set[int], since: datetime
) -> set[int]:
    """The members of `asked` a prebuilt one-column SELECT finds since `since`, in every
    council (Core on the connection: the ORM's execution costs more than the read)."""
    params = {"pks": list(asked), "since": since}
    done = await fastlane.on_connection(session, statement, params)
    if done is not None:
        found = [pk for (pk,) in done.rows]
    else:
        found = list((await (await session.connection()).execute(statement, params)).scalars())
    return {pk for pk in found if pk is not None}


async def no_report_since(session: AsyncSession, member_pk: int, since: datetime) -> bool:
    """True when the member certainly filed no report since `since` (read for the slice's
    senders on first need); False when the caller must ask."""
    facts = slice_facts(session)
    if facts is None or member_pk not in facts.member_pks:
        return False
    if facts.reports_since is None:
        asked = set(facts.member_pks)
        facts.reporting |= await _members_found(session, _REPORTING, asked, since)
        facts.reports_asked, facts.reports_since = asked, since
    if since < facts.reports_since:
        return False
    return member_pk in facts.reports_asked and member_pk not in facts.reporting


def _reporting() -> Any:
    table = cast_table(Report)
    return select(table.c.member_pk).where(
        table.c.member_pk.in_(_many("pks")), table.c.created_at >= bindparam("since")
    )


_REPORTING = _reporting()


def note_report(session: AsyncSession, member_pk: int | None) -> None:
    """The member filed a report in this slice (no_report_since must not say none)."""
    facts = slice_facts(session)
    if facts is not None and member_pk is not None:
        facts.reporting.add(member_pk)


def note_photo_waiting(session: AsyncSession, member_pk: int) -> None:
    """The member sent a photo no report has claimed yet."""
    facts = slice_facts(session)
    if facts is not None:
        facts.photos_waiting.add(member_pk)


async def prefetch(
    session: AsyncSession, chats: set[str], senders: Mapping[str, str], now: datetime
) -> None:
    """Read the slice's groups, senders (platform id -> folded display name), memberships
    and facts: two statements on SQLite's fast path, six at most otherwise."""
    facts = SliceFacts()
    both = await _groups_and_memberships(session, list(chats), list(senders))
    memberships: list[Membership] | None = None
    if both is not None:
        groups, memberships = both
    else:
        groups = await _objects(session, Group, _GROUPS, {"chats": list(chats)})
    group_pks = [remember(session, ("group", g.chat_id), g) for g in groups]
    facts.rows.extend(groups)
    facts.absent_chats = chats - {g.chat_id for g in groups}
    # Names a first message or a guest's message may be matched against (roster linking):
    # read with the senders, every sender's (a name no newcomer or guest carries is never
    # looked up), else apart, the newcomers' and guests' only.
    names = {name for name in senders.values() if name}
    read = await _senders(session, list(senders), names, now)
    if read is not None:
        members = read.members
    else:
        members = await _objects(session, Member, _MEMBERS, {"ids": list(senders)})
    for m in members:
        remember(session, ("member", m.member_id), m)
    facts.rows.extend(members)
    facts.member_pks = {m.id for m in members}
    facts.absent_ids = set(senders) - {m.member_id for m in members if m.member_id}
    if memberships is None and facts.member_pks and group_pks:
        params = {"pks": list(facts.member_pks), "groups": group_pks}
        memberships = await _objects(session, Membership, _MEMBERSHIPS, params)
    for ms in memberships or ():
        remember(session, ("membership", ms.member_pk, ms.group_pk), ms)
        facts.rows.append(ms)
    if read is not None:
        facts.nudged, facts.claiming = read.nudged, read.claiming
        facts.names_checked, facts.unlinked_names = names, read.unlinked_names
    elif facts.member_pks:
        facts.nudged = await _column(session, _NUDGED, {"pks": list(facts.member_pks)})
        guests = {m.id for m in members if m.status == "guest"}
        if guests:
            facts.claiming = await _column(session, _CLAIMING, {"pks": list(guests), "now": now})
    if read is None:
        facts.names_checked = {senders[i] for i in _guests(facts, members) if senders.get(i)}
        if facts.names_checked:
            checked = {"names": list(facts.names_checked)}
            facts.unlinked_names = await _column(session, _UNLINKED_NAMES, checked)
    session.info[SLICE_FACTS] = facts


async def _groups_and_memberships(
    session: AsyncSession, chats: list[str], ids: list[str]
) -> tuple[list[Group], list[Membership]] | None:
    """The chats' group rows and the senders' memberships in them, in one statement; None
    where the fast path does not apply (the caller reads them apart)."""
    params = {"chats": chats, "ids": ids}
    rows = await fastlane.select_rows(session, _GROUPS_MEMBERSHIPS, params)
    if rows is None:
        return None
    at = _AT_MEMBERSHIP
    unique = dict.fromkeys(row[:at] for row in rows)  # a group comes once per membership
    groups = fastlane.as_objects(session, Group, list(unique))
    found = [row[at:] for row in rows if row[at] is not None]
    memberships = fastlane.as_objects(session, Membership, found)
    if groups is None or memberships is None:
        return None
    return groups, memberships


async def _senders(
    session: AsyncSession, ids: list[str], names: set[str], now: datetime
) -> _SendersRead | None:
    """In one statement: the senders' member rows, which of them have an open nudge or
    (guests) an open claim, and which of `names` an unlinked roster row carries. None
    where the fast path does not apply (PostgreSQL, a session kept to a council): the
    caller reads them apart."""
    if session_council(session) is not None:
        return None
    params = {"ids": ids, "names": list(names), "now": now}
    rows = await fastlane.select_rows(session, _SENDERS_COLUMNS, params)
    if rows is None:
        return None
    senders = [row for row in rows if row[_AT_MEMBER_ID] is not None]
    members = fastlane.as_objects(session, Member, [row[:_AT_NUDGED] for row in senders])
    if members is None:
        return None
    flagged = list(zip(members, senders, strict=True))
    return _SendersRead(
        members,
        nudged={m.id for m, row in flagged if row[_AT_NUDGED]},
        claiming={m.id for m, row in flagged if row[_AT_CLAIMING]},
        unlinked_names={row[_AT_NAME] for row in rows if row[_AT_MEMBER_ID] is None},
    )


def _guests(facts: SliceFacts, members: list[Member]) -> set[str]:
    """Platform ids whose name may be looked up: newcomers and guests."""
    return facts.absent_ids | {m.member_id for m in members if m.status == "guest" and m.member_id}


def defer_activity(session: AsyncSession, row: Member | Membership, at: datetime) -> bool:
    """Note the row's new last activity, to be written with the slice's others in one
    statement per table (write_activity); False outside a slice (write it now)."""
    if slice_facts(session) is None:
        return False
    if row.last_active_at is not None and at <= row.last_active_at:
        return True  # never moves backwards (late redeliveries)
    # Seen at once by whatever reads the row in this slice, without a flush of its own.
    set_committed_value(row, "last_active_at", at)
    pending: dict[str, dict[int, datetime]] = session.info.setdefault(ACTIVITY, {})
    times = pending.setdefault(type(row).__tablename__, {})
    times[row.id] = max(at, times.get(row.id, at))
    return True


async def write_activity(session: AsyncSession) -> None:
    """The slice's deferred activity: one UPDATE per table, never moving a time backwards."""
    pending: dict[str, dict[int, datetime]] = session.info.pop(ACTIVITY, {})
    for model in (Member, Membership):
        times = pending.get(model.__tablename__)
        if not times:
            continue
        rows = [{"pk": pk, "at": at} for pk, at in sorted(times.items())]
        if await fastlane.on_connection(session, _ACTIVITY_UPDATES[model], rows) is None:
            await (await session.connection()).execute(_ACTIVITY_UPDATES[model], rows)


def _activity_update(model: type[Any]) -> Any:
    """Last activity of one row, never moved backwards (bound per row: pk, at)."""
    table = cast_table(model)
    col = table.c.last_active_at
    return (
        update(table)
        .where(table.c.id == bindparam("pk"), or_(col.is_(None), col < bindparam("at")))
        .values(last_active_at=bindparam("at"))
    )


_ACTIVITY_UPDATES = {model: _activity_update(model) for model in (Member, Membership)}
