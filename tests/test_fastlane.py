"""models/fastlane.py: prebuilt statements run straight on SQLite's cursor give what
SQLAlchemy's ordinary execution gives: the same stored values, the same rows back, the same
errors, every statement seen by the cursor listeners; PostgreSQL keeps the ordinary path."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, event, exc, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models import fastlane, prefetch
from models.db import ensure_schema, make_engine, make_sessionmaker, read_session
from models.inserts import insert_new, write_row
from models.people import MEMBER_COLUMNS
from models.prefetch import cast_table
from models.scoping import keep_to_council
from models.tables import CheckIn, KeyValue, Member, Message, Outbox, Report

NOW = datetime(2026, 12, 5, 9, 30, 15, 123456, tzinfo=UTC)
HANOI = timezone(timedelta(hours=7))


@contextmanager
def statements_seen(engine: AsyncEngine) -> Iterator[list[tuple[str, str, Any]]]:
    """(event, SQL, context) of every statement the cursor listeners are told of; the
    context is None on the fast path (SQLAlchemy's execution context otherwise)."""
    seen: list[tuple[str, str, Any]] = []

    def before(_c: Any, _cur: Any, sql: str, _p: Any, context: Any, _many: bool) -> None:
        seen.append(("before", sql, context))

    def after(_c: Any, _cur: Any, sql: str, _p: Any, context: Any, _many: bool) -> None:
        seen.append(("after", sql, context))

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", before)
    event.listen(sync, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(sync, "before_cursor_execute", before)
        event.remove(sync, "after_cursor_execute", after)


def path(ordinary: bool) -> Any:
    return fastlane.ordinary_path() if ordinary else nullcontext()


def _stored(db_file: str, table: str) -> list[dict[str, Any]]:
    """Rows as SQLite holds them (no conversion), by column name."""
    raw = sqlite3.connect(db_file)
    try:
        cursor = raw.execute(f"SELECT * FROM {table} ORDER BY id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        raw.close()


async def _write_records(sessions: async_sessionmaker[AsyncSession]) -> list[Any]:
    """One of each kind of value: aware datetimes (UTC and +07:00, microseconds), JSON
    (dict, list, None), booleans both ways, NULLs left to the database, defaults."""
    async with sessions() as s, s.begin():
        keep_to_council(s, "kcn-a")
        member = await write_row(
            s,
            Member(
                member_id=None,
                name="Lan",
                is_lead=True,
                active=False,
                created_at=NOW.astimezone(HANOI),
                expected_since=NOW,
            ),
        )
        message = await write_row(
            s,
            Message(
                platform="zalo_bot",
                chat_id="g1",
                chat_type="group",
                member_pk=member.id,
                member_id="z1",
                message_id="m1",
                sent_at=NOW.astimezone(HANOI),
                parse={"type": "incident", "places": ["cổng 2"], "n": 1.5, "ok": True},
                created_at=NOW,
            ),
        )
        unparsed = await write_row(
            s,
            Message(
                platform="zalo_bot",
                chat_id="g1",
                chat_type="group",
                member_id="z1",
                message_id="m2",
                sent_at=NOW,
                parse=None,
                created_at=NOW,
            ),
        )
        report = await write_row(
            s,
            Report(
                chat_id="g1",
                member_pk=member.id,
                category="fire",
                severity="high",
                places=[{"key": "cổng 2", "near": None}],
                created_at=NOW,
                occurred_at=None,
            ),
        )
        # What the rows hold once written (the ORM's view, nothing read back).
        return [
            (member.id, member.is_lead, member.active, member.created_at, member.role),
            (message.sent_at, message.parse, message.council_id, message.kind, message.text),
            (unparsed.parse, unparsed.member_pk, unparsed.media_url),
            (report.places, report.phones, report.status, report.ambiguous, report.occurred_at),
        ]


async def _read_back(sessions: async_sessionmaker[AsyncSession]) -> list[Any]:
    async with sessions() as s:
        members = (await s.execute(select(Member))).scalars().all()
        messages = (await s.execute(select(Message).order_by(Message.id))).scalars().all()
        reports = (await s.execute(select(Report))).scalars().all()
        return [
            [(m.is_lead, m.active, m.created_at, m.member_id) for m in members],
            [(m.sent_at, m.parse, m.council_id, m.member_pk) for m in messages],
            [(r.places, r.phones, r.people, r.council_id, r.created_at) for r in reports],
        ]


async def test_values_convert_as_the_ordinary_path(tmp_path: Any) -> None:
    """Both paths, on a database each: the same values stored, the same values back."""
    results = {}
    for which in (True, False):
        db_file = str(tmp_path / f"{which}.db")
        engine = make_engine(f"sqlite+aiosqlite:///{db_file}")
        await ensure_schema(engine)
        sessions = make_sessionmaker(engine)
        try:
            with statements_seen(engine) as seen, path(which):
                written = await _write_records(sessions)
            read = await _read_back(sessions)
        finally:
            await engine.dispose()
        contexts = {context is None for _, sql, context in seen if sql.startswith("INSERT")}
        assert contexts == {not which}  # the path under test did run the inserts
        stored = {t: _stored(db_file, t) for t in ("members", "messages", "reports")}
        results[which] = (written, read, stored)
    assert results[False] == results[True]
    written, read, stored = results[False]
    # What the conversions are: UTC text with microseconds, JSON text, 1/0, JSON null.
    member, message, unparsed = stored["members"][0], *stored["messages"]
    assert (member["is_lead"], member["active"]) == (1, 0)
    assert member["created_at"] == message["sent_at"] == "2026-12-05 09:30:15.123456"
    assert message["council_id"] == "kcn-a"
    assert (
        message["parse"] == '{"type": "incident", "places": ["c\\u1ed5ng 2"], "n": 1.5, "ok": true}'
    )
    assert unparsed["parse"] == "null" and unparsed["member_pk"] is None
    assert written[1][0] == NOW and read[1][0][0] == NOW and read[1][0][0].tzinfo is UTC


async def test_listeners_see_each_statement_once_with_its_parameters(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    params_seen: list[Any] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, _sql, params, *_: params_seen.append(params),
    )
    with statements_seen(engine) as seen:
        async with sessions() as s, s.begin():
            member = await write_row(s, Member(member_id="z1", created_at=NOW, expected_since=NOW))
            seen.clear()
            params_seen.clear()
            await write_row(s, CheckIn(member_pk=member.id, chat_id="g1", kind="in", at=NOW))
            nudged = await fastlane.select_rows(s, prefetch._NUDGED, {"pks": [member.id, 99]})
    assert nudged == []
    assert [(e, sql.split()[0], c) for e, sql, c in seen] == [
        ("before", "INSERT", None),
        ("after", "INSERT", None),
        ("before", "SELECT", None),
        ("after", "SELECT", None),
    ]
    assert params_seen[0] == (member.id, "g1", "in", "", "2026-12-05 09:30:15.123456", "default")
    assert params_seen[1] == (member.id, 99)


@pytest.mark.parametrize("pks", [[], [1], [1, 2, 3], list(range(1, 41))])
async def test_in_lists_of_any_length_read_what_session_execute_reads(
    engine: AsyncEngine, pks: list[int]
) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        for i in range(1, 6):
            member = await write_row(
                s, Member(member_id=f"z{i}", created_at=NOW, expected_since=NOW)
            )
            for k in range(i):
                at = NOW - timedelta(hours=k)
                await write_row(s, CheckIn(member_pk=member.id, chat_id="g", kind="in", at=at))
    async with sessions() as s, s.begin():
        params = {"pks": pks, "since": NOW - timedelta(hours=3)}
        fast = await fastlane.select_rows(s, prefetch._RECENT_CHECKINS, params)
        ordinary = list((await s.execute(prefetch._RECENT_CHECKINS, params)).tuples())
    assert fast is not None and sorted(fast) == sorted(ordinary)
    assert all(isinstance(at, datetime) and at.tzinfo is UTC for *_, at in fast)


async def test_selects_decline_what_the_session_would_change(engine: AsyncEngine) -> None:
    """Pending changes (autoflush) and a council filter: the ordinary path answers."""
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        s.add(Member(member_id="z1", created_at=NOW, expected_since=NOW))
        assert await fastlane.select_rows(s, prefetch._NUDGED, {"pks": [1]}) is None
        await s.flush()
        assert await fastlane.select_rows(s, prefetch._NUDGED, {"pks": [1]}) == []
        keep_to_council(s, "kcn-a")
        assert await fastlane.select_rows(s, prefetch._NUDGED, {"pks": [1]}) is None
        every = {"pks": [1], "since": NOW}
        assert await fastlane.select_rows(s, prefetch._RECENT_CHECKINS, every) == []


@pytest.mark.parametrize("ordinary", [False, True], ids=["fast", "ordinary"])
async def test_errors_are_sqlalchemys(engine: AsyncEngine, ordinary: bool) -> None:
    """A refused row, a refused value: the same exception classes on both paths, and the
    transaction goes on after a statement SQLite refused."""
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        with path(ordinary):
            await write_row(s, Member(member_id="z1", created_at=NOW, expected_since=NOW))
            with pytest.raises(exc.IntegrityError) as refused:
                await write_row(s, Member(member_id="z1", created_at=NOW, expected_since=NOW))
            assert isinstance(refused.value.orig, sqlite3.IntegrityError)
            naive = datetime(2026, 12, 5, 9, 30)
            with pytest.raises(exc.StatementError) as bad_value:
                await write_row(s, Member(member_id="z2", created_at=naive, expected_since=NOW))
            assert isinstance(bad_value.value.orig, ValueError)
            await write_row(s, Member(member_id="z3", created_at=NOW, expected_since=NOW))
    async with sessions() as s:
        assert list((await s.execute(select(Member.member_id).order_by(Member.id))).scalars()) == [
            "z1",
            "z3",
        ]


@pytest.mark.parametrize("ordinary", [False, True], ids=["fast", "ordinary"])
async def test_busy_database_fails_at_once_inside_a_transaction(
    tmp_path: Any, ordinary: bool
) -> None:
    """Another process holds the write lock: a write inside a (reading) transaction is not
    repeated (SQLite may have rolled it back) and fails as SQLAlchemy's OperationalError."""
    db_file = tmp_path / "busy.db"
    engine = make_engine(f"sqlite+aiosqlite:///{db_file}?timeout=5")
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    other = sqlite3.connect(db_file, isolation_level=None)
    try:
        async with read_session(sessions) as s, s.begin():
            await s.execute(text("SELECT 1"))  # the snapshot, under a deferred BEGIN
            traced: list[str] = []  # what SQLite itself runs, each try of each statement
            driver = (await s.connection()).sync_connection.connection.driver_connection  # type: ignore[union-attr]
            driver._connection.set_trace_callback(traced.append)
            other.execute("BEGIN IMMEDIATE")
            member = Member(member_id="z1", created_at=NOW, expected_since=NOW)
            with (
                statements_seen(engine) as seen,
                path(ordinary),
                pytest.raises(exc.OperationalError) as busy,
            ):
                await write_row(s, member)
            other.execute("ROLLBACK")
        assert "locked" in str(busy.value.orig) or "busy" in str(busy.value.orig)
        assert [e for e, *_ in seen] == ["before"]  # told once, failed: no "after"
        inserts = [sql for sql in traced if sql.startswith("INSERT INTO members")]
        assert len(inserts) == 1  # SQLite ran it once: not repeated
    finally:
        other.close()
        await engine.dispose()


async def test_executemany_and_returning_inserts(engine: AsyncEngine) -> None:
    """insert_new on the fast path: rows and conflicts as the ordinary path answers them."""
    sessions = make_sessionmaker(engine)

    def row(key: str) -> dict[str, Any]:
        return {
            "chat_id": "g1",
            "kind": "reply",
            "priority": 10,
            "text": "Đã ghi nhận",
            "idempotency_key": key,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": NOW,
            "created_at": NOW,
            "chunks_sent": 0,
            "council_id": "default",
        }

    async with sessions() as s, s.begin():
        with statements_seen(engine) as seen:
            await insert_new(s, Outbox, [row("a"), row("b")], ["idempotency_key"])
            again = await insert_new(
                s, Outbox, [row("b"), row("c")], ["idempotency_key"], returning=["id"]
            )
    inserts = [c for e, sql, c in seen if e == "before" and sql.startswith("INSERT")]
    assert inserts == [None, None, None]  # the fast path: one executemany, two RETURNING
    async with sessions() as s:
        stored = (await s.execute(select(Outbox.id, Outbox.idempotency_key))).all()
    assert again == [(dict((k, i) for i, k in stored)["c"],)]
    assert sorted(k for _, k in stored) == ["a", "b", "c"]


@pytest.mark.parametrize("ordinary", [False, True], ids=["fast", "ordinary"])
async def test_returning_rows_convert_as_the_ordinary_path(
    engine: AsyncEngine, ordinary: bool
) -> None:
    """A new member's row as RETURNING gives it: booleans, aware datetimes, NULLs."""
    sessions = make_sessionmaker(engine)
    row = {
        "member_id": "z9",
        "name": "Lan",
        "name_folded": "lan",
        "display_name": "Lan",
        "role": "member",
        "status": "guest",
        "is_lead": True,
        "active": False,
        "created_at": NOW.astimezone(HANOI),
        "expected_since": NOW,
    }
    async with sessions() as s, s.begin():
        with path(ordinary):
            (new,) = await insert_new(s, Member, [row], ["member_id"], returning=MEMBER_COLUMNS)
        got = dict(zip(MEMBER_COLUMNS, new, strict=True))
        s.expunge_all()
    assert (got["is_lead"], got["active"]) == (True, False)
    assert got["created_at"] == NOW and got["created_at"].tzinfo is UTC
    assert got["last_active_at"] is None and got["title"] is None and got["id"] == 1


async def test_statements_with_what_the_plan_cannot_hold_take_the_ordinary_path(
    engine: AsyncEngine,
) -> None:
    sessions = make_sessionmaker(engine)
    computed = select(Member.id).where(Member.member_id == bindparam("m", callable_=lambda: "z"))
    async with sessions() as s, s.begin():
        assert await fastlane.on_connection(s, computed, {}) is None
        assert await fastlane.on_connection(s, prefetch._NUDGED, []) is None


async def test_postgresql_keeps_the_ordinary_path(db_url: str) -> None:
    engine = make_engine(db_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            member = await write_row(s, Member(member_id="z1", created_at=NOW, expected_since=NOW))
            done = await fastlane.on_connection(s, prefetch._NUDGED, {"pks": [member.id]})
            assert (done is None) == (engine.dialect.name != "sqlite")
            assert member in s and not s.new and not s.dirty
    finally:
        await engine.dispose()


async def test_adopted_row_is_persistent_and_its_changes_flush_as_updates(
    engine: AsyncEngine,
) -> None:
    """prefetch.adopt's short way: in the identity map, nothing pending, later changes
    flushed as an UPDATE (as make_transient_to_detached + Session.add leave it)."""
    sessions = make_sessionmaker(engine)
    row = {"member_id": "z1", "name": "Lan", "name_folded": "lan", "display_name": "Lan"}
    row |= {"role": "member", "status": "guest", "is_lead": False, "active": True}
    row |= {"created_at": NOW, "expected_since": NOW}
    async with sessions() as s, s.begin():
        (new,) = await insert_new(s, Member, [row], ["member_id"], returning=MEMBER_COLUMNS)
        member = Member(**dict(zip(MEMBER_COLUMNS, new, strict=True)))
        prefetch.adopt(s, member)
        with statements_seen(engine) as seen:
            assert await s.get(Member, member.id) is member  # from the identity map
            assert member in s and not s.new and not s.dirty
            member.name = "Lan Anh"
            await s.flush()
        assert [sql.split()[0] for e, sql, _ in seen if e == "before"] == ["UPDATE"]
    async with sessions() as s:
        assert (await s.get(Member, member.id)).name == "Lan Anh"  # type: ignore[union-attr]


async def test_rows_keyed_otherwise_are_adopted_the_long_way(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        await s.execute(insert(KeyValue).values(key="k", value={"a": 1}, updated_at=NOW))
        stored = KeyValue(key="k", value={"a": 1}, updated_at=NOW)
        prefetch.adopt(s, stored)
        assert await s.get(KeyValue, "k") is stored and not s.new and not s.dirty


async def test_an_in_list_written_in_the_statement_reads_what_the_ordinary_path_reads(
    engine: AsyncEngine,
) -> None:
    """`status.in_([...])` with literal values (an IN list the caller does not pass), beside
    the caller's own IN list: the merge candidates' and the processor's statements."""
    members = cast_table(Member)
    stmt = select(members.c.member_id).where(
        members.c.member_id.in_(["z1", "z3", "z9"]),
        members.c.id.in_(bindparam("pks", expanding=True)),
    )
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        for i in range(1, 5):
            await write_row(s, Member(member_id=f"z{i}", created_at=NOW, expected_since=NOW))
    async with sessions() as s, s.begin():
        for pks in ([1, 2, 3], [2], []):
            fast = await fastlane.on_connection(s, stmt, {"pks": pks})
            ordinary = [tuple(r) for r in await s.execute(stmt, {"pks": pks})]
            assert fast is not None and sorted(fast.rows) == sorted(ordinary)
        assert sorted((await fastlane.on_connection(s, stmt, {"pks": [1, 2, 3]})).rows) == [
            ("z1",),
            ("z3",),
        ]
