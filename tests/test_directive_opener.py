"""A coordinator posts a notice the way coordinators write: "Thông báo: ..." in the group.

Anh Quân coordinates the council; anh Tài and chị Lan guard May Việt (the cast of
tests/test_requests_howto.py). He does not type slash commands: a message of his that opens
with "Thông báo:" (or "TB:", "thong bao khan:") in a group is posted as /thongbao would post
it. In private the opener only gets a hint. A member's "Thông báo:" (anh Tài relaying a
notice) is kept as his message: no notice to acknowledge, and no question for a coordinator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models.tables import Directive, Incident, MemberRequest, Message
from tests.council_week_cast import HD, at
from tests.fake_zalo import FakeZalo
from tests.test_council_week import zalo
from tests.test_requests_howto import park, rows

__all__ = ["zalo"]  # fixture: the fake Zalo server

NOTICE = "từ mai các tổ bảo vệ tăng cường tuần tra khu nhà xe ca đêm, đề nghị các đồng chí xác nhận"


async def test_a_coordinators_thong_bao_in_the_group_is_a_notice_members_acknowledge(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("quan", f"Thông báo: {NOTICE}", at("Mon", "08:00"), group=HD)
    # The group reads the notice, and anh Quân's receipt there, as /thongbao in the group.
    sent, post = p.received(HD)
    assert sent == (
        "Đã gửi thông báo TB1 tới Hội đồng ANTT KCN. Cần 2 người xác nhận trước 08:00 01/12."
    )
    first_line = NOTICE[0].upper() + NOTICE[1:]  # posted with a capital
    assert post.startswith(f"📢 THÔNG BÁO TB1\n{first_line}\n\n") and '"đã nhận"' in post
    assert p.received("quan") == []
    await p.says("tai", "ok anh", at("Mon", "08:10"), group=HD)
    assert p.received(HD) == ["👍 Đã ghi nhận anh Tài xác nhận thông báo TB1. Cảm ơn anh!"]
    await p.says("quan", "/thongbao", at("Mon", "08:20"))
    assert p.received("quan") == ["• TB1 (08:00 30/11): 1/2 đã nhận; chưa nhận: chị Lan"]


@pytest.mark.parametrize(
    "text",
    [
        "TB: kiểm tra khóa kho trước 22h",
        "thong bao khan: kiểm tra khóa kho trước 22h",
        "THÔNG BÁO KHẨN :  kiểm tra khóa kho trước 22h",
        "Thông báo\nKiểm tra khóa kho trước 22h",
    ],
)
async def test_every_way_of_opening_a_notice_posts_one(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("quan", text, at("Mon", "08:00"), group=HD)
    sent, post = p.received(HD)
    assert sent.startswith("Đã gửi thông báo TB1 tới Hội đồng ANTT KCN.")
    # The words after the opener, as the notice's first line: with a capital.
    assert post.split("\n")[1] == "Kiểm tra khóa kho trước 22h"


async def test_a_members_thong_bao_and_a_coordinators_mid_sentence_one_post_nothing(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", "thong bao: mai em nghi", at("Mon", "08:00"), group=HD)
    await p.says("quan", "anh sẽ thông báo: mai họp", at("Mon", "08:05"), group=HD)
    await p.says("quan", "thông báo cho các tổ biết nhé", at("Mon", "08:06"), group=HD)
    assert not any("THÔNG BÁO" in line for line in p.received(HD))
    assert await rows(p.bot, Directive) == 0


async def test_in_private_the_opener_tells_the_coordinator_how_to_send_it(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("quan", f"Thông báo: {NOTICE}", at("Mon", "08:00"))
    assert p.received("quan") == [
        "Bot chưa gửi tin này tới các nhóm. Để gửi thông báo cần xác nhận, anh gõ"
        " /thongbao <nội dung> (gửi mọi nhóm) hoặc /thongbao [tên nhóm] <nội dung>"
        " (gửi một nhóm)."
    ]
    assert p.received(HD) == []
    assert await rows(p.bot, Directive) == 0


# Decided: a member's "Thông báo: ..." in a group (anh Tài relaying what the police asked of
# the enterprises) is information shared with the group. It is kept as a message; it is no
# question for a coordinator (no YC) and no notice to acknowledge (no TB). The bot says so
# once a day in a line, or he would wait for acknowledgements nobody is asked for.
MEMBERS_NOTICE = (
    "Bot đã lưu tin của anh Tài. Bot chỉ theo dõi xác nhận đối với thông báo của điều phối viên."
)


@pytest.mark.parametrize(
    "text",
    [
        "Thông báo: đề nghị các doanh nghiệp kiểm tra hệ thống PCCC trước thứ 6",
        "thong bao: de nghi cac doanh nghiep kiem tra he thong pccc truoc thu 6",
        "TB: các đơn vị đã nộp báo cáo tháng chưa?",
        "tb: cac don vi da nop bao cao thang chua?",
        "Thông báo\nCông an KCN đề nghị doanh nghiệp cần hỗ trợ đăng ký tạm trú liên hệ anh Tài",
    ],
)
async def test_a_members_thong_bao_in_the_group_is_kept_as_a_message_not_a_question(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", text, at("Mon", "09:00"), group=HD)
    assert p.received(HD) == [MEMBERS_NOTICE]
    assert p.received("quan") == [] and p.received("tai") == []
    assert await rows(p.bot, MemberRequest) == 0
    assert await rows(p.bot, Directive) == 0
    async with p.bot.sessions() as s:
        kept = (await s.execute(select(Message.text).where(Message.member_id == "tai"))).scalars()
        assert any(text in said for said in kept)
    # A second one the same day is kept the same way, without a second line to the group.
    await p.says("tai", text, at("Mon", "15:00"), group=HD)
    assert p.received(HD) == []
    assert await rows(p.bot, MemberRequest) == 0


@pytest.mark.parametrize(
    "text", ["anh ơi thông báo họp mấy giờ vậy", "anh oi thong bao hop may gio vay"]
)
async def test_a_members_question_about_a_notice_is_still_a_question(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", text, at("Mon", "09:00"), group=HD)
    assert p.received(HD) == [
        "Cảm ơn anh Tài! Bot đã chuyển câu hỏi (YC1) tới điều phối viên."
        " Khi có trả lời, bot sẽ báo lại ngay."
    ]
    (forward,) = p.received("quan")
    assert forward.startswith("❓ YC1: anh Tài (May Việt, 0902000041) hỏi trong nhóm")
    assert await rows(p.bot, MemberRequest) == 1


async def test_a_members_urgent_thong_bao_of_a_fire_is_still_a_report(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    text = "Thông báo khẩn: cháy kho xưởng 2 Cty May Việt, mọi người sơ tán ngay"
    await p.says("tai", text, at("Mon", "09:00"), group=HD)
    (alert,) = p.received("quan")
    assert alert.startswith("🚨 KHẨN: cháy/nổ")
    assert MEMBERS_NOTICE not in p.received(HD)
    assert await rows(p.bot, Incident) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Thông báo khẩn\nCông an KCN cần hỗ trợ xác minh 2 công nhân tạm trú",
        "Thong bao khan\nCong an KCN can ho tro xac minh 2 cong nhan tam tru",
    ],
)
async def test_a_members_urgent_request_to_verify_workers_wakes_no_coordinator(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> None:
    """Anh Tài relays what the police ask: help checking two workers' residence. It is kept
    as his notice (before: an urgent incident, anh Quân alerted)."""
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", text, at("Mon", "09:00"), group=HD)
    assert p.received(HD) == [MEMBERS_NOTICE]
    assert p.received("quan") == []
    assert await rows(p.bot, Incident) == 0


async def test_a_members_urgent_thong_bao_of_workers_hurt_is_still_a_report(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    text = "thông báo khẩn: có 2 công nhân bị thương ở xưởng 3"
    await p.says("tai", text, at("Mon", "09:00"), group=HD)
    (alert,) = p.received("quan")
    assert alert.startswith("🚨 KHẨN"), alert
    assert await rows(p.bot, Incident) == 1


@pytest.mark.parametrize("text", ["Thông báo: cháy kho 2", "TB: cháy kho 2 cty May Việt rồi"])
async def test_a_members_thong_bao_of_a_fire_without_khan_still_wakes_quan(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> None:
    """Without "khẩn", a fire relayed as a notice read as a notice: the group heard "Bot đã
    lưu tin" and nobody was alerted. A fire at a numbered place is the fire."""
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", text, at("Mon", "09:00"), group=HD)
    (alert,) = p.received("quan")
    assert alert.startswith("🚨 KHẨN: cháy/nổ"), alert
    assert MEMBERS_NOTICE not in p.received(HD)
    assert await rows(p.bot, Incident) == 1


async def test_a_notice_of_the_years_fires_or_a_drill_wakes_nobody(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    for text in (
        "Thông báo: 6 tháng đầu năm, các KCN trong tỉnh xảy ra 12 vụ cháy, giảm 3 vụ",
        "Thông báo: 14h chiều nay diễn tập PCCC tại xưởng 2, giả định cháy kho",
    ):
        await p.says("tai", text, at("Mon", "09:00"), group=HD)
    assert p.received("quan") == []
