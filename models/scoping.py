"""One council's view of the database (issue 20): a session that carries a council id.

Such a session's ORM queries see only that council's rows of every `CouncilScoped` table,
and the records it adds get that council. The handling of one event and each council's run
of a job open such sessions, so a coordinator of park A never reads or acts on park B's
incidents, tasks or directives, and no query needs to remember a filter. Groups, members
and the outbox are shared tables and are never filtered here (docs/councils.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, object_session, with_loader_criteria

from models.tables import DEFAULT_COUNCIL, CouncilMember, CouncilScoped, Member

# Session.info key: the council the session works for (absent: every council, unfiltered).
COUNCIL = "council_id"
# Execution option: this statement sees every council (e.g. looking a record up to say
# "that is another park's" rather than "not found").
ALL_COUNCILS = "antt_all_councils"


# Session.info key: {member pk: role in the session's council} for the people of the event.
ROLES = "council_roles"


def role_here(member: Member) -> str:
    """The member's role in the council the session works for (`members.role` otherwise): a
    coordinator of park A is a plain member in park B's group."""
    session = object_session(member)
    roles = session.info.get(ROLES) if session is not None else None
    if isinstance(roles, dict) and member.id in roles:
        return str(roles[member.id])
    return member.role


def set_role_here(session: AsyncSession, member: Member, role: str) -> None:
    """Record the member's role in the session's council (see role_here)."""
    session.info.setdefault(ROLES, {})[member.id] = role


def members_here(session: AsyncSession, member_col: Any = None) -> list[Any]:
    """The condition "a member of the session's council" on a member id column (members.id by
    default); no condition for a session of every council. Members are shared between parks,
    so member queries add this themselves."""
    council = session_council(session)
    if council is None:
        return []
    col = member_col if member_col is not None else Member.id
    return [col.in_(select(CouncilMember.member_pk).where(CouncilMember.council_id == council))]


def session_council(session: AsyncSession | Session) -> str | None:
    """The council a session is kept to, or None."""
    value = session.info.get(COUNCIL)
    return value if isinstance(value, str) else None


def keep_to_council(session: AsyncSession, council_id: str | None) -> None:
    """From now on this session works for one council (None: for every council)."""
    if council_id is None:
        session.info.pop(COUNCIL, None)
    else:
        session.info[COUNCIL] = council_id


def council_sessions(
    sessions: async_sessionmaker[AsyncSession], council_id: str
) -> async_sessionmaker[AsyncSession]:
    """The same database, every session kept to one council (a job's run for that council)."""
    kw = dict(sessions.kw)
    kw["info"] = {**kw.get("info", {}), COUNCIL: council_id}
    return async_sessionmaker(class_=sessions.class_, **kw)


def record_council(session: AsyncSession) -> str:
    """The council to write on a record inserted without the ORM (e.g. the outbox)."""
    return session_council(session) or DEFAULT_COUNCIL


@event.listens_for(Session, "do_orm_execute")
def _only_this_council(state: ORMExecuteState) -> None:
    council = state.session.info.get(COUNCIL)
    if council is None or not state.is_select or state.execution_options.get(ALL_COUNCILS):
        return
    if state.is_column_load or state.is_relationship_load:
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            CouncilScoped,
            lambda cls: cls.council_id == council,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _stamp_new_records(session: Session, _context: Any, _instances: Any) -> None:
    council = session.info.get(COUNCIL)
    if council is None:
        return
    for obj in session.new:
        if hasattr(type(obj), "council_id") and getattr(obj, "council_id", None) is None:
            obj.council_id = council
