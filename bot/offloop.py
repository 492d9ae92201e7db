"""Downloads built off the event loop: rows fetched in one short read, files built in a thread.

Why: openpyxl and the csv module are CPU work (seconds for a large export); on the loop they
would delay every delivery meanwhile. The writers themselves are in bot/export.py.
A CSV is encoded a thousand rows at a time into a spool on disk that the response reads at
the browser's pace: the read ends when the rows are written, memory stays flat. An XLSX
spools its rows a thousand at a time too (bot/export.SheetSpool); once the read has ended,
openpyxl's write-only workbook is written in a thread to a temporary file, then sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.export import SheetSpool, write_csv
from models.db import read_session

CHUNK_ROWS = 1000  # rows a CSV chunk holds: one trip to the thread that encodes them
SEND_BYTES = 256 * 1024  # read back from the spool per write to the response

Rows = Callable[[AsyncSession], AsyncIterator[dict[str, Any]]]


async def _replay(rows: Sequence[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for row in rows:
        yield row


async def spooled_xlsx(
    sessions: async_sessionmaker[AsyncSession],
    rows: Rows,
    columns: Sequence[str],
    tz: ZoneInfo,
    title: str,
    headers: Sequence[str] | None = None,
) -> IO[bytes]:
    """The workbook in a temporary file at its start (the caller closes it): rows spooled in
    one read (no lock on SQLite), the read ended, then the workbook written in a thread."""
    with SheetSpool(columns, tz, headers) as spool:
        async with read_session(sessions) as session, _closing(rows(session)) as read:
            await spool.fill(read)
        out = tempfile.TemporaryFile()  # noqa: SIM115 (the caller's to close)
        try:
            await asyncio.to_thread(_saved, spool, out, title)
        except BaseException:
            out.close()
            raise
    return out


def _saved(spool: SheetSpool, out: IO[bytes], title: str) -> None:
    spool.save(out, title)
    out.seek(0)


async def file_chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    """A file's bytes from where it stands, SEND_BYTES at a time, read in a thread."""
    while data := await asyncio.to_thread(file.read, SEND_BYTES):
        yield data


def build_csv(
    rows: Sequence[dict[str, Any]],
    columns: Iterable[str],
    tz: ZoneInfo,
    headers: Sequence[str] | None = None,
    delimiter: str = ",",
    *,
    with_head: bool = True,
) -> bytes:
    """The CSV's bytes (UTF-8 with a BOM); call it in a thread (asyncio.to_thread).

    `with_head=False`: the rows only, for a chunk after the file's first."""
    buf = io.StringIO()
    asyncio.run(write_csv(_replay(rows), columns, buf, tz, headers=headers, delimiter=delimiter))
    text = buf.getvalue()
    if not with_head:  # write_csv always starts with the BOM and the header row
        text = text.split("\r\n", 1)[1]
    return text.encode("utf-8")


class _Spool:
    """Encoded chunks in a temporary file, read back by the response at its own pace."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by spooled_csv)
        self.size = 0  # bytes written and flushed, readable by the response
        self.finished = False
        self.abandoned = False  # the response has gone (sent, refused, or the browser left)
        self.error: BaseException | None = None
        self._grown = asyncio.Event()

    def append(self, data: bytes) -> None:
        """In the encoding thread: the chunk on disk before the response is told of it."""
        self.file.write(data)
        self.file.flush()

    def grew(self, n: int) -> None:
        self.size += n
        self._grown.set()

    def end(self, error: BaseException | None = None) -> None:
        self.finished, self.error = True, error
        self._grown.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes as they are written; the writer's error once it has stopped."""
        offset = 0
        while True:
            if offset < self.size:
                n = min(SEND_BYTES, self.size - offset)
                data = await asyncio.to_thread(os.pread, self.file.fileno(), n, offset)
                offset += len(data)
                yield data
            elif self.finished:
                if self.error is not None:
                    raise self.error
                return
            else:
                self._grown.clear()
                await self._grown.wait()


async def _fill_csv(
    spool: _Spool,
    sessions: async_sessionmaker[AsyncSession],
    rows: Rows,
    encode: Callable[[list[dict[str, Any]], bool], bytes],
) -> None:
    """Read the rows in one read (no lock on SQLite), encoding each chunk in a thread."""

    async def add(batch: list[dict[str, Any]], first: bool) -> None:
        data = await asyncio.to_thread(lambda: _encoded_into(spool, encode(batch, first)))
        spool.grew(len(data))

    try:
        async with read_session(sessions) as session, _closing(rows(session)) as read:
            batch: list[dict[str, Any]] = []
            first = True
            async for row in read:
                batch.append(row)
                if len(batch) == CHUNK_ROWS:
                    if spool.abandoned:
                        break
                    await add(batch, first)
                    batch, first = [], False
            if first or batch:  # an empty export still has its BOM and header row
                await add(batch, first)
    except Exception as exc:  # told to the response, which stops the download with it
        spool.end(exc)
    else:
        spool.end()


@contextlib.asynccontextmanager
async def _closing(rows: AsyncIterator[Any]) -> AsyncIterator[AsyncIterator[Any]]:
    """The rows, closed on leaving (a download left half-way): their query ends inside
    the read, not later when the generator is collected."""
    try:
        yield rows
    finally:
        aclose = getattr(rows, "aclose", None)  # an async generator's
        if aclose is not None:
            await aclose()


def _encoded_into(spool: _Spool, data: bytes) -> bytes:
    spool.append(data)
    return data


@contextlib.asynccontextmanager
async def spooled_csv(
    sessions: async_sessionmaker[AsyncSession],
    rows: Rows,
    columns: Sequence[str],
    tz: ZoneInfo,
    headers: Sequence[str] | None = None,
    delimiter: str = ",",
) -> AsyncIterator[AsyncIterator[bytes]]:
    """The CSV's bytes in chunks (the first has the BOM and the header row), made while the
    caller sends them; leaving the block stops the read and removes the spool."""
    spool = _Spool()

    def encode(batch: list[dict[str, Any]], first: bool) -> bytes:
        return build_csv(batch, columns, tz, headers, delimiter, with_head=first)

    filling = asyncio.create_task(_fill_csv(spool, sessions, rows, encode))
    try:
        yield spool.chunks()
    finally:
        spool.abandoned = True
        filling.add_done_callback(lambda _done: spool.file.close())  # not under its writer
        await asyncio.shield(filling)  # ends within one chunk
