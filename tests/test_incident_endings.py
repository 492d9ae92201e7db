"""How incidents end and what joins them, as a council lived it in the demo week.

Anh Nam guards May Việt, chị Mai guards Hansol; anh Quân coordinates and has written to the
bot privately. Members @mention the bot in their enterprise's group. A reporter who finds it
was nothing says so in his words ("không phải cháy", "đã tìm thấy xe"); a coordinator names
an incident by its code in free text ("đóng SV1, …"); a reporter quotes the bot's receipt to
add to her report. Real webhook, processor, jobs and sender (local platform), movable clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from handlers.text import fold
from models.roster import import_roster_csv
from models.tables import Incident, IncidentEvent
from tests.conftest import Bot, member_says
from tests.engagement_helpers import GROUPS, HANSOL, MAY

MORNING = datetime(2026, 12, 7, 1, 41, tzinfo=UTC)  # 08:41 Monday 07/12 in Hanoi
EVENING = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)  # 19:30 the same day
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Trần Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet;ghansol,anh
u2,Hoàng Văn Nam,0901000002,May Việt,member,gcouncil;gmayviet,anh
u3,Nguyễn Thị Mai,0901000003,Hansol,member,gcouncil;ghansol,chị
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
MENTION = "@Bot ANTT "


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS)
    b: Bot = await make_bot(settings, clock=FixedClock(MORNING))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, MORNING)).errors == []
    await say(b, "u1", "chào bot")  # Quân is reachable in private
    return b


async def say(bot: Bot, who: str, text: str, group: str | None = None, quote: str = "") -> None:
    """`who` writes `text` in `group` (or privately), at the clock's time."""
    await member_says(bot, who, NAMES[who], text, group, quote)


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def incident(bot: Bot, number: int) -> Incident:
    async with bot.sessions() as s:
        row = await s.get(Incident, number)
        assert row is not None
        return row


async def steps(bot: Bot, number: int) -> list[tuple[str, str | None]]:
    """The incident's timeline after its report and alert: (kind, note)."""
    async with bot.sessions() as s:
        stmt = (
            select(IncidentEvent.kind, IncidentEvent.note)
            .where(IncidentEvent.incident_pk == number)
            .order_by(IncidentEvent.id)
        )
        rows = (await s.execute(stmt)).all()
    return [(k, n) for k, n in rows if k not in ("report", "alert")]


# ------------------------------------------------- a reporter's false alarm, said as a patrol

NO_FIRE = [
    "kiểm tra rồi, do công nhân đốt rác sau kho, không phải cháy",
    "kiem tra roi, do cong nhan dot rac sau kho, khong phai chay",
]


@pytest.mark.parametrize("words", NO_FIRE)
async def test_the_reporter_finding_no_fire_behind_the_store_withdraws_it(
    bot: Bot, words: str
) -> None:
    await say(bot, "u2", MENTION + "có mùi khét ở kho thành phẩm", group=MAY)
    assert said(bot, "u1")[-1].startswith("🚨 KHẨN: cháy/nổ tại kho thành phẩm (SV1)")

    # Four minutes on, he found workers burning rubbish behind the store.
    bot.clock.advance(timedelta(minutes=4))
    await say(bot, "u2", MENTION + words, group=MAY)
    assert said(bot, MAY)[-1] == "Đã đánh dấu sự việc SV1 là báo nhầm."
    assert said(bot, "u1")[-1] == (
        f'Sự việc SV1: anh Nam nhắn "{words}". Bot đã đóng sự việc, không cần xử lý nữa.'
    )
    fire = await incident(bot, 1)
    assert fire.status == "false_alarm" and fire.next_escalation_at is None
    assert await steps(bot, 1) == [("false_alarm", words)]
    assert not any("tuần tra" in line for line in said(bot, MAY))


async def test_a_round_saying_no_fire_is_still_a_patrol(bot: Bot) -> None:
    await say(bot, "u2", MENTION + "có mùi khét ở kho thành phẩm", group=MAY)
    bot.clock.advance(timedelta(minutes=4))
    await say(bot, "u2", MENTION + "tuần tra khu B, không có cháy nổ", group=MAY)
    assert (await incident(bot, 1)).status == "reported"


# ------------------------------------------------------------------- a theft that was not

THEFT = "mất 1 xe máy ở bãi xe công nhân, biển số 59X1-234.56, camera đang trích xuất"


async def theft_taken(bot: Bot) -> None:
    """Chị Mai reports the motorbike gone at 19:30; anh Quân takes it in private."""
    bot.clock.set(EVENING)
    await say(bot, "u3", MENTION + THEFT, group=HANSOL)
    assert "(sự việc SV1)" in said(bot, HANSOL)[-1]
    await say(bot, "u1", "/xuly SV1")
    assert said(bot, "u1")[-1] == "Đã ghi nhận: anh Quân đang xử lý sự việc SV1."
    bot.clock.advance(timedelta(minutes=75))  # 20:45


@pytest.mark.parametrize(
    "words",
    ["đã tìm thấy xe, do công nhân khác dắt nhầm", "da tim thay xe, do cong nhan khac dat nham"],
)
async def test_the_bike_taken_by_mistake_ends_the_theft_as_a_false_alarm(
    bot: Bot, words: str
) -> None:
    await theft_taken(bot)
    await say(bot, "u3", MENTION + words, group=HANSOL)
    assert said(bot, HANSOL)[-1] == "Đã đánh dấu sự việc SV1 là báo nhầm."
    # Nothing was stolen: a false alarm, which anh Quân (handling it) reads in her words.
    assert said(bot, "u1")[-1] == (
        f'Sự việc SV1: chị Mai nhắn "{words}". Bot đã đóng sự việc, không cần xử lý nữa.'
    )
    theft = await incident(bot, 1)
    assert theft.status == "false_alarm" and theft.handler_pk is not None
    assert (await steps(bot, 1))[-1] == ("false_alarm", words)


@pytest.mark.parametrize("words", ["tìm thấy rồi", "xe đã tìm được", "tim thay xe roi"])
async def test_the_bike_found_settles_the_theft_in_her_words(bot: Bot, words: str) -> None:
    await theft_taken(bot)
    await say(bot, "u3", MENTION + words, group=HANSOL)
    assert said(bot, HANSOL)[-1] == "Đã đóng sự việc SV1: đã ổn. Cảm ơn chị!"
    assert said(bot, "u1")[-1] == (
        f'Sự việc SV1: chị Mai nhắn "{words}". Bot đã đóng sự việc, không cần xử lý nữa.'
    )
    assert (await incident(bot, 1)).status == "settled"


@pytest.mark.parametrize(
    ("who", "words"),
    [
        ("u3", "vẫn chưa tìm thấy xe"),
        ("u3", "chua tim thay xe"),
        ("u3", "công an đã tìm thấy đối tượng lấy xe"),
        ("u1", "đã tìm thấy xe chưa?"),
    ],
)
async def test_the_bike_not_found_keeps_the_theft_open(bot: Bot, who: str, words: str) -> None:
    await theft_taken(bot)
    await say(bot, who, (MENTION + words) if who == "u3" else words, group=HANSOL)
    assert (await incident(bot, 1)).status == "handling"


async def test_found_says_nothing_of_a_fire(bot: Bot) -> None:
    await say(bot, "u2", MENTION + "có mùi khét ở kho thành phẩm", group=MAY)
    await say(bot, "u2", MENTION + "tìm thấy rồi", group=MAY)
    assert (await incident(bot, 1)).status == "reported"


# ------------------------------------------------------------ a code named in free text

STRIKE = "công nhân xưởng 2 ngừng việc tập trung trước cổng, khoảng 150 người"


async def two_open(bot: Bot) -> None:
    """SV1: a stoppage at May Việt (anh Nam); SV2: a theft at Hansol (chị Mai), which anh Quân
    is handling."""
    await say(bot, "u2", MENTION + STRIKE, group=MAY)
    await say(bot, "u3", MENTION + "có trộm ở kho 5", group=HANSOL)
    await say(bot, "u1", "/xuly SV2")
    bot.clock.advance(timedelta(minutes=30))


@pytest.mark.parametrize(
    ("words", "note"),
    [
        (
            "đóng SV1, công nhân đã vào làm lại bình thường",
            "công nhân đã vào làm lại bình thường",
        ),
        (
            "dong SV1, cong nhan da vao lam lai binh thuong",
            "cong nhan da vao lam lai binh thuong",
        ),
    ],
)
async def test_closing_the_incident_he_names_not_the_one_he_handles(
    bot: Bot, words: str, note: str
) -> None:
    await two_open(bot)
    await say(bot, "u1", words)
    assert said(bot, "u1")[-1] == "Đã đóng sự việc SV1: xử lý xong. Cảm ơn anh!"
    # Anh Nam's group reads how it ended, as after "/xong SV1 <note>".
    assert said(bot, MAY)[-1] == (
        f'Sự việc SV1 (đình công/ngừng việc) anh báo đã được xử lý xong: "{note}". Cảm ơn anh!'
    )
    strike, theft = await incident(bot, 1), await incident(bot, 2)
    assert strike.status == "resolved" and strike.next_escalation_at is None
    assert (await steps(bot, 1))[-1] == ("resolved", note)
    assert theft.status == "handling" and await steps(bot, 2) == [("handling", "")]


@pytest.mark.parametrize(
    "words", ["SV1 xong rồi", "sv1 da xu ly xong", "kết thúc SV1", "đã xử lý xong SV1"]
)
async def test_short_words_closing_a_named_incident(bot: Bot, words: str) -> None:
    await two_open(bot)
    await say(bot, "u1", words)
    assert said(bot, "u1")[-1] == "Đã đóng sự việc SV1: xử lý xong. Cảm ơn anh!"
    assert said(bot, MAY)[-1] == (
        "Sự việc SV1 (đình công/ngừng việc) anh báo đã được xử lý xong. Cảm ơn anh!"
    )
    assert (await incident(bot, 1)).status == "resolved"
    assert (await incident(bot, 2)).status == "handling"


async def test_other_words_naming_an_incident_join_it(bot: Bot) -> None:
    await two_open(bot)
    await say(bot, "u1", "SV1: công an KCN đã tới làm việc với đại diện công nhân")
    assert said(bot, "u1")[-1] == (
        'Đã bổ sung vào sự việc SV1: "SV1: công an KCN đã tới làm việc với đại diện công '
        'nhân". Cảm ơn anh!'
    )
    assert (await steps(bot, 1))[-1][0] == "update"
    assert await steps(bot, 2) == [("handling", "")]
    assert (await incident(bot, 1)).status == "reported"


async def test_a_member_naming_a_code_closes_nothing(bot: Bot) -> None:
    await two_open(bot)
    await say(bot, "u3", MENTION + "SV1 xong rồi", group=HANSOL)
    assert (await incident(bot, 1)).status == "reported"


@pytest.mark.parametrize(
    "words", ["các đồng chí kiểm tra xong báo lại SV1", "SV1 chưa xong", "SV1 xong chưa?"]
)
async def test_an_order_or_a_question_naming_a_code_closes_nothing(bot: Bot, words: str) -> None:
    await two_open(bot)
    await say(bot, "u1", words)
    assert (await incident(bot, 1)).status == "reported"
    assert (await incident(bot, 2)).status == "handling"


# ------------------------------------------------------ a quoted reply to the bot's receipt

SMALL_FIRE = "Cháy nhỏ ở máy ép nhựa xưởng 3, đã dập bằng bình CO2, không ai bị thương"


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (3, "có ảnh đây ạ, thiệt hại nhẹ 1 động cơ"),
        (3, "co anh day a, thiet hai nhe 1 dong co"),
        (50, "có ảnh đây ạ, thiệt hại nhẹ 1 động cơ"),  # past the details window
    ],
)
async def test_a_reply_quoting_the_receipt_joins_its_incident(
    bot: Bot, minutes: int, words: str
) -> None:
    await say(bot, "u3", MENTION + SMALL_FIRE, group=HANSOL)
    receipt = next(x for x in bot.store.bot_lines(HANSOL) if "báo cáo số 1" in x.text)
    assert "(sự việc SV1)" in receipt.text
    assert said(bot, "u1")[-1].startswith("🚨 KHẨN: cháy/nổ tại xưởng 3 (SV1)")

    bot.clock.advance(timedelta(minutes=minutes))
    await say(bot, "u3", words, group=HANSOL, quote=receipt.message_id)
    assert said(bot, HANSOL)[-1] == (
        f'Đã bổ sung vào sự việc SV1: "{words}". Cảm ơn chị! Bot đã báo thêm cho anh Quân.'
    )
    assert said(bot, "u1")[-1] == f'Sự việc SV1 (cháy/nổ tại xưởng 3): chị Mai báo thêm "{words}".'
    assert await steps(bot, 1) == [("detail", words)]
    async with bot.sessions() as s:
        assert len((await s.execute(select(Incident))).scalars().all()) == 1


async def test_thanks_quoting_the_receipt_adds_nothing(bot: Bot) -> None:
    await say(bot, "u3", MENTION + SMALL_FIRE, group=HANSOL)
    receipt = next(x for x in bot.store.bot_lines(HANSOL) if "báo cáo số 1" in x.text)
    await say(bot, "u3", "cảm ơn bot", group=HANSOL, quote=receipt.message_id)
    assert await steps(bot, 1) == []


# ------------------------------------------------------------- workers' lodgings, a village

GAMBLING = "BÁO CÁO: KHU NHÀ TRỌ CÔNG NHÂN THÔN 3 CÓ TỤ TẬP ĐÁNH BẠC, KHOẢNG 8 NGƯỜI"


@pytest.mark.parametrize("words", [GAMBLING, GAMBLING.lower(), fold(GAMBLING.lower())])
async def test_the_lodgings_keep_their_place_in_the_receipt(bot: Bot, words: str) -> None:
    await say(bot, "u2", MENTION + words, group=MAY)
    assert "• Nơi: khu nhà trọ công nhân thôn 3" in said(bot, MAY)[-1], said(bot, MAY)[-1]
    assert (await incident(bot, 1)).place_key == "place:thon 3"
