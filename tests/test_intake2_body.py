"""read_body: a body in one piece is returned as it came; pieces, limits and empties as before."""

from __future__ import annotations

import asyncio
from typing import Any, cast
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.streams import StreamReader

from bot.intake import read_body


class _Request:
    """What read_body reads of a request: its declared length and its body stream."""

    def __init__(self, content: StreamReader, content_length: int | None = None) -> None:
        self.content = content
        self.content_length = content_length


def _stream(pieces: list[bytes], eof: bool = True) -> StreamReader:
    protocol = mock.Mock(_reading_paused=False)
    reader = StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
    for piece in pieces:
        reader.feed_data(piece)
    if eof:
        reader.feed_eof()
    return reader


async def _read(pieces: list[bytes], limit: int, length: int | None = None) -> bytes | None:
    request = cast(web.Request, _Request(_stream(pieces), length))
    return await read_body(request, limit)


@pytest.mark.parametrize(
    ("pieces", "limit", "expected"),
    [
        ([b'{"a": 1}'], 100, b'{"a": 1}'),
        ([], 100, b""),
        ([b"x" * 10], 10, b"x" * 10),
        ([b"x" * 11], 10, None),
        ([b"abc", b"def", b"gh"], 100, b"abcdefgh"),
        ([b"abc", b"def", b"gh"], 8, b"abcdefgh"),
        ([b"abc", b"def", b"ghi"], 8, None),
    ],
)
async def test_bodies_in_one_piece_or_several(
    pieces: list[bytes], limit: int, expected: bytes | None
) -> None:
    body = await _read(pieces, limit)
    assert body == expected
    assert body is None or type(body) is bytes


async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    assert await _read([b"x"], 10, length=11) is None


async def test_a_body_still_arriving_is_read_to_its_end() -> None:
    reader = _stream([b'{"a":'], eof=False)
    request = cast(web.Request, _Request(reader))

    async def rest() -> None:
        await asyncio.sleep(0)
        reader.feed_data(b" 1}")
        reader.feed_eof()

    feeding: Any = asyncio.ensure_future(rest())
    assert await read_body(request, 100) == b'{"a": 1}'
    await feeding
