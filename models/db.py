"""Engines, sessions and schema migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState

import migrations
from handlers.config import DEFAULT_CONNECT_TIMEOUT_SECONDS
from models.checkpoints import sqlite_file
from models.sqlite_inline import inline_creator, raw_connection, run_at_once, set_quick_commits

log = logging.getLogger(__name__)
_SCHEMA_TOLD: set[str] = set()  # the databases whose schema this process has logged
MIGRATIONS_DIR = Path(migrations.__file__).parent
# Execution option of a unit of work that only reads (see `read_session`).
READ_ONLY = "antt_read_only"
# WAL with NORMAL: a commit survives a crash of the process, and a power loss once the next
# checkpoint has run. Commits that acknowledge a delivery use FULL (durable_sessions): Zalo
# does not send again what was answered 200 (docs/performance.md has the cost).
DURABLE_SYNCHRONOUS = "FULL"
# Execution option naming how long a new PostgreSQL connection may take, for the message.
CONNECT_TIMEOUT = "antt_connect_timeout"


class SchemaBehind(Exception):
    """The database is older than this code and is not migrated automatically."""


class DatabaseUnreachable(Exception):
    """PostgreSQL did not take a connection: where, why and what to check (one line).

    `lasting`: restarting cannot help (a misspelt host, a refused login, no such database);
    else it may (PostgreSQL down or starting), so `serve` exits 1 and systemd tries again."""

    def __init__(self, message: str, *, lasting: bool) -> None:
        super().__init__(message)
        self.lasting = lasting


# SQLSTATEs of a refused connection: (lasting, what to check).
_LOGIN_REFUSED = (True, "check the user and password in")
_REFUSED_STATES = {
    "28P01": _LOGIN_REFUSED,
    "28000": _LOGIN_REFUSED,
    "3D000": (True, "create the database (docs/deploy.md, PostgreSQL) or correct"),
    "57P03": (False, "wait until PostgreSQL has started, then check"),
    "53300": (False, "too many connections: check max_connections, the pool size, and"),
}
_NOT_THERE = "check that PostgreSQL runs there and listens on that port, and"


def _why_unreachable(
    exc: BaseException, host: str, waited: float | None = None
) -> tuple[str, bool, str] | None:
    """(reason, lasting, advice) when `exc` (or what it wraps) is a failed connection;
    `waited`: the connect timeout, said when PostgreSQL did not answer within it."""
    seen: BaseException | None = exc
    while seen is not None:
        state = getattr(seen, "sqlstate", None)
        if state in _REFUSED_STATES:
            lasting, advice = _REFUSED_STATES[state]
            return f"PostgreSQL says: {seen}", lasting, advice
        if isinstance(seen, socket.gaierror):
            lasting = seen.errno != socket.EAI_AGAIN  # EAI_AGAIN: the resolver, not the name
            return f"the host name {host} is not known", lasting, "correct"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused", False, _NOT_THERE
        if isinstance(seen, TimeoutError):
            within = f" within {waited:g} s" if waited else ""
            return f"no answer{within}", False, _NOT_THERE
        if isinstance(seen, OSError) and seen.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return seen.strerror or str(seen), False, _NOT_THERE
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def database_address(url: URL) -> str:
    """How messages name a PostgreSQL database: never with its password."""
    return f"{url.database} at {url.host or 'localhost'}:{url.port or 5432} as user {url.username}"


@contextlib.contextmanager
def reaching(engine: AsyncEngine) -> Iterator[None]:
    """Around an engine's first connection: a failed one becomes DatabaseUnreachable."""
    try:
        yield
    except Exception as exc:
        host = engine.url.host or "localhost"
        waited = engine.get_execution_options().get(CONNECT_TIMEOUT)
        why = None if engine.dialect.name == "sqlite" else _why_unreachable(exc, host, waited)
        if why is None:
            raise
        reason, lasting, advice = why
        if "@" in host:  # user:p@ss@host: the password's tail read as the host; not shown
            raise DatabaseUnreachable(
                "cannot reach the PostgreSQL database: its URL has an @ in the password; "
                "write it as %40 in",
                lasting=True,
            ) from exc
        raise DatabaseUnreachable(
            f"cannot reach the PostgreSQL database {database_address(engine.url)}: {reason}; "
            f"{advice} the URL",
            lasting=lasting,
        ) from exc


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    background_checkpoints: bool = False,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, write-locking transactions and runs on the loop.

    `background_checkpoints`: a commit checkpoints the WAL only past 10,000 pages instead of
    SQLite's 1,000, as `serve` checkpoints in the background (models/checkpoints.py).
    `connect_timeout`: seconds PostgreSQL has to accept a new connection (database.*)."""
    if is_sqlite(url):
        _ensure_sqlite_dir(url)
        # No reset statement on check-in: a transaction is always ended when its connection
        # goes back (committed or rolled back), but for the rare one left open (see below).
        engine = create_async_engine(
            url, echo=echo, async_creator=inline_creator(url), pool_reset_on_return=None
        )
        _tune_sqlite(engine, background_checkpoints)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={"timeout": connect_timeout},
        execution_options={CONNECT_TIMEOUT: connect_timeout},
    )


def _ensure_sqlite_dir(url: str) -> None:
    path = sqlite_file(url)
    if path is not None:
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(engine: AsyncEngine, background_checkpoints: bool = False) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level so that we emit BEGIN ourselves (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        _record.info["synchronous"] = "NORMAL"
        # A commit without fsync and without a checkpoint of its own costs what a statement
        # does: on the loop, not a thread hop (docs/performance.md, round 14).
        set_quick_commits(dbapi_connection, background_checkpoints)
        cursor.execute("PRAGMA foreign_keys=ON")
        # No waiting inside SQLite: the connection waits for a busy lock with asyncio
        # (models/sqlite_inline.py), so the event loop keeps serving meanwhile.
        cursor.execute("PRAGMA busy_timeout=0")
        if background_checkpoints:
            # models.checkpoints.BACKSTOP_PAGES (a PRAGMA takes no bound value)
            cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine.pool, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # What the pool's rollback-on-return did, only when a transaction is still open:
        # SQLAlchemy calls it after every commit too, a greenlet switch for nothing.
        if not state.asyncio_safe:  # as the pool: no rollback outside the event loop
            return
        raw = raw_connection(dbapi_connection)
        if raw is None or raw.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # The safety level cannot change inside a transaction: set it before, when it differs.
        level = conn.get_execution_options().get("sqlite_synchronous", "NORMAL")
        info = conn.connection.info
        if info.get("synchronous") != level:
            if level == "FULL":
                conn.exec_driver_sql("PRAGMA synchronous=FULL")
            else:
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
            info["synchronous"] = level
            set_quick_commits(
                conn.connection.dbapi_connection, background_checkpoints and level != "FULL"
            )
        # A reader takes no lock: in WAL mode it reads its snapshot while intake and the
        # workers keep writing (the dashboard, exports, digests, a second CLI). A writer's
        # IMMEDIATE takes the write lock up front: a deferred transaction that later writes
        # can fail with SQLITE_BUSY without waiting, which would lose work under load.
        # Straight on the connection when the lock is free; else the ordinary way, which
        # waits for a busy lock (models/sqlite_inline.py) and raises SQLAlchemy's errors.
        # With `database.echo` on, the ordinary way too: the statement log then shows where
        # each transaction starts, which is what someone reading it is after.
        raw = None if conn.engine.echo else conn.connection.dbapi_connection
        if conn.get_execution_options().get(READ_ONLY):
            if not run_at_once(raw, "BEGIN"):
                conn.exec_driver_sql("BEGIN")
        elif not run_at_once(raw, "BEGIN IMMEDIATE"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def durable_sessions(sessions: async_sessionmaker[Any]) -> async_sessionmaker[Any]:
    """The same database, for commits that must survive a power loss (on SQLite they are
    synced to disk, synchronous=FULL; PostgreSQL always does)."""
    engine: AsyncEngine = sessions.kw["bind"]
    durable = engine.execution_options(sqlite_synchronous=DURABLE_SYNCHRONOUS)
    return async_sessionmaker(durable, expire_on_commit=False)


def read_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session for a unit of work that only reads: on SQLite it takes no write lock.

    Writing in it is a bug: under contention SQLite refuses the late upgrade to a writer.
    """
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine):  # bound otherwise: an ordinary session
        return sessions()
    return sessions(bind=engine.execution_options(**{READ_ONLY: True}))


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def upgrade(engine: AsyncEngine) -> tuple[str | None, str]:
    """Apply every migration; returns (before, after) revisions."""
    with reaching(engine):
        conn = await engine.connect()
    try:
        async with conn.begin():
            before = await conn.run_sync(_current_revision)
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
            after = await conn.run_sync(_current_revision)
    finally:
        await conn.close()
    return before, after or ""


async def ensure_schema(engine: AsyncEngine) -> None:
    """SQLite is brought up to date by itself; PostgreSQL must be migrated on purpose."""
    if engine.dialect.name == "sqlite":
        before, after = await upgrade(engine)
        _tell_schema(engine, before, after)
        return
    with reaching(engine):
        conn = await engine.connect()
    try:
        current = await conn.run_sync(_current_revision)
    finally:
        await conn.close()
    head = head_revision()
    if current != head:
        raise SchemaBehind(
            f"the database schema is at {current or 'nothing'}, this version needs {head}: "
            "run `antt-bot db upgrade`"
        )
    _tell_schema(engine, head, head)


def _tell_schema(engine: AsyncEngine, before: str | None, after: str) -> None:
    """The schema's line at INFO once per database and process: `serve` checks the
    database before starting, then starts on it (the second look is said at DEBUG)."""
    where = engine.url.render_as_string(hide_password=True)
    level = logging.DEBUG if where in _SCHEMA_TOLD else logging.INFO
    _SCHEMA_TOLD.add(where)
    log.log(level, _schema_news(before, after))


def _schema_news(before: str | None, after: str) -> str:
    """The start-up's one line about the schema (each migration step is logged at DEBUG)."""
    if before == after:
        return f"database schema at revision {after}"
    if before is None:
        return f"database schema created at revision {after}"
    return f"database schema upgraded from revision {before} to {after}"
