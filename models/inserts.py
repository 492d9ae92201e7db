"""INSERT .. ON CONFLICT DO NOTHING that SQLAlchemy compiles once, not on every call.

Why: the dialects' `insert().on_conflict_do_nothing()` has no cache key, so SQLAlchemy
compiles it on every execution (about half a millisecond); the outbox and the sender run
it for every message. The same SQL text works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

from models.tables import Base

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")


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
    stmt = insert_ignoring(table, tuple(rows[0]), tuple(conflict), tuple(returning))
    if not returning:
        await session.execute(stmt, list(rows))
        return []
    out: list[tuple[Any, ...]] = []
    for row in rows:
        out.extend(tuple(r) for r in (await session.execute(stmt, row)).all())
    return out
