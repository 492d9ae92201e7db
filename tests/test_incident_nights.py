"""Nights in the park's groups (incidents16): two youths over May Việt's fence, gone by the
time anh Tài and anh Nam get there, and the police on their way to Hansol with two incidents
open there.

Anh Quân coordinates and chị Hồng administers: both get the urgent alerts in private. Anh Tài
and anh Nam guard May Việt; anh Tùng guards Hansol; đồng chí Hùng (police) sits in the council
group. Everything goes through the real webhook, processor, jobs and sender, on a clock the
tests move.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import Incident, IncidentEvent
from tests.conftest import Bot, member_says
from tests.engagement_helpers import COUNCIL, GROUPS, HANSOL, MAY

NIGHT = datetime(2026, 12, 6, 19, 49, tzinfo=UTC)  # 02:49 Monday 07/12 in Hanoi
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Trần Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet;ghansol,anh
u2,Võ Văn Tài,0901000002,May Việt,member,gmayviet,anh
u3,Hoàng Văn Nam,0901000003,May Việt,member,gmayviet,anh
u4,Đỗ Thanh Tùng,0901000004,Hansol,member,gcouncil;ghansol,anh
u5,Lê Thị Hồng,0901000005,Ban quản lý KCN,admin,gcouncil,chị
u6,Phạm Văn Hùng,0901000006,Công an KCN,member,gcouncil,đồng chí
u7,Bùi Thị Mai,0901000007,Hansol,member,ghansol,chị
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
MENTION = "@Bot ANTT "
FENCE = (
    "phát hiện 2 thanh niên trèo tường rào phía sau kho thành phẩm, em đang cùng anh Nam ra "
    "kiểm tra"
)
FENCE_BARE = (
    "phat hien 2 thanh nien treo tuong rao phia sau kho thanh pham, em dang cung anh Nam ra "
    "kiem tra"
)
ALERTED = ("u1", "u5")


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS)
    b: Bot = await make_bot(settings, clock=FixedClock(NIGHT))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, NIGHT)).errors == []
    for who in ("u1", "u5", "u2", "u4"):
        await say(b, who, "chào bot")  # reachable in private
    return b


async def say(bot: Bot, who: str, text: str, group: str | None = None) -> None:
    """`who` writes `text` in `group` (or privately), at the clock's time."""
    await member_says(bot, who, NAMES[who], text, group)


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def incidents(bot: Bot) -> list[Incident]:
    async with bot.sessions() as s:
        return list((await s.execute(select(Incident).order_by(Incident.id))).scalars())


async def timeline(bot: Bot, number: int) -> list[tuple[str, str | None]]:
    """The incident's details and updates: (kind, note)."""
    async with bot.sessions() as s:
        stmt = (
            select(IncidentEvent.kind, IncidentEvent.note)
            .where(IncidentEvent.incident_pk == number)
            .order_by(IncidentEvent.id)
        )
        rows = (await s.execute(stmt)).all()
    return [(kind, note) for kind, note in rows if kind in ("detail", "update")]


async def ten_minutes_thrice(bot: Bot) -> None:
    """03:04, 03:14, 03:24: the escalation job runs as it would."""
    for _ in range(3):
        bot.clock.advance(timedelta(minutes=10))
        await bot.runtime.run_job("incident_escalation")
        await bot.drain()


def heard(bot: Bot) -> list[int]:
    return [len(said(bot, who)) for who in ALERTED]


# --------------------------------------------------- the youths over May Việt's fence


@pytest.mark.parametrize(
    ("report", "over"),
    [
        (FENCE, "2 đối tượng đã bỏ chạy, chưa mất gì, em đã báo công an KCN"),
        (FENCE_BARE, "2 doi tuong da bo chay, chua mat gi, em da bao cong an KCN"),
        (FENCE, "bọn nó đi rồi, không mất gì"),
        (FENCE_BARE, "da khong che duoc doi tuong, da giao cong an KCN"),
    ],
)
async def test_the_youths_gone_stop_the_night_alarms(bot: Bot, report: str, over: str) -> None:
    await say(bot, "u2", MENTION + report, MAY)
    (fence,) = await incidents(bot)
    assert fence.category == "suspicious" and fence.urgent
    for who in ALERTED:
        assert "KHẨN" in said(bot, who)[-1] and "(SV1)" in said(bot, who)[-1]
    before = heard(bot)

    bot.clock.advance(timedelta(minutes=5))  # 02:54
    await say(bot, "u2", MENTION + over, MAY)
    assert said(bot, MAY)[-1] == (
        f'Đã bổ sung vào sự việc SV1: "{over}". Cảm ơn anh! '
        "Bot đã báo thêm cho anh Quân và chị Hồng."
    )
    assert len(await incidents(bot)) == 1
    assert await timeline(bot, 1) == [("detail", over)]
    for who, count in zip(ALERTED, before, strict=True):
        assert said(bot, who)[count:] == [
            "Sự việc SV1 (đối tượng khả nghi tại tường rào, kho thành phẩm): "
            f'anh Tài báo thêm "{over}". '
            "Bot thôi nhắc khẩn; sự việc vẫn mở đến khi có người gõ /xong SV1."
        ]
    calm = heard(bot)
    await ten_minutes_thrice(bot)
    assert heard(bot) == calm  # nobody woken at 03:04, 03:14, 03:24
    (fence,) = await incidents(bot)
    assert fence.status == "reported" and fence.next_escalation_at is None


@pytest.mark.parametrize(
    "still",
    [
        "đối tượng vẫn đang lảng vảng phía sau kho",
        "doi tuong van dang lang vang phia sau kho",
        "đối tượng đã bỏ chạy nhưng vẫn đang lảng vảng ngoài hàng rào",
        "2 doi tuong bo chay vao trong kho thanh pham",
    ],
)
async def test_the_youths_still_about_keep_the_alarms(bot: Bot, still: str) -> None:
    await say(bot, "u2", MENTION + FENCE, MAY)
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u2", MENTION + still, MAY)
    assert not any("thôi nhắc khẩn" in line for who in ALERTED for line in said(bot, who))
    before = heard(bot)
    await ten_minutes_thrice(bot)
    assert all(now > then for now, then in zip(heard(bot), before, strict=True))
    assert any("⏫ KHẨN" in line for line in said(bot, "u1")[before[0] :])


@pytest.mark.parametrize(
    "over",
    ["2 đối tượng bỏ chạy rồi, không mất gì", "2 doi tuong bo chay roi, khong mat gi"],
)
async def test_nam_at_the_fence_says_they_fled(bot: Bot, over: str) -> None:
    """Anh Nam went out with anh Tài: his word that they fled is the incident's update."""
    await say(bot, "u2", MENTION + FENCE, MAY)
    before = heard(bot)
    bot.clock.advance(timedelta(minutes=6))
    await say(bot, "u3", MENTION + over, MAY)
    assert said(bot, MAY)[-1] == (
        f'Đã bổ sung vào sự việc SV1: "{over}". Cảm ơn anh! '
        "Bot đã báo thêm cho anh Quân và chị Hồng."
    )
    assert len(await incidents(bot)) == 1
    assert await timeline(bot, 1) == [("update", over)]
    for who, count in zip(ALERTED, before, strict=True):
        assert said(bot, who)[count:] == [
            "Sự việc SV1 (đối tượng khả nghi tại tường rào, kho thành phẩm): "
            f'anh Nam báo thêm "{over}". '
            "Bot thôi nhắc khẩn; sự việc vẫn mở đến khi có người gõ /xong SV1."
        ]
    calm = heard(bot)
    await ten_minutes_thrice(bot)
    assert heard(bot) == calm


# ------------------------------------------- the police on their way, two open at Hansol

MORNING = timedelta(hours=5, minutes=11)  # from 02:49 to 08:00
FIGHT = "2 công nhân đánh nhau ở nhà ăn ca 2, 1 người bị chảy máu đầu"
FENCE_HANSOL = "có 2 đối tượng lạ lảng vảng sau hàng rào"
COMING = [
    "đã nhận tin, tổ tuần tra công an KCN đang tới Hansol",
    "da nhan tin, to tuan tra cong an KCN dang toi Hansol",
]


@pytest.mark.parametrize("words", COMING)
@pytest.mark.parametrize("fight_first", [True, False])
async def test_the_police_join_the_alerted_fight_not_the_newer_suspect(
    bot: Bot, words: str, fight_first: bool
) -> None:
    bot.clock.advance(MORNING)
    reports = [("u7", FIGHT), ("u4", FENCE_HANSOL)]
    for who, text in reports if fight_first else reversed(reports):
        await say(bot, who, MENTION + text, HANSOL)
        bot.clock.advance(timedelta(minutes=4))
    fight = next(i for i in await incidents(bot) if i.category == "fight")
    fence = next(i for i in await incidents(bot) if i.category == "suspicious")
    assert fight.urgent and not fence.urgent
    before = heard(bot)
    hansol = len(said(bot, HANSOL))

    await say(bot, "u6", MENTION + words, COUNCIL)
    code = f"SV{fight.id}"
    assert said(bot, COUNCIL)[-1].startswith(
        f'Đã bổ sung vào sự việc {code}: "{words}". Cảm ơn đồng chí! Bot đã báo thêm cho '
    )
    assert await timeline(bot, fight.id) == [("update", words)]
    assert await timeline(bot, fence.id) == []
    news = f'Sự việc {code} (đánh nhau/gây rối tại nhà ăn): đồng chí Hùng báo thêm "{words}".'
    assert said(bot, HANSOL)[hansol:] == [news]
    for who, count in zip(ALERTED, before, strict=True):
        assert said(bot, who)[count:] == [news]
    assert len(await incidents(bot)) == 2


@pytest.mark.parametrize("words", COMING)
async def test_the_police_join_the_newest_of_two_alike(bot: Bot, words: str) -> None:
    """Two of the same gravity an hour apart: the news the police just got is the newest."""
    bot.clock.advance(MORNING)
    await say(bot, "u7", MENTION + "mất 1 xe máy ở nhà xe", HANSOL)  # SV1, 08:00
    bot.clock.advance(timedelta(hours=1))
    await say(bot, "u4", MENTION + FENCE_HANSOL, HANSOL)  # SV2, 09:00
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u6", MENTION + words, COUNCIL)
    assert said(bot, COUNCIL)[-1].startswith(f'Đã bổ sung vào sự việc SV2: "{words}".')
    assert await timeline(bot, 2) == [("update", words)]
    assert await timeline(bot, 1) == []


@pytest.mark.parametrize("words", COMING)
async def test_the_police_are_asked_which_of_two_alike(bot: Bot, words: str) -> None:
    """Two of the same gravity minutes apart: which one the words do not say; Hùng is asked,
    never left in silence, and his answer with the code joins it."""
    bot.clock.advance(MORNING)
    await say(bot, "u7", MENTION + "mất 1 xe máy ở nhà xe", HANSOL)  # SV1
    bot.clock.advance(timedelta(minutes=6))
    await say(bot, "u4", MENTION + FENCE_HANSOL, HANSOL)  # SV2
    bot.clock.advance(timedelta(minutes=3))
    hansol = len(said(bot, HANSOL))
    await say(bot, "u6", MENTION + words, COUNCIL)
    assert said(bot, COUNCIL)[-1] == (
        "Ở Hansol đang mở 2 sự việc: SV2 (đối tượng khả nghi tại hàng rào), "
        "SV1 (trộm cắp tại nhà xe). Đồng chí đang tới sự việc nào? "
        'Đồng chí nhắn lại kèm mã, vd: "@Bot ANTT công an đang tới SV2".'
    )
    assert await timeline(bot, 1) == [] and await timeline(bot, 2) == []
    assert len(said(bot, HANSOL)) == hansol

    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u6", MENTION + "công an đang tới SV1", COUNCIL)
    assert said(bot, COUNCIL)[-1].startswith('Đã bổ sung vào sự việc SV1: "công an đang tới SV1".')
    assert await timeline(bot, 1) == [("update", "công an đang tới SV1")]
    assert said(bot, HANSOL)[hansol:] == [
        'Sự việc SV1 (trộm cắp tại nhà xe): đồng chí Hùng báo thêm "công an đang tới SV1".'
    ]
