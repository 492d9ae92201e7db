"""The spreadsheets people download are the same cell by cell after the write-only rewrite.

tests/data/xlsx_before.json was written by the in-memory writers (before 2026-12-06) from the
scenario below: every export kind as the dashboard and `antt-bot export` name it, one in
English, and the week's digest with anh Long on leave. Each cell's value, type and number
format, each column's width, the frozen header row and the sheet names must stay as they were.
To write the file again after an intended change: ANTT_WRITE_XLSX_SNAPSHOT=1 pytest this file.
(`incidents.vi` was added with the incidents export; the other entries did not change.)
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.export import digest_xlsx, for_people, write_xlsx
from handlers.digest import build_digest
from models import exports
from models.db import make_engine, make_sessionmaker, upgrade
from models.leave import Leave
from tests.conftest import DATA
from tests.digest_factory import END, WEEK, Factory, day, scenario

SNAPSHOT = DATA / "xlsx_before.json"
AFTER = END + timedelta(days=1)
LONG_ID = "5487214563987412365"  # 19 digits: Excel keeps 15 of a number, all of a text


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(sqlite_url)
    await upgrade(engine)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The digest's week, plus what chat text can hold: formulas, control characters,
    long lines (the width stops at 60), anh Long's 19-digit Zalo id."""
    async with sessions() as s, s.begin():
        rows = await scenario(s)
        f = Factory(s)
        long = await f.member(
            LONG_ID, "Lê Văn Long", enterprise="Cty Minh Long", groups=(rows["g1"],)
        )
        await f.message(long, day(3), "g1", text='=HYPERLINK("http://x")\x07')
        await f.message(long, day(4), "g1", text="-5 người lạ ở cổng 3")
        await f.message(long, day(5), "g1", text="tuần tra khu B " * 8)
        await f.checkin(long, day(5, 22))


def cell(value: Any) -> Any:
    """A cell's value as JSON keeps it, dates and times tagged."""
    if isinstance(value, datetime | date | time):
        return f"{type(value).__name__}:{value.isoformat()}"
    return value


def dump(data: bytes) -> list[dict[str, Any]]:
    """Every sheet as people see it: name, frozen panes, column widths, each cell."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [
        {
            "title": ws.title,
            "freeze": ws.freeze_panes,
            "widths": sorted(
                [d.min, d.max, d.width] for d in ws.column_dimensions.values() if d.customWidth
            ),
            "rows": [
                [[cell(c.value), c.data_type, c.number_format] for c in row]
                for row in ws.iter_rows()
            ],
        }
        for ws in book.worksheets
    ]


async def workbooks(sessions: async_sessionmaker[AsyncSession], tz: Any) -> dict[str, Any]:
    """Each export as the dashboard writes it (Vietnamese), messages also in English."""
    out: dict[str, Any] = {}
    for kind, lang in [(k, "vi") for k in exports.KINDS] + [("messages", "en")]:
        title = exports.TITLE_VI.get(kind, kind) if lang == "vi" else kind
        async with sessions() as s:
            buf = io.BytesIO()
            people = for_people(kind, exports.rows(s, kind), lang)
            await write_xlsx(
                people, exports.COLUMNS[kind], buf, tz, title, exports.headers(kind, lang)
            )
        out[f"{kind}.{lang}"] = dump(buf.getvalue())
    return out


async def test_every_workbook_is_the_same_cell_by_cell_as_before(
    sessions: async_sessionmaker[AsyncSession], make_settings: Any
) -> None:
    """Chị Dung downloads each export and the week's digest; anh Long (19-digit id) is on
    leave until 10/12: his id stays text, dates keep their format, nothing else moves."""
    await seed(sessions)
    settings = make_settings()
    found = await workbooks(sessions, settings.tz)
    async with sessions() as s:
        digest = await build_digest(s, settings, WEEK, AFTER)
    long = next(m for m in digest.top_members if m.member_id == LONG_ID)
    said = datetime(2026, 12, 1, 8, 0, tzinfo=settings.tz)
    until = datetime(2026, 12, 10, 17, 0, tzinfo=settings.tz)
    digest.on_leave.append((long, Leave(said, said, until)))
    found["digest"] = dump(digest_xlsx(digest))
    if os.environ.get("ANTT_WRITE_XLSX_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(found, ensure_ascii=False, indent=0) + "\n", "utf-8")
    before = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert found.keys() == before.keys()
    for name, sheets in before.items():
        assert found[name] == sheets, name
    leave = next(s for s in found["digest"] if s["title"] == "Nghỉ phép")
    assert leave["rows"][1][0] == [LONG_ID, "s", "General"]
