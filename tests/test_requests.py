"""Members' questions and requests (YCn) as a council lives them: asked in private or in a
group, with or without diacritics, forwarded to the coordinators, answered by a quote-reply or
/traloi, relayed back, and exported; the asker is told only where the question really went."""

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
from sqlalchemy import func, select

from bot.cli import main
from bot.keys import SETTINGS
from handlers.clock import FixedClock
from handlers.digest import build_digest
from models import exports
from models.tables import Ack, Incident, MemberRequest, Outbox
from tests.conftest import Bot, text_event
from tests.engagement_helpers import COUNCIL, GROUPS, MAY, NAMES, import_roster

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TUE = datetime(2026, 12, 1, 9, 0, tzinfo=VN)  # a Tuesday morning
SUNDAY_NIGHT = datetime(2026, 12, 6, 20, 0, tzinfo=VN)
QUAN, BINH, CUONG, EM = "u1", "u2", "u3", "u5"  # Quân coordinates; the others are members


async def start(make_bot: Any, make_settings: Any, db_url: str, **extra: Any) -> Bot:
    sections: dict[str, Any] = {"groups": GROUPS, **extra}
    bot: Bot = await make_bot(make_settings(db=db_url, **sections), clock=FixedClock(TUE))
    await import_roster(bot, TUE)
    return bot


@pytest.fixture
async def council(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    return await start(make_bot, make_settings, db_url)


async def say(bot: Bot, member: str, text: str, *, chat: str | None = None, **kw: Any) -> None:
    """A member writes privately, or in a group (mentioning the bot unless quoting)."""
    if chat is not None and kw.get("quote") is None:
        text = f"@Bot ANTT {text}"
    body = text_event(
        text,
        sender=member,
        name=NAMES[member],
        chat=chat,
        group=chat is not None,
        at=bot.clock.now(),
        **kw,
    )
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def cli(db_url: str, tmp_path: Path, *argv: str) -> str:
    """`antt-bot ARGV` on the bot's database, in-process (a thread: main runs its own loop)."""
    config = tmp_path / "cli.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": db_url}}), encoding="utf-8")
    out = io.StringIO()

    def call() -> int:
        with contextlib.redirect_stdout(out):
            return main([*argv, "-c", str(config)])

    assert await asyncio.to_thread(call) == 0
    return out.getvalue()


async def requests_export(bot: Bot) -> list[dict[str, Any]]:
    async with bot.sessions() as s:
        return [row async for row in exports.rows(s, "requests")]


async def count(bot: Bot, model: Any) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_private_question_forwarded_answered_by_quote_reply_and_exported(
    council: Bot, db_url: str, tmp_path: Path
) -> None:
    await say(council, QUAN, "có mặt")  # Quân has written to the bot: reachable privately
    await say(council, BINH, "Cho hỏi thủ tục đăng ký tạm trú cho công nhân mới thế nào ạ?")

    assert "đã chuyển câu hỏi (YC1) tới điều phối viên" in said(council, BINH)[-1]
    assert "anh/chị Bình" in said(council, BINH)[-1]
    forward = council.store.bot_lines(QUAN)[-1]
    assert "YC1" in forward.text and "anh/chị Bình (May Việt, 0901000002)" in forward.text
    assert "thủ tục đăng ký tạm trú" in forward.text and "/traloi YC1" in forward.text
    # A few words more, straight after, complete the question instead of being lost.
    await say(council, BINH, "cong nhan o tro ngoai KCN a")
    assert said(council, BINH)[-1] == "Bot đã chuyển thêm nội dung này vào câu hỏi YC1."
    assert (
        said(council, QUAN)[-1] == "❓ YC1 (bổ sung) – anh/chị Bình:\n“cong nhan o tro ngoai KCN a”"
    )
    council.clock.set(datetime(2026, 12, 1, 9, 30, tzinfo=VN))
    await say(council, BINH, "em gửi kèm danh sách sau nhé")  # too late to belong to YC1
    assert "YC1" not in said(council, BINH)[-1]

    council.clock.set(datetime(2026, 12, 1, 10, 15, tzinfo=VN))
    await say(council, QUAN, "Chị mang CCCD bản gốc lên phòng 2 BQL nhé", quote=forward.message_id)

    answer = said(council, BINH)[-1]
    assert "Trả lời cho câu hỏi YC1" in answer and "CCCD bản gốc" in answer
    assert "anh/chị Quân, điều phối viên" in answer
    assert said(council, QUAN)[-1] == "Bot đã chuyển câu trả lời YC1 tới anh/chị Bình."
    [line] = (await cli(db_url, tmp_path, "export", "requests")).splitlines()
    row = json.loads(line)
    assert row["code"] == "YC1" and row["member_id"] == BINH and row["answered_by"] == QUAN
    assert row["status"] == "answered" and row["answer"].startswith("Chị mang CCCD")
    assert datetime.fromisoformat(row["asked_at"]) == TUE
    assert datetime.fromisoformat(row["answered_at"]) == datetime(2026, 12, 1, 10, 15, tzinfo=VN)
    assert row["text"].endswith("thế nào ạ?\ncong nhan o tro ngoai KCN a")
    table = list(
        csv.DictReader(
            io.StringIO(
                await cli(db_url, tmp_path, "export", "requests", "--format", "csv", "--lang", "en")
            )
        )
    )
    assert table[0]["Code"] == "YC1" and table[0]["Answered by"] == QUAN
    async with council.sessions() as session:  # the weekly digest lists the week's requests
        built = await build_digest(session, council.app[SETTINGS], "2026-W49", now=SUNDAY_NIGHT)
    digest = built.to_json()
    assert [(r["code"], r["member_id"]) for r in digest["requests"]] == [("YC1", BINH)]
    assert digest["requests"][0]["answered_at"].startswith("2026-12-01T10:15")
    assert set(exports.COLUMNS["requests"]) >= {
        "id",
        "code",
        "member_id",
        "text",
        "asked_at",
        "answered_at",
        "answer",
        "answered_by",
    }


@pytest.mark.parametrize(
    "asked", ["hôm qua ai trực ca 3 cổng sau vậy", "kho 2 chia khoa ai giu the"]
)
async def test_who_was_on_duty_asked_in_private_reaches_a_coordinator(
    council: Bot, asked: str
) -> None:
    """A question word after a time or a place asks: it was read as chat and got only a hint."""
    await say(council, QUAN, "có mặt")
    await say(council, BINH, asked)
    assert "đã chuyển câu hỏi (YC1) tới điều phối viên" in said(council, BINH)[-1]
    forward = said(council, QUAN)[-1]
    assert "YC1" in forward and asked in forward, forward
    async with council.sessions() as s:
        assert (await s.execute(select(MemberRequest.text))).scalar_one() == asked


async def test_thanks_after_a_question_are_not_added_to_it(council: Bot) -> None:
    """ "cảm ơn bot" right after asking is politeness: not forwarded as more of the question."""
    await say(council, QUAN, "có mặt")
    await say(council, BINH, "Mai mấy giờ họp giao ban ạ?")
    to_quan = len(said(council, QUAN))
    for thanks in ("cảm ơn bot", "Cám ơn anh nhiều ạ"):
        await say(council, BINH, thanks)
    assert len(said(council, QUAN)) == to_quan
    assert "YC1" in said(council, BINH)[-1]  # the last word to Bình is still the forward
    async with council.sessions() as s:
        assert (await s.execute(select(MemberRequest.text))).scalar_one() == (
            "Mai mấy giờ họp giao ban ạ?"
        )


async def test_group_question_without_diacritics_goes_to_the_council_group_when_no_one_is_private(
    council: Bot,
) -> None:
    await say(council, EM, "cho hoi lich tap huan pccc thang 12 khi nao a", chat=COUNCIL)

    reply = said(council, COUNCIL)
    # The truth: no coordinator has a private chat, so the forward went to the council group.
    assert any("chưa nhắn riêng được cho điều phối viên" in t and "YC1" in t for t in reply)
    assert any(t.startswith("❓ YC1: anh/chị Em (Hansol") for t in reply)
    assert said(council, QUAN) == []
    async with council.sessions() as s:
        req = (await s.execute(select(MemberRequest))).scalar_one()
    assert req.forwarded_to == "council" and req.chat_id == COUNCIL

    await say(council, QUAN, "/traloi yc1 Ngày 15/12 tại hội trường BQL, mỗi cty cử 2 người")
    assert said(council, QUAN)[-1] == "Bot đã chuyển câu trả lời YC1 tới anh/chị Em."
    assert "Ngày 15/12 tại hội trường BQL" in said(council, COUNCIL)[-1]
    await say(council, QUAN, "/traloi YC1 thêm: mang theo sổ")
    assert "YC1 đã được anh/chị Quân trả lời lúc 09:00 01/12" in said(council, QUAN)[-1]
    assert (await requests_export(council))[0]["answer"].startswith("Ngày 15/12")


async def test_thanks_with_nothing_pending_is_thanked_back_not_told_how_to_report(
    council: Bot,
) -> None:
    await say(council, BINH, "cam on bot")
    assert said(council, BINH)[-1] == "Dạ, không có gì ạ. Cần gì anh/chị Bình cứ nhắn bot nhé!"
    await say(council, BINH, "Cám ơn anh nhiều ạ")  # once a day is enough
    await say(council, BINH, "xin chào")  # the day's hint is still there for what is unclear
    assert said(council, BINH)[-1].startswith("Chào anh/chị Bình! Bot đã ghi nhận tin nhắn.")
    assert len(said(council, BINH)) == 2


async def test_coordinators_chat_and_nobody_reachable_are_told_honestly(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    bot = await start(make_bot, make_settings, db_url, coordinators=["gdieuphoi"])
    await say(bot, CUONG, "Công ty em cần hỗ trợ tập huấn PCCC cho công nhân mới")
    assert "vào nhóm điều phối viên" in said(bot, CUONG)[-1]
    assert "YC1" in said(bot, "gdieuphoi")[-1]
    assert await count(bot, Incident) == 0  # a plea for help is no inspection report


async def test_nobody_reachable_the_asker_is_told_so(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    bot = await start(make_bot, make_settings, db_url, groups=GROUPS[1:])  # no council group
    await say(bot, CUONG, "nho ban quan ly huong dan giup thu tuc cap phep xe ra vao")
    assert "chưa chuyển được cho điều phối viên nào" in said(bot, CUONG)[-1]
    assert "đã chuyển" not in said(bot, CUONG)[-1]
    async with bot.sessions() as s:
        assert (await s.execute(select(MemberRequest.forwarded_to))).scalar_one() == "none"
        assert (
            await s.execute(select(func.count()).where(Outbox.kind == "request"))
        ).scalar_one() == 0


async def test_sunday_question_waits_for_monday_and_the_asker_is_told_when(
    council: Bot,
) -> None:
    await say(council, QUAN, "có mặt")
    council.clock.set(datetime(2026, 12, 6, 15, 0, tzinfo=VN))  # Sunday afternoon
    await say(council, BINH, "Xin hỏi tuần sau có kiểm tra PCCC ở May Việt không?")
    assert "sẽ chuyển tới điều phối viên lúc 07:00 thứ Hai 07/12" in said(council, BINH)[-1]
    assert not any("YC1" in t for t in said(council, QUAN))  # a rest day: nothing sent

    council.clock.set(datetime(2026, 12, 7, 7, 0, tzinfo=VN))
    await council.drain()
    assert "YC1" in said(council, QUAN)[-1]


async def test_answer_before_the_morning_withdraws_the_held_forward(council: Bot) -> None:
    await say(council, QUAN, "có mặt")
    council.clock.set(datetime(2026, 12, 1, 23, 0, tzinfo=VN))  # quiet hours
    await say(council, BINH, "ca đêm nay ai trực cổng 3 vậy?")
    await say(council, QUAN, "/traloi YC1 Anh Cường trực cổng 3")
    council.clock.set(datetime(2026, 12, 2, 7, 30, tzinfo=VN))
    await council.drain()
    assert not any(t.startswith("❓ YC1") for t in said(council, QUAN))
    assert "Anh Cường trực cổng 3" in said(council, BINH)[-1]


async def test_what_is_not_a_request(council: Bot) -> None:
    await say(council, QUAN, "có mặt")
    await say(council, BINH, "Cháy ở xưởng 2 cty May Việt, giúp với!")  # a fire, not a question
    await say(council, CUONG, "Đã hỗ trợ cty May Việt kiểm tra PCCC xưởng 2 xong")  # help given
    await say(council, QUAN, "Ai trực cổng 3 tối nay?")  # coordinators ask, they do not request
    await say(council, BINH, "ai trực cổng 3 tối nay?", chat=MAY, quote="not-a-bot-message")
    async with council.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(MemberRequest))).scalar_one() == 0
        categories = dict((await s.execute(select(Incident.category, Incident.status))).all())
    assert categories == {"fire": "reported", "inspection": "noted"}


async def test_not_received_under_a_directive_reaches_the_coordinators(council: Bot) -> None:
    """ "chưa nhận được văn bản, đề nghị gửi lại" quoting a directive: only a coordinator can
    resend it, so it is a request, not a message nobody hears of."""
    await say(council, QUAN, "có mặt")
    await say(council, QUAN, "/thongbao Triển khai kế hoạch kiểm tra PCCC theo văn bản đính kèm")
    post = council.store.bot_lines(COUNCIL)[-1]
    assert "THÔNG BÁO TB1" in post.text
    await say(
        council,
        BINH,
        "Em chưa nhận được văn bản, đề nghị gửi lại ạ",
        chat=COUNCIL,
        quote=post.message_id,
    )
    assert "YC1" in said(council, COUNCIL)[-1]
    assert "chưa nhận được văn bản" in said(council, QUAN)[-1]
    await say(council, EM, "/-weak")  # a frown alone: nothing to pass on
    assert await count(council, MemberRequest) == 1


async def test_an_acknowledgement_with_a_question_records_both(council: Bot) -> None:
    await say(council, QUAN, "có mặt")
    await say(council, QUAN, "/thongbao Các đơn vị báo cáo quân số ca đêm")
    post = council.store.bot_lines(COUNCIL)[-1]
    await say(
        council,
        BINH,
        "em nhận ạ, mà hạn báo cáo là khi nào ạ?",
        chat=COUNCIL,
        quote=post.message_id,
    )
    await say(council, EM, "đã nhận, báo cáo gửi ai ạ?")
    assert await count(council, Ack) == 2
    assert [r["member_id"] for r in await requests_export(council)] == [BINH, EM]
    assert "hạn báo cáo là khi nào" in said(council, QUAN)[-2]


@pytest.mark.parametrize(
    "text",
    [
        "em nhận được rồi ạ, nhưng em xin vắng vì đang trực",
        "em nhan duoc roi a, nhung em xin vang vi dang truc",
        "đã nhận, em báo đến muộn 30 phút",
    ],
)
async def test_an_acknowledgement_with_an_absence_records_both(council: Bot, text: str) -> None:
    """Chị Bình answers the meeting notice in the group: she has it, and will be away (or
    late). Both are said back, and the notice's tally counts her."""
    await say(council, QUAN, "có mặt")
    await say(council, QUAN, "Thông báo: 14h chiều nay họp giao ban tại BQL", chat=COUNCIL)
    await say(council, BINH, text, chat=COUNCIL)
    answer = said(council, COUNCIL)[-1]
    assert answer.startswith("👍 Đã ghi nhận anh/chị Bình xác nhận thông báo TB1.\n"), answer
    assert "vắng" in answer or "muộn" in answer
    assert await count(council, Ack) == 1


async def test_yeucau_lists_open_requests_and_traloi_checks_its_input(council: Bot) -> None:
    await say(council, QUAN, "có mặt")
    await say(council, BINH, "Cho hỏi khi nào có lịch họp hội đồng quý 4?")
    council.clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=VN))
    await say(council, CUONG, "Xin hỏi mẫu báo cáo tháng lấy ở đâu ạ?")

    await say(council, QUAN, "/yeucau")
    listing = said(council, QUAN)[-1]
    assert listing.startswith("Yêu cầu đang chờ trả lời (2):")
    assert "YC1 anh/chị Bình (May Việt), đã chờ 2 ngày" in listing
    assert "YC2 anh/chị Cường (May Việt), hỏi hôm nay" in listing

    await say(council, BINH, "/yeucau")
    assert "YC1" in said(council, BINH)[-1] and "YC2" not in said(council, BINH)[-1]
    await say(council, BINH, "/traloi YC2 tự trả lời")
    assert "dành cho điều phối viên" in said(council, BINH)[-1]
    for bad, answer in (
        ("/traloi", "Cách dùng: /traloi"),
        ("/traloi YC9 ok", "không tìm thấy yêu cầu YC9"),
        ("/traloi YC2", "nhập nội dung trả lời"),
    ):
        await say(council, QUAN, bad)
        assert answer in said(council, QUAN)[-1]
    await say(council, QUAN, "/traloi YC2 Trên trang BQL, mục Biểu mẫu")
    await say(council, QUAN, "/traloi #1 Họp ngày 20/12")
    await say(council, QUAN, "/yeucau")
    assert said(council, QUAN)[-1] == "Không có yêu cầu nào đang chờ trả lời."


@pytest.mark.parametrize(
    "text",
    [
        "đồng chí Quân cho xin danh sách các doanh nghiệp chưa nộp báo cáo tháng 11",
        "dong chi Quan cho xin danh sach cac doanh nghiep chua nop bao cao thang 11",
        "anh gửi giúp em mẫu báo cáo tuần với ạ",
        "cho em xin số điện thoại đội PCCC khu B",
    ],
)
async def test_asking_a_coordinator_for_something_is_a_request(council: Bot, text: str) -> None:
    """'cho xin …', 'gửi giúp …': the member wants something only a coordinator can give."""
    await say(council, QUAN, "có mặt")
    await say(council, BINH, text)
    assert "YC1" in said(council, BINH)[-1]
    assert "YC1" in said(council, QUAN)[-1]


async def test_asking_for_leave_is_no_request(council: Bot) -> None:
    await say(council, QUAN, "có mặt")
    await say(council, BINH, "cho em xin nghỉ phép ngày mai ạ")
    assert "vắng" in said(council, BINH)[-1]
    assert await count(council, MemberRequest) == 0


@pytest.mark.parametrize("typed", ["?", "??", "gì vậy ạ?", "hả?", "alo?", "😕?"])
async def test_a_question_with_nothing_in_it_is_asked_back_not_forwarded(
    council: Bot, typed: str
) -> None:
    """Bình types "alo", then a lone "?": there is no question to pass on, so the coordinators
    are not woken by a YC that says "?"; she is asked what she wants to ask. Her real
    question next is forwarded as usual."""
    await say(council, QUAN, "có mặt")
    before = len(said(council, QUAN))
    await say(council, BINH, "alo")
    await say(council, BINH, typed)
    assert said(council, BINH)[-1] == (
        "Anh/chị Bình muốn hỏi gì ạ? Anh/chị nhắn rõ câu hỏi, bot sẽ chuyển tới điều phối viên."
    )
    assert len(said(council, QUAN)) == before and await count(council, MemberRequest) == 0
    await say(council, BINH, "chi oi mai may gio hop giao ban a?")
    assert "YC1" in said(council, QUAN)[-1]
