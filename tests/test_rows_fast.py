"""Cheaper rows for the processor's slice: the constructor without set events, fused UTC
datetime converters on the fast path, ORM objects made from fast-path rows, fold_name."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.orm.attributes import get_history, instance_state
from sqlalchemy.orm.decl_base import _declarative_constructor

from models import fastlane
from models.base import UTCDateTime, utc_from_sqlite, utc_to_sqlite
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.people import fold_name
from models.prefetch import _GROUPS, _MEMBERS, _objects
from models.tables import CheckIn, Group, Incident, Member

NOW = datetime(2026, 12, 5, 9, 30, 1, 5, tzinfo=UTC)
_INSERT = CheckIn.__table__.insert()  # type: ignore[attr-defined]
KW: dict[str, Any] = {"member_pk": 3, "chat_id": "g1", "kind": "in", "note": None, "at": NOW}


def _sqlalchemy_way(**kw: Any) -> CheckIn:
    """A CheckIn built by SQLAlchemy's own constructor (setattr per keyword)."""
    row = CheckIn.__new__(CheckIn)
    CheckIn._sa_class_manager._new_state_if_none(row)  # type: ignore[attr-defined]
    _declarative_constructor(row, **kw)
    return row


def test_constructor_leaves_the_state_setattr_would() -> None:
    ours, theirs = CheckIn(**KW), _sqlalchemy_way(**KW)
    a, b = instance_state(ours), instance_state(theirs)
    assert {k: v for k, v in a.dict.items() if k != "_sa_instance_state"} == {
        k: v for k, v in b.dict.items() if k != "_sa_instance_state"
    }
    assert a.committed_state == b.committed_state
    assert (a.modified, a.key, a.session_id) == (b.modified, b.key, b.session_id)
    for key in KW:
        assert get_history(ours, key) == get_history(theirs, key)


def test_constructor_refuses_an_unknown_name_as_sqlalchemy_does() -> None:
    with pytest.raises(TypeError, match="'colour' is an invalid keyword argument for CheckIn"):
        CheckIn(colour="red")


def test_constructor_fires_the_listeners_of_listened_columns() -> None:
    seen: list[Any] = []

    def listener(target: Any, value: Any, old: Any, initiator: Any) -> None:
        seen.append(value)

    Incident(category="fire", severity="low")  # the class's plain columns are known
    event.listen(Incident.severity, "set", listener)
    try:
        Incident(category="fire", severity="high", status="reported")
    finally:
        event.remove(Incident.severity, "set", listener)
    assert seen == ["high"]


def _sqlalchemy_bind(value: Any) -> Any:
    process = UTCDateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    assert process is not None
    return process(value)


def _sqlalchemy_result(value: Any) -> Any:
    process = UTCDateTime().dialect_impl(sqlite.dialect()).result_processor(sqlite.dialect(), None)
    assert process is not None
    return process(value)


@pytest.mark.parametrize(
    "value",
    [
        NOW,
        NOW.replace(microsecond=0),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        NOW.astimezone(timezone(timedelta(hours=7))),
        NOW.astimezone(timezone(timedelta(hours=-3, minutes=-30))),
        None,
    ],
)
def test_fused_datetime_converters_give_sqlalchemys_text_and_values(value: Any) -> None:
    text = utc_to_sqlite(value)
    assert text == _sqlalchemy_bind(value)
    assert utc_from_sqlite(text) == _sqlalchemy_result(text)


def test_fused_bind_refuses_a_naive_datetime_with_the_same_error() -> None:
    naive = NOW.replace(tzinfo=None)
    with pytest.raises(ValueError) as ours:
        utc_to_sqlite(naive)
    with pytest.raises(ValueError) as theirs:
        _sqlalchemy_bind(naive)
    assert str(ours.value) == str(theirs.value)


async def test_fast_path_writes_and_reads_datetimes_as_the_ordinary_one(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    table: Any = CheckIn.__table__
    read = select(table.c.at).where(table.c.at >= bindparam("since")).order_by(table.c.id)
    values = [NOW, NOW.astimezone(timezone(timedelta(hours=7))) + timedelta(seconds=1)]
    try:
        async with sessions() as s, s.begin():
            s.add(Member(member_id="z1", name="Lan", created_at=NOW, expected_since=NOW))
            await s.flush()
            for at in values:  # by the fast path
                row = {"member_pk": 1, "chat_id": "g", "kind": "in", "at": at, "note": ""}
                row |= {"council_id": "default", "message_pk": None}
                assert await fastlane.on_connection(s, _INSERT, row) is not None
            fast = await fastlane.execute_core(s, read, {"since": NOW})
            with fastlane.ordinary_path():
                slow = await fastlane.execute_core(s, read, {"since": NOW})
            assert fast == slow == [(NOW,), (values[1].astimezone(UTC),)]
            raw = await (await s.connection()).exec_driver_sql("SELECT at FROM checkins")
            assert [r[0] for r in raw] == [_sqlalchemy_bind(v) for v in values]
            with pytest.raises(StatementError, match="naive datetime"):
                await fastlane.execute_core(s, read, {"since": NOW.replace(tzinfo=None)})
    finally:
        await engine.dispose()


async def test_objects_from_fast_rows_are_persistent_and_the_session_s_own_win(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    statements: list[str] = []
    try:
        async with sessions() as s, s.begin():
            s.add_all([Group(chat_id=f"g{i}", name=f"G{i}", created_at=NOW) for i in range(3)])
            s.add(Member(member_id="z1", name="Lan", created_at=NOW, expected_since=NOW))
        event.listen(
            engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2])
        )
        async with sessions() as s, s.begin():
            held = (await s.execute(select(Group).where(Group.chat_id == "g1"))).scalar_one()
            held.name = "changed in memory"
            await s.flush()
            groups = await _objects(s, Group, _GROUPS, {"chats": ["g0", "g1", "g2"]})
            with fastlane.ordinary_path():
                again = await _objects(s, Group, _GROUPS, {"chats": ["g0", "g1", "g2"]})
            assert [g.chat_id for g in groups] == ["g0", "g1", "g2"]
            assert groups == again  # the very objects: one per identity
            assert groups[1] is held and held.name == "changed in memory"
            for g in groups:
                state = instance_state(g)
                assert state.persistent and not state.modified and not state.unloaded
                assert g.created_at == NOW
            assert not s.dirty
            (member,) = await _objects(s, Member, _MEMBERS, {"ids": ["z1"]})
            statements.clear()
            member.display_name = "Lan N."  # an ordinary UPDATE at the flush
            await s.flush()
            assert len(statements) == 1 and statements[0].startswith("UPDATE members SET")
        async with sessions() as s:
            stored = (await s.execute(select(Member))).scalar_one()
            assert stored.display_name == "Lan N."
    finally:
        await engine.dispose()


def _fold_reference(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


@pytest.mark.parametrize(
    "name", ["Lê Thị Lan", "ĐẶNG  Văn Đức", "Bench reg00001", "A\tb\x1c c", "", "Ǆ x", "  Ơ "]
)
def test_fold_name_is_unchanged(name: str) -> None:
    assert fold_name(name) == _fold_reference(name)
    assert fold_name(name) == _fold_reference(name)  # and from its cache


async def test_fast_path_steps_aside_for_a_listener_added_within_a_transaction(
    sqlite_url: str,
) -> None:
    """What the fast path knows of a connection is kept for its transaction; a listener
    added meanwhile, or the ordinary path asked for, still counts at the next statement."""
    engine = make_engine(sqlite_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    table: Any = Group.__table__
    read = select(table.c.id).where(table.c.chat_id == bindparam("chat"))
    seen: list[Any] = []

    def before_execute(conn: Any, clause: Any, *rest: Any) -> None:
        seen.append(clause)

    try:
        async with sessions() as s, s.begin():
            assert await fastlane.on_connection(s, read, {"chat": "g"}) is not None
            with fastlane.ordinary_path():
                assert await fastlane.on_connection(s, read, {"chat": "g"}) is None
            event.listen(engine.sync_engine, "before_execute", before_execute)
            try:
                assert await fastlane.on_connection(s, read, {"chat": "g"}) is None
                assert await fastlane.execute_core(s, read, {"chat": "g"}) == []
                assert seen == [read]
            finally:
                event.remove(engine.sync_engine, "before_execute", before_execute)
            assert await fastlane.on_connection(s, read, {"chat": "g"}) is not None
        async with sessions() as s, s.begin():  # another transaction: found again
            assert await fastlane.on_connection(s, read, {"chat": "g"}) is not None
    finally:
        await engine.dispose()
