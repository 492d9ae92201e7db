"""A serving bot holds the shared lock on its SQLite file, so `db restore` cannot run under it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from aiohttp import web

from bot import keys
from bot.dbfile import DatabaseFileError, hold_for_serving, sqlite_file


def install(app: web.Application) -> None:
    # First in line: taken before the database opens, released after it closes.
    app.cleanup_ctx.insert(0, _serving_lock)


async def _serving_lock(app: web.Application) -> AsyncIterator[None]:
    from bot.app import database_url

    try:
        db = sqlite_file(database_url(app[keys.SETTINGS]))
    except DatabaseFileError:
        db = None  # an in-memory database: nothing to restore into
    fd = hold_for_serving(db) if db is not None else None
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)
