"""`antt-bot db backup FILE` and `db restore FILE` (docs/deploy.md, README "Backups")."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import database_url
from bot.cli import EXIT_FAIL, EXIT_OK, UsageError, command, load
from bot.dbfile import (
    DatabaseFileError,
    ServeRunning,
    held_exclusively,
    inspect_backup,
    restore,
    sqlite_file,
)
from bot.dbfile import backup as backup_file
from models.db import alembic_config, head_revision, make_engine, reaching


@command("db backup")
def db_backup(args: argparse.Namespace) -> int:
    url = database_url(load(args))
    dest = Path(args.file).expanduser()
    if dest.is_dir():
        raise UsageError(
            f"{dest} is a folder: give the backup's file name, e.g. {dest / 'antt.db'}"
        )
    try:
        db = sqlite_file(url)
        if db is None:
            print(shlex.join(pg_command("pg_dump", url, "--format=custom", f"--file={dest}")))
            print(PG_PASSWORD_NOTE, file=sys.stderr)
            return EXIT_OK
        copied = backup_file(db, dest)
    except DatabaseFileError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:  # about the destination: the copy is made beside it, then renamed
        print(f"antt-bot: cannot write the backup {dest}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAIL
    size = copied.size / 1_000_000
    print(f"backup of {db} written to {dest} ({size:.1f} MB, revision {copied.revision}, checked)")
    return EXIT_OK


@command("db restore")
def db_restore(args: argparse.Namespace) -> int:
    settings = load(args)
    url = database_url(settings)
    src = Path(args.file).expanduser()
    try:
        db = sqlite_file(url)
        if db is None:
            if not src.is_file():
                raise DatabaseFileError(f"no file at {src}")
            return asyncio.run(
                _postgres_restore(url, src, settings.database.connect_timeout_seconds)
            )
        revision = inspect_backup(src)
        _known_revision(src, revision)
        with held_exclusively(db):
            kept = restore(src, db)
    except ServeRunning as exc:
        print(f"antt-bot: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except DatabaseFileError as exc:
        raise UsageError(str(exc)) from None
    print(f"{db} restored from {src} (revision {revision})")
    if kept is not None:
        print(f"the database it replaced is kept as {kept}")
    if revision != head_revision():
        print(f"it is brought up to revision {head_revision()} when the bot starts")
    return EXIT_OK


PG_PASSWORD_NOTE = (
    "antt-bot: run this command as printed; the password is not shown: "
    "put it in ~/.pgpass or PGPASSWORD"
)


def pg_command(program: str, url: str, *options: str) -> list[str]:
    """A pg_dump/pg_restore command line for the configured URL, without its password."""
    parsed = make_url(url)
    argv = [program, *options]
    if parsed.host:
        argv.append(f"--host={parsed.host}")
    if parsed.port:
        argv.append(f"--port={parsed.port}")
    if parsed.username:
        argv.append(f"--username={parsed.username}")
    argv.append(f"--dbname={parsed.database or ''}")
    return argv


async def _postgres_restore(url: str, src: Path, connect_timeout: float) -> int:
    """PostgreSQL: only when nobody else is connected, print the pg_restore command."""
    engine = make_engine(url, pool_size=1, connect_timeout=connect_timeout)
    try:
        with reaching(engine):
            conn = await engine.connect()
        others = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        ).scalar_one()
        await conn.close()
    finally:
        await engine.dispose()
    if others:
        raise ServeRunning(
            f"{others} other connection(s) to database {make_url(url).database} "
            "(a running bot?): stop every `antt-bot serve` first (`sudo systemctl stop antt-bot`)"
        )
    argv = pg_command("pg_restore", url, "--clean", "--if-exists", "--no-owner")
    print(shlex.join([*argv, str(src)]))
    print(PG_PASSWORD_NOTE, file=sys.stderr)
    return EXIT_OK


def _known_revision(src: Path, revision: str) -> None:
    """A backup made by a newer version cannot go under this one."""
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise DatabaseFileError(
            f"{src} was made by a newer antt-bot (schema revision {revision}; this version "
            f"knows up to {head_revision()}): install that version to restore it"
        )
