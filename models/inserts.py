"""INSERT .. ON CONFLICT DO NOTHING that SQLAlchemy compiles once, not on every call.

Why: the dialects' `insert().on_conflict_do_nothing()` has no cache key, so SQLAlchemy
compiles it on every execution (about half a millisecond); the outbox and the sender run
it for every message. The same SQL text works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

from models import fastlane
from models.prefetch import adopt
from models.scoping import record_council
from models.tables import Base

RowT = TypeVar("RowT", bound=Base)

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_SQLITE = sqlite.dialect()


@lru_cache(maxsize=64)
def insert_ignoring(
    table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], returning: tuple[str, ...]
) -> TextClause | TextualSelect:
    """The statement for rows with exactly `columns`; typed binds, typed RETURNING."""
    for name in (table.name, *columns, *conflict, *returning):
        if not _PLAIN_NAME.fullmatch(name):  # no quoting needed (or done) below
            raise ValueError(f"not a plain SQL name: {name!r}")
    for name in (*columns, *conflict, *returning):
        if name not in table.c:
            raise KeyError(f"{table.name} has no column {name!r}")
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    )
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    # Column types convert values as the ORM would (JSON, UTC datetimes).
    stmt = text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))
    if returning:
        return stmt.columns(*(table.c[c] for c in returning))
    return stmt


async def insert_new(
    session: AsyncSession,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert each row unless it conflicts on `conflict`; RETURNING rows of the new ones.

    All rows must have the same keys. With `returning`, rows go one statement each
    (RETURNING and executemany do not mix on every driver). A text statement does not
    autoflush the session: flush first if a row refers to an object not yet written.
    """
    if not rows:
        return []
    table = cast(Table, model.__table__)
    columns, conflict, returning = tuple(rows[0]), tuple(conflict), tuple(returning)
    stmt = insert_ignoring(table, columns, conflict, returning)
    if returning == ("id",) and _keyed_by_rowid(table):
        plain = insert_ignoring(table, columns, conflict, ())
        return await _insert_new_ids(session, plain, stmt, rows)
    if returning:
        out: list[tuple[Any, ...]] = []
        for row in rows:
            done = await fastlane.on_connection(session, stmt, row)
            if done is None:
                return await _insert_new_ordinary(session, stmt, rows, returning)
            out.extend(done.rows)
        return out
    if await fastlane.on_connection(session, stmt, list(rows)) is None:
        return await _insert_new_ordinary(session, stmt, rows, returning)
    return []


@lru_cache(maxsize=64)
def _keyed_by_rowid(table: Table) -> bool:
    """Whether the table's key is one `id` column that SQLite keeps as the rowid (an
    INTEGER PRIMARY KEY of a rowid table): then an insert's rowid is the row's id."""
    key = list(table.primary_key.columns)
    if len(key) != 1 or key[0].name != "id":
        return False
    if table.dialect_options["sqlite"].get("with_rowid", True) is False:
        return False
    return key[0].type.compile(dialect=_SQLITE) == "INTEGER"


async def _insert_new_ids(
    session: AsyncSession,
    plain: TextClause | TextualSelect,
    returning_id: TextClause | TextualSelect,
    rows: Sequence[dict[str, Any]],
) -> list[tuple[Any, ...]]:
    """insert_new's ids of the new rows, on the fast path without RETURNING: SQLite counts
    the row the insert wrote (none on a conflict) and gives its rowid, the id. RETURNING
    cost a third of the insert more (its rows are collected, fetched and converted)."""
    out: list[tuple[Any, ...]] = []
    for row in rows:
        done = await fastlane.on_connection(session, plain, row)
        if done is None:  # declined before running anything: the ordinary way, RETURNING
            return await _insert_new_ordinary(session, returning_id, rows, ("id",))
        if done.rowcount == 1:
            out.append((done.lastrowid,))
    return out


async def _insert_new_ordinary(
    session: AsyncSession,
    stmt: TextClause | TextualSelect,
    rows: Sequence[dict[str, Any]],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """insert_new through SQLAlchemy's execution (PostgreSQL; SQLite when the fast path
    does not apply). The fast path declines before it runs anything, so no row is twice."""
    # On the session's connection: the session's own execution adds nothing to a text
    # statement but its cost (it neither autoflushes nor filters one).
    conn = await session.connection()
    if not returning:
        await conn.execute(stmt, list(rows))
        return []
    out: list[tuple[Any, ...]] = []
    for row in rows:
        out.extend(tuple(r) for r in (await conn.execute(stmt, row)).all())
    return out


# What a new row gets for a column it does not set (see _column_defaults).
_COUNCIL, _NULL, _SERVER_DEFAULT, _CALLED, _SCALAR = range(5)


@lru_cache(maxsize=128)
def _column_defaults(model: type[Base]) -> tuple[tuple[str, int, Any], ...]:
    """A model's columns but its key, each with what an unset one gets: read once per
    model, not walked through the mapper for every row."""
    out: list[tuple[str, int, Any]] = []
    for attr in sa_inspect(model).column_attrs:
        column = attr.columns[0]
        if column.primary_key:
            continue
        if attr.key == "council_id":
            out.append((attr.key, _COUNCIL, None))
        elif column.default is None:
            kind = _NULL if column.server_default is None else _SERVER_DEFAULT
            out.append((attr.key, kind, column))
        elif column.default.is_callable:
            out.append((attr.key, _CALLED, column.default.arg))
        else:
            out.append((attr.key, _SCALAR, column.default.arg))
    return tuple(out)


@lru_cache(maxsize=128)
def _column_keys(model: type[Base]) -> tuple[tuple[str, ...], bool]:
    """The columns _column_defaults lists, in order, and whether one is the council's."""
    defaults = _column_defaults(model)
    return tuple(key for key, _, _ in defaults), any(k == _COUNCIL for _, k, _ in defaults)


def _column_values(session: AsyncSession, row: Base) -> tuple[dict[str, Any], list[str]]:
    """The values to insert for a new row (set ones, else the column's default; the
    session's council for a council's record) and the columns left to the database (NULL),
    as the unit of work would write them."""
    given = row.__dict__
    keys, has_council = _column_keys(type(row))
    values = {key: given[key] for key in keys if key in given}
    left: list[str] = []
    if len(values) != len(keys):  # some left unset: their defaults
        for key, kind, default in _column_defaults(type(row)):
            if key in values or kind == _COUNCIL:
                continue
            if kind == _NULL:
                left.append(key)
            elif kind == _SERVER_DEFAULT:
                raise ValueError(f"{default}: set it (its server default is not known here)")
            else:
                values[key] = default(None) if kind == _CALLED else default
    if has_council and values.get("council_id") is None:
        values["council_id"] = record_council(session)
    return values, left


@lru_cache(maxsize=64)
def _plain_insert(table: Table) -> Any:
    """One statement object per table: SQLAlchemy keeps its cache key, not rebuilt per row."""
    return insert(table)


async def write_row(session: AsyncSession, row: RowT) -> RowT:
    """Insert a new ORM row with one Core statement, then keep it in the session as
    persistent, every column loaded: what `session.add(row); await session.flush()` does,
    without the unit of work (a third of the cost, docs/performance.md).

    Later changes to the row are flushed as UPDATEs as usual. The row must refer to rows
    already written (its foreign keys are plain values here, not relationships).
    """
    table = cast(Table, type(row).__table__)
    values, left = _column_values(session, row)
    statement = _plain_insert(table)
    done = await fastlane.on_connection(session, statement, values)
    if done is not None:
        pk = done.lastrowid
    else:
        conn = await session.connection()
        result = await conn.execute(statement, values)
        (pk,) = result.inserted_primary_key or (None,)
    if pk is None:
        raise RuntimeError(f"{table.name}: no key came back from the insert")
    _join_as_written(session, row, values, left, pk)
    return row


def _join_as_written(
    session: AsyncSession, row: Base, values: dict[str, Any], left: list[str], pk: Any
) -> None:
    """Make `row` persistent in the session with exactly the values written, every column
    loaded and no change pending (`set_committed_value` per column, then `adopt`)."""
    state = instance_state(row)
    if state.key is not None or state.session_id is not None:
        for key, value in values.items():
            set_committed_value(row, key, value)
        for key in left:
            set_committed_value(row, key, None)
        set_committed_value(row, "id", pk)
    else:
        # Straight into the row's dict: no history to keep, adopt commits them all.
        loaded = state.dict
        loaded.update(values)
        loaded.update(dict.fromkeys(left))
        loaded["id"] = pk
    adopt(session, row)
