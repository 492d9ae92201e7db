"""The propaganda calendar as a council lives it: imported from CSV, published once at its
time (never on a Sunday), read and answered by quote-reply, the quiz closed with its answer,
and the week's reach and right answers in the digest."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from bot.cli import main
from bot.keys import SETTINGS
from handlers.clock import FixedClock
from handlers.digest import build_digest
from models.tables import Outbox, PostResponse
from tests.conftest import Bot, text_event
from tests.engagement_helpers import COUNCIL, GROUPS, HANSOL, MAY, NAMES, import_roster

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TUE = datetime(2026, 12, 1, 8, 0, tzinfo=VN)
QUAN, BINH, CUONG, DUNG, EM = "u1", "u2", "u3", "u4", "u5"
STARTER = Path(__file__).resolve().parents[1] / "examples" / "posts_starter.csv"
HEADER = "at,groups,text,image_url,ack,question,answers\n"


@pytest.fixture
async def council(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    bot: Bot = await make_bot(make_settings(db=db_url, groups=GROUPS), clock=FixedClock(TUE))
    await import_roster(bot, TUE)
    return bot


async def cli(db_url: str, tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    """`antt-bot ARGV` on the bot's database and groups, in-process; (exit code, out, err)."""
    config = tmp_path / "cli.yaml"
    data = {"database": {"url": db_url}, "groups": GROUPS}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()

    def call() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main([*argv, "-c", str(config)])

    code = await asyncio.to_thread(call)
    return code, out.getvalue(), err.getvalue()


async def import_csv(db_url: str, tmp_path: Path, body: str) -> tuple[int, str, str]:
    path = tmp_path / "posts.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return await cli(db_url, tmp_path, "posts", "import", str(path))


async def say(bot: Bot, member: str, text: str, chat: str, quote: str | None = None) -> None:
    body = text_event(
        text if quote else f"@Bot ANTT {text}",
        sender=member,
        name=NAMES[member],
        chat=chat,
        group=True,
        at=bot.clock.now(),
        quote=quote,
    )
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()


async def run_posts(bot: Bot, at: datetime) -> None:
    bot.clock.set(at)
    await bot.runtime.run_job("posts")
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def test_starter_pack_imports_idempotently_and_bad_rows_are_named(
    council: Bot, db_url: str, tmp_path: Path
) -> None:
    code, out, _ = await cli(db_url, tmp_path, "posts", "import", str(STARTER))
    assert code == 0 and out.strip() == "12 created, 0 updated, 0 unchanged, 0 rejected"
    code, out, _ = await cli(db_url, tmp_path, "posts", "import", str(STARTER))
    assert code == 0 and out.strip() == "0 created, 0 updated, 12 unchanged, 0 rejected"
    code, out, _ = await cli(db_url, tmp_path, "posts", "list")
    assert code == 0 and len(out.splitlines()) == 13 and "planned" in out

    code, out, err = await import_csv(
        db_url,
        tmp_path,
        "2026-12-02 9h,,Giờ sai,,,,\n"
        "2026-12-02 09:00,gkhongco,Nhóm lạ,,,,\n"
        "2026-12-02 09:00,,Câu hỏi thiếu đáp án,,,Số báo cháy?,\n"
        "2026-12-02 10:00,,Bài đúng,,x,,\n",
    )
    assert code == 1 and out.strip() == "1 created, 0 updated, 0 unchanged, 3 rejected"
    assert "line 2: at: '2026-12-02 9h'" in err and "line 3: groups: gkhongco" in err
    assert "line 4: answers:" in err


async def test_post_published_once_at_its_time_and_not_on_a_sunday(
    council: Bot, db_url: str, tmp_path: Path
) -> None:
    await import_csv(
        db_url,
        tmp_path,
        f"2026-12-06 09:00,{MAY},Chủ nhật: lối thoát nạn phải thông thoáng.,,x,,\n",
    )
    await run_posts(council, datetime(2026, 12, 5, 20, 0, tzinfo=VN))  # Saturday: not yet
    await run_posts(council, datetime(2026, 12, 6, 9, 0, tzinfo=VN))  # Sunday: a rest day
    assert said(council, MAY) == []
    await run_posts(council, datetime(2026, 12, 7, 7, 0, tzinfo=VN))  # Monday morning
    await run_posts(council, datetime(2026, 12, 7, 7, 5, tzinfo=VN))
    [post] = said(council, MAY)
    assert post.startswith("Chủ nhật: lối thoát nạn") and "“đã đọc”" in post
    assert said(council, COUNCIL) == [] and said(council, HANSOL) == []  # only its group
    async with council.sessions() as s:
        row = (await s.execute(select(Outbox).where(Outbox.kind == "post"))).scalar_one()
    assert row.priority > 20  # below directives in the budget's order

    await say(council, CUONG, "đã đọc", MAY, quote=council.store.bot_lines(MAY)[0].message_id)
    assert said(council, MAY)[-1] == "Cảm ơn anh/chị Cường đã đọc."
    async with council.sessions() as s:
        [read] = (await s.execute(select(PostResponse))).scalars().all()
    assert read.kind == "read" and read.correct is None


async def test_quiz_scored_with_and_without_diacritics_closed_with_answer_and_in_digest(
    council: Bot, db_url: str, tmp_path: Path
) -> None:
    await import_csv(
        db_url,
        tmp_path,
        f"2026-12-01 09:00,{MAY};{HANSOL},Khi thấy cháy hãy hô to và gọi ngay số báo cháy.,,x,"
        "Số điện thoại báo cháy là?,114;một trăm mười bốn\n",
    )
    await run_posts(council, datetime(2026, 12, 1, 9, 0, tzinfo=VN))
    may_post = council.store.bot_lines(MAY)[0]
    assert "❓ Câu hỏi: Số điện thoại báo cháy là?" in may_post.text
    hansol_post = council.store.bot_lines(HANSOL)[0]

    await say(council, BINH, "114 ạ", MAY, quote=may_post.message_id)
    assert said(council, MAY)[-1] == "Đúng rồi, cảm ơn anh/chị Bình! 👏"
    await say(council, CUONG, "mot tram muoi bon", MAY, quote=may_post.message_id)
    assert said(council, MAY)[-1] == "Đúng rồi, cảm ơn anh/chị Cường! 👏"
    await say(council, DUNG, "113", MAY, quote=may_post.message_id)
    assert "đã ghi nhận câu trả lời" in said(council, MAY)[-1]
    assert "114" not in said(council, MAY)[-1]  # the answer waits for the close
    await say(council, EM, "Đã đọc", HANSOL, quote=hansol_post.message_id)

    await run_posts(council, datetime(2026, 12, 1, 20, 0, tzinfo=VN))  # not 24 hours yet
    assert not any(t.startswith("📢 Đáp án") for t in said(council, MAY))
    await run_posts(council, datetime(2026, 12, 2, 9, 0, tzinfo=VN))
    await run_posts(council, datetime(2026, 12, 2, 9, 5, tzinfo=VN))
    closes = [t for t in said(council, MAY) if t.startswith("📢 Đáp án")]
    assert closes == [
        "📢 Đáp án câu hỏi “Số điện thoại báo cháy là?”: 114.\n"
        "Có 2 người trả lời đúng. Cảm ơn mọi người!"
    ]
    await say(council, DUNG, "114", MAY, quote=may_post.message_id)  # too late
    assert said(council, MAY)[-1] == "Câu hỏi này đã hết giờ trả lời, đáp án: 114."

    async with council.sessions() as s:
        digest = await build_digest(
            s, council.app[SETTINGS], "2026-W49", now=datetime(2026, 12, 6, 20, 0, tzinfo=VN)
        )
    posts = digest.to_json()["posts"]
    assert (posts["published"], posts["reach"], posts["correct"]) == (1, 4, 2)
    assert posts["by_enterprise"] == [
        {"name": "May Việt", "reach": 3, "correct": 2},
        {"name": "Hansol", "reach": 1, "correct": 0},
    ]
    assert posts["items"][0]["answers"] == 3
    assert "📢 Tuyên truyền: 1 bài, 4 người đọc/trả lời, 2 câu trả lời đúng." in (
        digest.render_text()
    )
    code, out, _ = await cli(db_url, tmp_path, "export", "posts")
    row = json.loads(out)
    assert code == 0 and (row["reads"], row["answered"], row["correct"]) == (1, 3, 2)
    assert row["answers"] == ["114", "một trăm mười bốn"] and row["groups"] == sorted([MAY, HANSOL])
    code, out, _ = await cli(db_url, tmp_path, "export", "posts", "--format", "csv")
    [table] = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and table["Số trả lời đúng"] == "2" and table["Câu hỏi"].startswith("Số điện")


async def test_a_quiz_nobody_got_right_says_so_plainly(
    council: Bot, db_url: str, tmp_path: Path
) -> None:
    """Not "Có 0 người trả lời đúng", which reads as a form left unfilled."""
    await import_csv(
        db_url,
        tmp_path,
        f"2026-12-01 09:00,{MAY},Khi thấy cháy hãy gọi ngay số báo cháy.,,x,"
        "Số điện thoại báo cháy là?,114\n",
    )
    await run_posts(council, datetime(2026, 12, 1, 9, 0, tzinfo=VN))
    await say(council, DUNG, "113 a", MAY, quote=council.store.bot_lines(MAY)[0].message_id)
    await run_posts(council, datetime(2026, 12, 2, 9, 5, tzinfo=VN))
    assert said(council, MAY)[-1] == (
        "📢 Đáp án câu hỏi “Số điện thoại báo cháy là?”: 114.\n"
        "Chưa có ai trả lời đúng. Cảm ơn mọi người!"
    )


async def test_lichdang_shows_coordinators_the_coming_posts(
    council: Bot, db_url: str, tmp_path: Path
) -> None:
    await import_csv(
        db_url, tmp_path, "2026-12-03 09:00,,Cảnh giác tín dụng đen.,,,Có an toàn không?,không\n"
    )
    await say(council, QUAN, "/lichdang", COUNCIL)
    assert said(council, COUNCIL)[-1] == (
        "📅 Lịch đăng bài sắp tới (1 bài):\n• 09:00 03/12 – Cảnh giác tín dụng đen. (có câu hỏi)"
    )
    await say(council, BINH, "/lichdang", MAY)
    assert said(council, MAY)[-1] == "Lệnh /lichdang chỉ dành cho điều phối viên."
