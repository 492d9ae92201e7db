"""Downloads built off the event loop: rows fetched in one short read, files built in a thread.

Why: openpyxl and the csv module are CPU work (seconds for a large export); on the loop they
would delay every delivery meanwhile. The writers in bot/export.py stay what they are.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.export import write_csv, write_xlsx

YIELD_EVERY = 1000  # rows fetched between two turns given back to the loop


async def fetch_all(rows: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row, giving the loop a turn now and then (SQLite runs on the loop itself)."""
    out: list[dict[str, Any]] = []
    async for row in rows:
        out.append(row)
        if len(out) % YIELD_EVERY == 0:
            await asyncio.sleep(0)
    return out


async def _replay(rows: Sequence[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for row in rows:
        yield row


def build_xlsx(
    rows: Sequence[dict[str, Any]],
    columns: Iterable[str],
    tz: ZoneInfo,
    title: str,
    headers: Sequence[str] | None = None,
) -> bytes:
    """The workbook's bytes; call it in a thread (asyncio.to_thread)."""
    buf = io.BytesIO()
    asyncio.run(write_xlsx(_replay(rows), columns, buf, tz, title=title, headers=headers))
    return buf.getvalue()


def build_csv(
    rows: Sequence[dict[str, Any]],
    columns: Iterable[str],
    tz: ZoneInfo,
    headers: Sequence[str] | None = None,
    delimiter: str = ",",
) -> bytes:
    """The CSV file's bytes (UTF-8 with a BOM); call it in a thread (asyncio.to_thread)."""
    buf = io.StringIO()
    asyncio.run(write_csv(_replay(rows), columns, buf, tz, headers=headers, delimiter=delimiter))
    return buf.getvalue().encode("utf-8")
