"""A reporter's outcome after her report, as a council lives it at night: "đã kiểm tra, 2 đối
tượng bỏ chạy, không mất tài sản" is how SV1 went, not a patrol's "tình hình bình thường".

Sunday 06/12/2026, 22:00 in Hanoi. Chị Lan (May Việt's guard) reports in the council group,
@mentioning the bot; anh Quân coordinates and has written to the bot privately; anh Cường,
also in the council group, patrols. Everything goes through the real webhook, processor, jobs
and sender (local platform), with a movable clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import CheckIn, Incident, IncidentEvent
from tests.conftest import Bot, member_says
from tests.engagement_helpers import COUNCIL, GROUPS

NIGHT = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)  # 22:00 Sunday 06/12 in Hanoi
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet,anh
u2,Nguyễn Thị Lan,0901000002,May Việt,member,gcouncil;gmayviet,chị
u3,Lê Văn Cường,0901000003,May Việt,member,gcouncil;gmayviet,anh
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
MENTION = "@Bot ANTT "
REPORT = (
    "Báo cáo: phát hiện 2 đối tượng lạ trèo rào sau kho thành phẩm cty May Việt, "
    "đã cho bảo vệ ra kiểm tra"
)
PATROL = "✅ Đã ghi nhận báo cáo tuần tra"


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS)
    b: Bot = await make_bot(settings, clock=FixedClock(NIGHT))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, NIGHT)).errors == []
    return b


async def say(bot: Bot, who: str, text: str, group: str | None = COUNCIL) -> None:
    """`who` writes `text` in the council group (or privately), at the clock's time."""
    await member_says(bot, who, NAMES[who], text, group, "")


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def details(bot: Bot) -> list[str]:
    async with bot.sessions() as s:
        stmt = select(IncidentEvent.note).where(IncidentEvent.kind == "detail")
        return list((await s.execute(stmt.order_by(IncidentEvent.id))).scalars())


async def patrols(bot: Bot) -> list[tuple[str, str]]:
    """(member, note) of each check-in recorded."""
    async with bot.sessions() as s:
        rows = await s.execute(select(CheckIn.member_pk, CheckIn.note).order_by(CheckIn.id))
        return [(NAMES[f"u{pk}"], note) for pk, note in rows]


async def reported(bot: Bot) -> Incident:
    await say(bot, "u1", "chào bot", group=None)  # Quân is reachable in private
    await say(bot, "u2", MENTION + REPORT)
    async with bot.sessions() as s:
        sv1 = await s.get(Incident, 1)
    assert sv1 is not None and sv1.category == "suspicious" and sv1.urgent
    assert "(SV1)" in said(bot, "u1")[-1]
    return sv1


async def test_her_outcome_joins_sv1_and_quan_hears_it_once(bot: Bot) -> None:
    await reported(bot)
    alerts = len(said(bot, "u1"))

    bot.clock.advance(timedelta(minutes=2))  # 22:02
    outcome = "đã kiểm tra, 2 đối tượng bỏ chạy, không mất tài sản"
    await say(bot, "u2", MENTION + outcome)
    assert said(bot, COUNCIL)[-1] == (
        f'Đã bổ sung vào sự việc SV1: "{outcome}". Cảm ơn chị! Bot đã báo thêm cho anh Quân.'
    )
    assert not any("tình hình bình thường" in t for t in said(bot, COUNCIL))
    # The suspects gone, nothing taken: the danger is over, Quân is not woken again for it.
    assert said(bot, "u1")[alerts:] == [
        "Sự việc SV1 (đối tượng khả nghi tại kho thành phẩm, Cty May Việt): "
        f'chị Lan báo thêm "{outcome}". '
        "Bot thôi nhắc khẩn; sự việc vẫn mở đến khi có người gõ /xong SV1."
    ]
    assert await details(bot) == [outcome] and await patrols(bot) == []
    async with bot.sessions() as s:
        sv1 = await s.get(Incident, 1)
    assert sv1 is not None and sv1.status == "reported"  # Quân closes it with /xong

    # Without diacritics, what was caught: a detail too, passed on once more.
    bot.clock.advance(timedelta(minutes=3))
    await say(bot, "u2", MENTION + "bao ve da bat duoc 1 doi tuong, khong mat tai san")
    assert said(bot, COUNCIL)[-1].startswith('Đã bổ sung vào sự việc SV1: "bao ve da bat duoc')
    assert len(said(bot, "u1")) == alerts + 2
    assert len(await details(bot)) == 2 and await patrols(bot) == []


async def test_checked_as_she_said_she_would_is_how_sv1_went(bot: Bot) -> None:
    """Her report said the guards would check; "đã kiểm tra, bình thường" is that check."""
    await reported(bot)
    bot.clock.advance(timedelta(minutes=4))
    await say(bot, "u2", MENTION + "da kiem tra, binh thuong")
    assert said(bot, COUNCIL)[-1] == (
        'Đã bổ sung vào sự việc SV1: "da kiem tra, binh thuong". Cảm ơn chị! '
        "Bot đã báo thêm cho anh Quân."
    )
    assert await patrols(bot) == []


async def test_rounds_others_and_late_words_stay_check_ins(bot: Bot) -> None:
    await reported(bot)
    alerts = len(said(bot, "u1"))

    # Her rounds, within the window: check-ins as ever.
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u2", MENTION + "ca 3 không sao")
    assert said(bot, COUNCIL)[-1].startswith(PATROL)
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u2", MENTION + "tuần tra khu B, bình thường")
    assert said(bot, COUNCIL)[-1].startswith(PATROL)

    # Cường never reported SV1: his words are his patrol.
    await say(bot, "u3", MENTION + "đã kiểm tra, 2 đối tượng bỏ chạy, không mất tài sản")
    assert said(bot, COUNCIL)[-1].startswith(PATROL + " của anh Cường")

    assert await details(bot) == [] and len(said(bot, "u1")) == alerts
    lan, cuong = NAMES["u2"], NAMES["u3"]
    assert [who for who, _ in await patrols(bot)] == [lan, lan, cuong]

    # Past the details window (10 minutes after her last word), how SV1 ended is still SV1's:
    # it is the one open incident she reported, and Quân needs it (LATE_OUTCOME_HOURS).
    bot.clock.advance(timedelta(minutes=11))
    await say(bot, "u2", MENTION + "đã kiểm tra, 2 đối tượng bỏ chạy, không mất tài sản")
    assert said(bot, COUNCIL)[-1].startswith('Đã bổ sung vào sự việc SV1: "đã kiểm tra')
    assert len(said(bot, "u1")) == alerts + 1 and len(await details(bot)) == 1

    # Thirteen hours on, the same words are a new round's: a patrol again.
    bot.clock.advance(timedelta(hours=13))
    await say(bot, "u2", MENTION + "đã kiểm tra, 2 đối tượng bỏ chạy, không mất tài sản")
    assert said(bot, COUNCIL)[-1].startswith(PATROL + " của chị Lan")
    assert [who for who, _ in await patrols(bot)] == [lan, lan, cuong, lan]


async def test_her_fire_put_out_an_hour_later_reaches_quan_who_handles_it(bot: Bot) -> None:
    """Chị Lan reports smoke from her warehouse to the bot in private; anh Quân takes it. An
    hour later: "da dap tat, 3 cong nhan ra ngoai an toan". Not "bình thường": SV1's news."""
    await say(bot, "u1", "chào bot", group=None)
    await say(bot, "u2", "kho thanh pham cty May Viet boc khoi den, chua thay lua", group=None)
    await say(bot, "u2", "đúng", group=None)  # she confirms the bare "khoi"
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u1", "nhận xử lý SV1", group=None)
    before = len(said(bot, "u1"))
    bot.clock.advance(timedelta(hours=1))
    await say(bot, "u2", "da dap tat, 3 cong nhan ra ngoai an toan", group=None)
    assert said(bot, "u2")[-1] == (
        'Đã bổ sung vào sự việc SV1: "da dap tat, 3 cong nhan ra ngoai an toan". Cảm ơn chị! '
        "Bot đã báo thêm cho anh Quân."
    )
    assert said(bot, "u1")[before:] == [
        "Sự việc SV1 (cháy/nổ tại kho thành phẩm, Cty May Viet): chị Lan báo thêm "
        '"da dap tat, 3 cong nhan ra ngoai an toan".'
    ]
    assert await patrols(bot) == []
    assert await details(bot) == ["da dap tat, 3 cong nhan ra ngoai an toan"]


async def test_checked_after_a_report_that_said_nothing_of_checking_is_a_patrol(
    bot: Bot,
) -> None:
    await say(bot, "u2", MENTION + "phát hiện 2 đối tượng lạ trèo rào sau kho 2")
    bot.clock.advance(timedelta(minutes=2))
    await say(bot, "u2", MENTION + "đã kiểm tra, bình thường")
    assert said(bot, COUNCIL)[-1].startswith(PATROL)
    assert await details(bot) == []


async def test_by_day_a_report_never_alerted_takes_the_outcome_and_tells_no_one(
    bot: Bot,
) -> None:
    """10:00: a stranger by day is not urgent, so no one was alerted: the outcome joins SV1,
    and the receipt names no one told."""
    bot.clock.set(datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    await say(bot, "u1", "chào bot", group=None)
    await say(bot, "u2", "Có người lạ trèo tường vào kho 2, đã cho bảo vệ đi kiểm tra", group=None)
    async with bot.sessions() as s:
        sv1 = await s.get(Incident, 1)
    assert sv1 is not None and not sv1.urgent
    quan = len(said(bot, "u1"))
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u2", "đã kiểm tra, không mất tài sản", group=None)
    assert said(bot, "u2")[-1] == (
        'Đã bổ sung vào sự việc SV1: "đã kiểm tra, không mất tài sản". Cảm ơn chị!'
    )
    assert len(said(bot, "u1")) == quan and await patrols(bot) == []
