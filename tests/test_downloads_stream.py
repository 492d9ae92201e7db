"""Big CSV downloads stream in chunks from a short read, big Excel files are written a batch
at a time off the loop; long Zalo ids survive Excel."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sqlite3
import tracemalloc
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import func, insert, select

from bot.export import write_xlsx
from models import exports
from models.tables import InboundEvent, Message
from tests.conftest import T0, Bot, text_event
from tests.digest_factory import HCM, Factory

PASSWORD = "mật khẩu đủ dài 2026"
BUSY_WAIT = "?timeout=1"  # the old locking read would make intake answer 503 after 1 s
MESSAGES = 30_000  # ~4 MB of CSV: more than the sockets' buffers hold for a reader that waits
# A Zalo OA user id: 19 digits, past the 15 significant digits Excel keeps of a number.
LONG_ID = "5487214563987412365"
ROWS_TRACED = 10_000  # tracemalloc slows the writer threefold: enough to see growth


async def start(make_bot: Any, make_settings: Any, tmp_path: Path) -> Bot:
    db = f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}{BUSY_WAIT}"
    bot = await make_bot(make_settings(db=db, dashboard={"password": PASSWORD}))
    async with bot.sessions() as s, s.begin():
        f = Factory(s)
        await f.member("uDung", "Trần Thị Dung", role="coordinator", phone="0912345678")
        await f.member(LONG_ID, "Lê Văn Long", enterprise="Cty Minh Long")
    async with bot.http.get("/dashboard/login") as resp:
        match = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert match is not None
    form = {"username": "0912345678", "password": PASSWORD, "csrf": match[1], "next": "/"}
    async with bot.http.post("/dashboard/login", data=form, allow_redirects=False) as resp:
        assert resp.status == 303
    return bot


async def seed_messages(bot: Bot, n: int) -> None:
    """A year of a busy park's chat: `n` patrol messages from one guard."""
    rows = [
        {
            "platform": "zalo_bot",
            "chat_id": "g1",
            "chat_type": "group",
            "member_id": LONG_ID,
            "message_id": f"m{i}",
            "sent_at": T0 - timedelta(minutes=i),
            "created_at": T0,
            "text": f"tuần tra khu B lần {i}, cổng 3 bình thường, đã kiểm tra bình chữa cháy",
        }
        for i in range(n)
    ]
    async with bot.sessions() as s, s.begin():
        await s.execute(insert(Message), rows)


def wal_is_free(db: Path) -> bool:
    """No reader keeps an old snapshot: the whole WAL can be checkpointed and emptied."""
    other = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        busy, _log, _done = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0
    except sqlite3.OperationalError:  # a writer is committing right now
        return False
    finally:
        other.close()


async def test_a_big_csv_download_held_open_streams_and_deliveries_still_answer(
    make_bot: Any, make_settings: Any, tmp_path: Path
) -> None:
    """Chị Dung downloads a year of messages over a slow link: the file comes in chunks
    (it was built whole in memory, then sent), the read behind it ends once the rows are
    encoded whatever her link, and the guards' check-ins are answered 200 meanwhile."""
    bot = await start(make_bot, make_settings, tmp_path)
    await seed_messages(bot, MESSAGES)

    async with bot.http.get("/dashboard/downloads/messages.csv") as download:
        assert download.status == 200
        assert download.headers["Transfer-Encoding"] == "chunked"
        assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
        head = await download.content.readexactly(64)  # and then she reads nothing for a while
        assert head.decode("utf-8", "ignore").startswith("\ufeffSố,Nền tảng,Mã nhóm/chat")
        for i in range(5):
            status, _ = await bot.deliver(text_event("có mặt", sender=f"bv{i}", chat="g1"))
            assert status == 200
        await bot.drain()
        # The rows were read and spooled without her: no snapshot is held for her link.
        for _ in range(1000):
            if wal_is_free(tmp_path / "antt.db"):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the download's read is still open while the browser waits")
        body = head + await download.read()

    text = body.decode("utf-8").removeprefix("\ufeff")
    assert "\ufeff" not in text and text.count("Nền tảng") == 1  # one BOM, one header row
    table = list(csv.DictReader(io.StringIO(text)))
    # The file is the moment she asked: the 30,000 messages, not the check-ins after.
    assert len(table) == MESSAGES and all(None not in row for row in table)
    assert table[0]["Nội dung"].startswith("tuần tra khu B lần 0, cổng 3 bình thường")
    assert [row["Mã tin nhắn"] for row in table[-2:]] == [f"m{MESSAGES - 2}", f"m{MESSAGES - 1}"]
    async with bot.sessions() as s:
        done = InboundEvent.status == "done"
        assert await s.scalar(select(func.count()).select_from(InboundEvent).where(done)) == 5


async def test_a_long_zalo_id_keeps_its_digits_in_the_excel_file_and_the_page_says_so(
    make_bot: Any, make_settings: Any, tmp_path: Path
) -> None:
    """Anh Long's Zalo id has 19 digits: Excel opening the CSV shows 5.48721E+18 and keeps
    15 of them. The Excel file writes ids as text, whole; the CSV keeps them exact for other
    tools (no quote or formula around them); the downloads page says to take the Excel file."""
    bot = await start(make_bot, make_settings, tmp_path)
    async with bot.http.get("/dashboard/downloads/members.xlsx") as resp:
        sheet = openpyxl.load_workbook(io.BytesIO(await resp.read())).active
    assert sheet is not None
    ids = {c.value: c.data_type for c in sheet["A"][1:]}
    assert ids[LONG_ID] == "s", ids  # a text cell: all 19 digits, never a rounded number
    async with bot.http.get("/dashboard/downloads/members.csv") as resp:
        text = (await resp.read()).decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["Mã thành viên"] for r in rows if r["Họ tên"] == "Lê Văn Long"] == [LONG_ID]
    async with bot.http.get("/dashboard/downloads") as resp:
        html = await resp.text()
    assert "Mã Zalo dài hơn 15 chữ số" in html and "bản Excel giữ đủ" in html, html


async def test_a_big_excel_download_is_built_while_deliveries_still_answer(
    make_bot: Any, make_settings: Any, tmp_path: Path
) -> None:
    """Chị Dung downloads a year of messages as an Excel file: while it is written the
    guards' check-ins are answered 200 and handled, the read behind it has ended before the
    file is sent, and the file holds every message with anh Long's id as text."""
    bot = await start(make_bot, make_settings, tmp_path)
    await seed_messages(bot, MESSAGES)

    download = asyncio.create_task(bot.http.get("/dashboard/downloads/messages.xlsx"))
    for i in range(5):
        status, _ = await bot.deliver(text_event("có mặt", sender=f"bv{i}", chat="g1"))
        assert status == 200
    assert not download.done()  # answered while the file was still being written
    async with await download as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        size = int(resp.headers["Content-Length"])
        assert wal_is_free(tmp_path / "antt.db")  # no snapshot kept while the file is sent
        body = await resp.read()
    await bot.drain()

    assert len(body) == size
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert sheet is not None and sheet.title == "Tin nhắn" and sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Số", "Nền tảng", "Mã nhóm/chat") and len(rows) == MESSAGES + 1
    assert rows[1][3] == LONG_ID and rows[-1][4] == f"m{MESSAGES - 1}"
    assert str(rows[1][6]).startswith("tuần tra khu B lần 0, cổng 3 bình thường")
    async with bot.sessions() as s:
        done = InboundEvent.status == "done"
        assert await s.scalar(select(func.count()).select_from(InboundEvent).where(done)) == 5


async def many_messages(n: int) -> AsyncIterator[dict[str, Any]]:
    """`n` rows as exports.rows gives messages, made on the fly (no database)."""
    for i in range(n):
        yield {
            "id": i + 1,
            "platform": "zalo_bot",
            "chat_id": "g1",
            "member_id": LONG_ID,
            "message_id": f"m{i}",
            "sent_at": T0 - timedelta(minutes=i),
            "text": f"tuần tra khu B lần {i}, cổng 3 bình thường, đã kiểm tra bình chữa cháy",
            "type": "checkin",
            "category": None,
            "kind": "text",
            "media_url": None,
        }


async def test_a_big_excel_file_is_written_without_holding_its_rows(tmp_path: Path) -> None:
    """10,000 messages to a workbook: memory does not grow with the rows (it held every cell,
    then the whole file: 35 MB traced here, 101 MB for 30,000), and every row is there."""
    cols = exports.COLUMNS["messages"]
    tracemalloc.start()
    try:
        with (tmp_path / "m.xlsx").open("wb") as out:
            n = await write_xlsx(many_messages(ROWS_TRACED), cols, out, HCM, "Tin nhắn")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == ROWS_TRACED
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MB"
    book = openpyxl.load_workbook(tmp_path / "m.xlsx", read_only=True)
    try:
        rows = book.active.iter_rows(values_only=True)  # type: ignore[union-attr]
        assert next(rows)[:2] == ("id", "platform")
        assert sum(1 for _ in rows) == ROWS_TRACED
    finally:
        book.close()
