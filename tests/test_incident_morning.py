"""A morning in the park's groups (incidents14): a strike at May Việt and how it goes, the
coordinator's instruction to keep watch, a suspect at Hansol and the police on their way, a
fight with someone bleeding, a crash at the park's gate.

Anh Quân coordinates; anh Tài and chị Lan guard May Việt; anh Tùng and chị Mai guard Hansol;
đồng chí Hùng (police) sits in the council group. Everything goes through the real webhook,
processor, jobs and sender, on a clock the tests move.
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

# 08:10 Monday 7 Dec 2026 in Hanoi.
MORNING = datetime(2026, 12, 7, 1, 10, tzinfo=UTC)
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Trần Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet;ghansol,anh
u2,Võ Văn Tài,0901000002,May Việt,member,gmayviet,anh
u3,Đỗ Thanh Tùng,0901000003,Hansol,member,gcouncil;ghansol,anh
u4,Bùi Thị Mai,0901000004,Hansol,member,ghansol,chị
u5,Nguyễn Thị Lan,0901000005,May Việt,member,gcouncil;gmayviet,chị
u6,Phạm Văn Hùng,0901000006,Công an KCN,member,gcouncil,đồng chí
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
MENTION = "@Bot ANTT "
STRIKE = "khoảng 150 công nhân tập trung trước cổng chính không vào làm, đòi tăng lương"
STRIKE_BARE = "khoang 150 cong nhan tap trung truoc cong chinh khong vao lam, doi tang luong"
FIFTY = "khoảng 50 công nhân tập trung trước cổng chính không vào làm, đòi tăng lương"
FIFTY_BARE = "khoang 50 cong nhan tap trung truoc cong chinh khong vao lam, doi tang luong"


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS)
    b: Bot = await make_bot(settings, clock=FixedClock(MORNING))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, MORNING)).errors == []
    await say(b, "u1", "chào bot")  # Quân is reachable in private
    await say(b, "u2", "chào bot")
    await say(b, "u3", "chào bot")
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
    """The incident's steps after its report: (kind, note)."""
    async with bot.sessions() as s:
        stmt = (
            select(IncidentEvent.kind, IncidentEvent.note)
            .where(IncidentEvent.incident_pk == number)
            .order_by(IncidentEvent.id)
        )
        rows = (await s.execute(stmt)).all()
    return [(kind, note) for kind, note in rows if kind in ("detail", "update")]


# ------------------------------------------------------------------- the strike at May Việt


@pytest.mark.parametrize("text", [STRIKE, STRIKE_BARE])
async def test_a_hundred_and_fifty_workers_stopping_work_reach_quan_at_once(
    bot: Bot, text: str
) -> None:
    quan = len(said(bot, "u1"))
    await say(bot, "u2", MENTION + text, group=MAY)
    (strike,) = await incidents(bot)
    assert strike.category == "strike" and strike.severity == "high"
    assert len(said(bot, "u1")) > quan and "(SV1)" in said(bot, "u1")[-1]


@pytest.mark.parametrize("text", [FIFTY, FIFTY_BARE])
async def test_fifty_peaceful_workers_are_recorded_not_alerted(bot: Bot, text: str) -> None:
    """A peaceful stoppage of 50 is medium (a strike is grave from a hundred, or with
    agitation: docs/parser.md, Strikes): recorded and in the morning's list, no alert."""
    quan = len(said(bot, "u1"))
    await say(bot, "u2", MENTION + text, group=MAY)
    (strike,) = await incidents(bot)
    assert strike.category == "strike" and strike.severity == "medium"
    assert len(said(bot, "u1")) == quan
    assert "(sự việc SV1)" in said(bot, MAY)[-1]


async def test_a_dozen_workers_stopping_work_stay_medium(bot: Bot) -> None:
    quan = len(said(bot, "u1"))
    await say(bot, "u2", MENTION + "tổ may 3 có 12 công nhân ngừng việc đòi tăng lương", group=MAY)
    (strike,) = await incidents(bot)
    assert strike.category == "strike" and strike.severity == "medium"
    assert len(said(bot, "u1")) == quan


@pytest.mark.parametrize(
    "order",
    [
        "anh Tài theo dõi sát, báo liên tục nhé",
        "anh Tai theo doi sat, bao lien tuc nhe",
        "em theo dõi tiếp rồi báo anh nhé",
        "theo doi sat nhe",
        "các anh chú ý theo dõi nhé",
    ],
)
async def test_quans_instruction_to_keep_watch_is_no_incident(bot: Bot, order: str) -> None:
    await say(bot, "u2", MENTION + STRIKE, group=MAY)
    bot.clock.advance(timedelta(minutes=3))
    may = len(said(bot, MAY))
    await say(bot, "u1", MENTION + order, group=MAY)
    assert [i.category for i in await incidents(bot)] == ["strike"]
    assert await timeline(bot, 1) == []
    assert not any("SV2" in line for line in said(bot, MAY)[may:])

    # Tùng's suspect at Hansol is an incident of its own, not one Quân's words opened.
    bot.clock.advance(timedelta(minutes=15))
    await say(bot, "u3", MENTION + "có 2 đối tượng lạ lảng vảng sau hàng rào", group=HANSOL)
    found = await incidents(bot)
    assert [i.category for i in found] == ["strike", "suspicious"]
    assert found[1].id == 2


@pytest.mark.parametrize(
    "update",
    [
        "da so cong nhan da giai tan, con khoang 10 nguoi dung o cong",
        "đa số công nhân đã giải tán, còn khoảng 10 người đứng ở cổng",
    ],
)
async def test_most_workers_gone_is_news_of_the_strike_not_an_all_clear(
    bot: Bot, update: str
) -> None:
    await say(bot, "u2", MENTION + STRIKE, group=MAY)
    quan = len(said(bot, "u1"))
    bot.clock.advance(timedelta(minutes=85))  # 09:35
    await say(bot, "u2", MENTION + update, group=MAY)
    answer = said(bot, MAY)[-1]
    assert answer.startswith(f'Đã bổ sung vào sự việc SV1: "{update}". Cảm ơn anh!')
    assert "bình thường" not in answer
    assert await timeline(bot, 1) == [("detail", update)]
    (strike,) = await incidents(bot)
    assert strike.status not in ("settled", "resolved")
    told = said(bot, "u1")[quan:]
    assert len(told) == 1 and "SV1" in told[0] and update in told[0]


@pytest.mark.parametrize(
    "update", ["công nhân đã vào làm lại hết", "cong nhan da giai tan het roi"]
)
async def test_all_back_at_work_stops_the_reminders(bot: Bot, update: str) -> None:
    await say(bot, "u2", MENTION + STRIKE, group=MAY)
    bot.clock.advance(timedelta(minutes=40))
    await say(bot, "u2", MENTION + update, group=MAY)
    assert said(bot, MAY)[-1].startswith("Đã bổ sung vào sự việc SV1")
    (strike,) = await incidents(bot)
    assert strike.next_escalation_at is None
    assert "Bot thôi nhắc khẩn" in said(bot, "u1")[-1]


# ------------------------------------------------------ the police on their way to Hansol


@pytest.mark.parametrize(
    "words",
    [
        "đã nhận tin, tổ tuần tra công an KCN đang tới Hansol",
        "da nhan tin, to tuan tra cong an KCN dang toi Hansol",
    ],
)
async def test_the_police_on_their_way_join_tungs_report(bot: Bot, words: str) -> None:
    await say(bot, "u2", MENTION + STRIKE, group=MAY)
    bot.clock.advance(timedelta(minutes=10))
    await say(bot, "u3", MENTION + "có 2 đối tượng lạ lảng vảng sau hàng rào", group=HANSOL)
    tung = len(said(bot, "u3")) + len(said(bot, HANSOL))
    bot.clock.advance(timedelta(minutes=4))
    await say(bot, "u6", MENTION + words, group=COUNCIL)
    assert said(bot, COUNCIL)[-1] == (
        f'Đã bổ sung vào sự việc SV2: "{words}". Cảm ơn đồng chí! '
        "Bot đã báo thêm cho nhóm Tổ bảo vệ Hansol."
    )
    assert await timeline(bot, 2) == [("update", words)]
    assert await timeline(bot, 1) == []
    # Tùng's group hears the police are coming; no second incident, nothing on the strike.
    news = [*said(bot, "u3"), *said(bot, HANSOL)][tung:]
    assert news == [
        f'Sự việc SV2 (đối tượng khả nghi tại hàng rào): đồng chí Hùng báo thêm "{words}".'
    ]
    assert len(await incidents(bot)) == 2


async def test_the_police_with_nothing_open_at_hansol_stay_quiet(bot: Bot) -> None:
    await say(bot, "u2", MENTION + STRIKE, group=MAY)
    council = len(said(bot, COUNCIL))
    await say(bot, "u6", MENTION + "đã nhận tin, tổ tuần tra công an KCN đang tới Hansol", COUNCIL)
    assert len(said(bot, COUNCIL)) == council
    assert await timeline(bot, 1) == []


# ------------------------------------------------------------ a fight, bleeding, at Hansol


@pytest.mark.parametrize(
    "report",
    [
        "2 cong nhan danh nhau o nha an ca 2, 1 nguoi bi chay mau dau",
        "2 công nhân đánh nhau ở nhà ăn ca 2, 1 người bị chảy máu đầu",
    ],
)
async def test_a_bleeding_head_in_a_fight_is_no_fire(bot: Bot, report: str) -> None:
    quan = len(said(bot, "u1"))
    await say(bot, "u4", MENTION + report, group=HANSOL)
    (fight,) = await incidents(bot)
    assert fight.category == "fight" and fight.severity == "high"
    assert not any("CHÁY" in line or "cháy" in line for line in said(bot, HANSOL))
    alert = said(bot, "u1")[quan:]
    assert alert and "(SV1)" in alert[0]
    assert not any("cháy" in line or "114" in line for line in alert)


# ------------------------------------------------------------ a crash at the park's gate


@pytest.mark.parametrize(
    "report",
    [
        "va cham giao thong truoc cong KCN, xe may voi xe tai, 1 nguoi nam tai cho",
        "va chạm giao thông trước cổng KCN, xe máy với xe tải, 1 người nằm tại chỗ",
    ],
)
async def test_a_crash_with_someone_lying_hurt_reaches_quan(bot: Bot, report: str) -> None:
    quan = len(said(bot, "u1"))
    await say(bot, "u5", MENTION + report, group=MAY)
    (crash,) = await incidents(bot)
    assert crash.category == "traffic" and crash.severity == "high"
    assert crash.place_key == "gate:kcn"
    assert len(said(bot, "u1")) > quan and "(SV1)" in said(bot, "u1")[-1]
