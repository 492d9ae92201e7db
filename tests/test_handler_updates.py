"""What the person handling an incident writes about it: progress on its timeline, not a new
report; and the note he closes it with reaches the reporter.

Chị Lan (May Việt's guard) reports a fight in her company's group, @mentioning the bot;
anh Quân coordinates, chị Hồng is the council's admin; both have written to the bot
privately. Everything goes through the real webhook, processor, jobs and sender.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import Incident, IncidentEvent, Report
from tests.conftest import Bot, member_says
from tests.engagement_helpers import GROUPS, MAY

# 11:30 Friday 27 Nov 2026 in Hanoi: the lunch shift.
NOON = datetime(2026, 11, 27, 4, 30, tzinfo=UTC)
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet,anh
u2,Nguyễn Thị Lan,0901000002,May Việt,member,gcouncil;gmayviet,chị
u3,Trần Thị Hồng,0901000003,Ban quản lý KCN,admin,gcouncil,chị
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
MENTION = "@Bot ANTT "
PASSWORD = "mật khẩu đủ dài 2026"
FIGHT = MENTION + "2 cn danh nhau o nha an ca 2, 1 nguoi chay mau dau"
PROGRESS = "đã cho bảo vệ tách 2 người ra, đưa người bị thương đi trạm y tế"


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS, dashboard={"password": PASSWORD})
    b: Bot = await make_bot(settings, clock=FixedClock(NOON))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, NOON)).errors == []
    await say(b, "u1", "chào bot")  # both reachable in private
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


async def steps(bot: Bot, number: int) -> list[tuple[str, str]]:
    async with bot.sessions() as s:
        stmt = (
            select(IncidentEvent.kind, IncidentEvent.note)
            .where(IncidentEvent.incident_pk == number)
            .order_by(IncidentEvent.id)
        )
        return [(k, n) for k, n in (await s.execute(stmt)).all()]


async def incident_page(bot: Bot, number: int) -> str:
    """What anh Quân reads on the dashboard's page of the incident."""
    async with bot.http.get("/dashboard/login") as resp:
        token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert token is not None
    form = {"username": "u1", "password": PASSWORD, "csrf": token[1], "next": "/dashboard/"}
    async with bot.http.post("/dashboard/login", allow_redirects=False, data=form) as resp:
        assert resp.status == 303
    async with bot.http.get(f"/dashboard/incidents/{number}") as resp:
        assert resp.status == 200
        return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", await resp.text())).split())


async def fight_taken(bot: Bot) -> None:
    """Lan reports the fight (urgent: someone bleeding); Quân takes it in private."""
    await say(bot, "u2", FIGHT, group=MAY)
    assert "(SV1)" in said(bot, "u1")[-1] and "(SV1)" in said(bot, "u3")[-1]
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u1", "nhận xử lý")
    assert (await incidents(bot))[0].status == "acknowledged"


async def test_the_handlers_progress_in_private_goes_on_the_timeline_not_a_new_report(
    bot: Bot,
) -> None:
    await fight_taken(bot)
    lan, quan, hong = len(said(bot, MAY)), len(said(bot, "u1")), len(said(bot, "u3"))

    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u1", PROGRESS)
    assert said(bot, "u1")[-1] == f'Đã ghi vào sự việc SV1: "{PROGRESS}". Cảm ơn anh!'
    assert len(said(bot, "u1")) == quan + 1
    assert len(said(bot, "u3")) == hong and len(said(bot, MAY)) == lan  # nobody alerted
    assert len(await incidents(bot)) == 1
    async with bot.sessions() as s:
        assert len((await s.execute(select(Report))).scalars().all()) == 1
    assert ("handler_update", PROGRESS) in await steps(bot, 1)

    # Without diacritics, with no detail at all: still his progress.
    bot.clock.advance(timedelta(minutes=20))
    await say(bot, "u1", "da hoa giai xong, dang lap bien ban")
    assert said(bot, "u1")[-1] == (
        'Đã ghi vào sự việc SV1: "da hoa giai xong, dang lap bien ban". Cảm ơn anh!'
    )

    # /baocao SV1 shows whose words they are.
    await say(bot, "u1", "/baocao SV1")
    assert "Người xử lý cập nhật (anh Quân) – " + PROGRESS in said(bot, "u1")[-1]

    # An all-clear about the canteen is his; his own round elsewhere is a check-in.
    await say(bot, "u1", "đã kiểm tra nhà ăn, bình thường")
    assert said(bot, "u1")[-1].startswith("Đã ghi vào sự việc SV1:")
    await say(bot, "u1", "tuần tra khu B, bình thường")
    assert not said(bot, "u1")[-1].startswith("Đã ghi vào")
    assert [k for k, _ in await steps(bot, 1)].count("handler_update") == 3

    page = await incident_page(bot, 1)
    assert "Người xử lý cập nhật" in page and PROGRESS in page

    # A fire from him is a report of its own.
    await say(bot, "u1", "cháy kho số 3 cty May Việt")
    found = await incidents(bot)
    assert len(found) == 2 and found[1].category == "fire"
    assert [k for k, _ in await steps(bot, 1)].count("handler_update") == 3

    # In the group it was reported in, @mentioning the bot: the same.
    await say(bot, "u1", MENTION + "công an KCN đã tới, đang lấy lời khai", group=MAY)
    assert said(bot, MAY)[-1] == (
        'Đã ghi vào sự việc SV1: "công an KCN đã tới, đang lấy lời khai". Cảm ơn anh!'
    )
    assert [k for k, _ in await steps(bot, 1)].count("handler_update") == 4
    assert len(said(bot, "u3")) == hong + 1  # only the fire's alert


async def test_a_closing_note_reaches_the_reporter(bot: Bot) -> None:
    await fight_taken(bot)
    bot.clock.advance(timedelta(minutes=30))
    await say(bot, "u1", "/xong SV1 đã hòa giải, chuyển công an KCN xử lý tiếp")
    assert said(bot, MAY)[-1] == (
        "Sự việc SV1 (đánh nhau/gây rối) chị báo đã được xử lý xong: "
        '"đã hòa giải, chuyển công an KCN xử lý tiếp". Cảm ơn chị!'
    )
    assert (await incidents(bot))[0].status == "resolved"

    # Closed: what he writes next is no update of it.
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u1", PROGRESS)
    assert "handler_update" not in [k for k, _ in await steps(bot, 1)]


async def test_a_closing_without_a_note_says_as_before(bot: Bot) -> None:
    await fight_taken(bot)
    await say(bot, "u1", "/xong SV1")
    assert said(bot, MAY)[-1] == (
        "Sự việc SV1 (đánh nhau/gây rối) chị báo đã được xử lý xong. Cảm ơn chị!"
    )


async def test_past_twelve_hours_or_from_someone_else_it_is_not_his_progress(bot: Bot) -> None:
    await fight_taken(bot)

    # Hồng did not take it: her words are routed as before.
    await say(bot, "u3", "đã hòa giải xong, đang lập biên bản")
    assert "handler_update" not in [k for k, _ in await steps(bot, 1)]

    # Half a day after he took it, his words are no longer read as about SV1.
    bot.clock.advance(timedelta(hours=12, minutes=1))
    await say(bot, "u1", "đã hòa giải xong, đang lập biên bản")
    assert "handler_update" not in [k for k, _ in await steps(bot, 1)]


async def test_with_two_taken_his_progress_joins_the_one_he_spoke_of_last(bot: Bot) -> None:
    await fight_taken(bot)
    bot.clock.advance(timedelta(minutes=2))
    await say(bot, "u2", MENTION + "cháy kho số 3, có 1 người bị bỏng", group=MAY)
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u1", "/xuly SV2")
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u1", "đã đưa người bị bỏng đi trạm y tế")
    assert said(bot, "u1")[-1].startswith("Đã ghi vào sự việc SV2:")
    assert "handler_update" not in [k for k, _ in await steps(bot, 1)]
