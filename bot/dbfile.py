"""The SQLite database file: the serving lock, online backups and restores (docs/deploy.md).

`serve` (and `demo`) hold a shared flock on `<db>-serve.lock` for their whole life; a restore
takes it exclusively, so it cannot run while a bot serves that file, and a bot cannot start
while a restore runs. The kernel drops the lock when a process dies, even after kill -9.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

try:  # not on Windows; there the lock is simply not taken
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


# How long a restore waits for another program to close the database before refusing.
BUSY_SECONDS = 5.0


class DatabaseFileError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


class ServeRunning(DatabaseFileError):
    """A bot is serving the database (or a restore holds it)."""


@dataclass(frozen=True)
class Copied:
    path: Path
    size: int
    revision: str | None


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL; None for another database (PostgreSQL)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    name = parsed.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        raise DatabaseFileError(f"database.url: {url!r} is not a database file")
    return Path(name).expanduser()


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + "-serve.lock")


def hold_for_serving(db: Path) -> int | None:
    """Take the shared serving lock and return its descriptor (close it to release)."""
    if fcntl is None:
        return None
    db.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ServeRunning(
            f"a restore is running on {db} (it holds {lock_path(db)}); "
            "start the bot again when it has finished"
        ) from None
    return fd


@contextlib.contextmanager
def held_exclusively(db: Path) -> Iterator[None]:
    """No bot serves `db` while this block runs; ServeRunning if one does now."""
    if fcntl is None:
        yield
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServeRunning(
                f"a bot is serving {db} (it holds {lock_path(db)}): stop it first "
                "(`sudo systemctl stop antt-bot`), then restore"
            ) from None
        yield
    finally:
        os.close(fd)


def backup(db: Path, dest: Path) -> Copied:
    """Copy `db` to `dest` with SQLite's online backup API (safe while a bot writes to it).

    The copy is a single file (no -wal), checked, readable by its owner only, and appears
    under its name only when complete.
    """
    if not db.is_file():
        raise DatabaseFileError(f"no database at {db}")
    _refuse_own_files(db, dest)
    source = sqlite3.connect(db, timeout=30)
    try:
        return _snapshot(source, dest)
    finally:
        source.close()


def _snapshot(source: sqlite3.Connection, dest: Path) -> Copied:
    """Write what `source` holds to `dest`: private, checked, renamed into place when whole."""
    if not dest.parent.is_dir():
        raise DatabaseFileError(f"{dest.parent} is not a folder")
    tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    _create_private(tmp)
    try:
        target = sqlite3.connect(tmp, isolation_level=None)
        try:
            source.backup(target)  # in one step: a consistent snapshot, writers go on (WAL)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
        revision = _check(tmp)
        _fsync(tmp)
        os.replace(tmp, dest)
        _fsync(dest.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return Copied(dest, dest.stat().st_size, revision)


def inspect_backup(src: Path) -> str:
    """The schema revision of a backup file; DatabaseFileError if it is not one."""
    if not src.is_file():
        raise DatabaseFileError(f"no file at {src}")
    try:
        revision = _check(src)
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(f"{src} is not an SQLite database ({exc})") from None
    if revision is None:
        raise DatabaseFileError(f"{src} is not an antt-bot database (no schema revision)")
    return revision


def restore(src: Path, db: Path) -> Path | None:
    """Replace `db` by the backup `src` (caller holds the lock); returns the kept old copy."""
    _refuse_own_files(db, src)
    kept = None
    target = sqlite3.connect(db, timeout=BUSY_SECONDS, isolation_level=None)
    try:
        # Leaving WAL needs the only connection: it fails if any other program has it open.
        try:
            target.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.OperationalError as exc:
            raise ServeRunning(f"another program has {db} open ({exc}); close it first") from None
        if target.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = _snapshot(target, db.with_name(f"{db.name}.before-restore-{stamp}")).path
        source = sqlite3.connect(_read_only(src), uri=True)
        try:
            source.backup(target)
        finally:
            source.close()
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()
    _fsync(db)
    return kept


def _refuse_own_files(db: Path, other: Path) -> None:
    own = {db.resolve(), *(Path(f"{db.resolve()}{s}") for s in ("-wal", "-shm", "-journal"))}
    if other.resolve() in own:
        raise DatabaseFileError(f"{other} is the database itself; choose another file")


def _create_private(path: Path) -> None:
    # Backups hold members' names and phone numbers: readable by the bot's user only.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))


def _check(path: Path) -> str | None:
    """`PRAGMA quick_check` must pass; returns the Alembic revision, if any."""
    conn = sqlite3.connect(_read_only(path), uri=True)
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()
        if not result or result[0] != "ok":
            raise DatabaseFileError(f"{path} is damaged: {result[0] if result else 'no answer'}")
        has_version = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if not has_version:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None
    finally:
        conn.close()


def _read_only(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
