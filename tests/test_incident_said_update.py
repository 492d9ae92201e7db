"""A member's update on an incident under way joins it; it never opens a second one.

Friday 27/11/2026, 14:20 in Hanoi. Chị Lan (May Việt's guard) reports in her enterprise's
group, @mentioning the bot: "xe container đâm vào cổng 2, có người bị kẹt" (SV1: a traffic
accident, someone trapped, so anh Quân, the coordinator, is alerted at once). Half an hour
later anh Cường, who guards the same company, writes "Cập nhật vụ xe container ở cổng 2:
tài xế bị thương, đã đưa đi viện", in the group or to the bot privately, with and without
diacritics. It was read as a report of its own ("khác" when the kind words were left out,
and then SV2 was opened and alerted as a new emergency). Everything goes through the real
webhook, processor, jobs and sender (local platform), on a clock the tests move.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.tables import IncidentEvent
from tests.test_incident_updates import (
    MAY,
    MENTION,
    Bot,
    bot,
    incidents,
    reports,
    said,
    say,
)

__all__ = ["bot"]  # the fixture: a council of four, anh Quân reachable in private
CRASH = "xe container đâm vào cổng 2, có người bị kẹt"
HURT = "Cập nhật vụ xe container ở cổng 2: tài xế bị thương, đã đưa đi viện"
HURT_PLAIN = "cap nhat vu xe container o cong 2: tai xe bi thuong da dua di vien"


async def steps(bot: Bot, number: int) -> list[tuple[str, int | None, str | None]]:
    """The incident's timeline after its report: (kind, actor, note)."""
    async with bot.sessions() as s:
        stmt = (
            select(IncidentEvent.kind, IncidentEvent.member_pk, IncidentEvent.note)
            .where(IncidentEvent.incident_pk == number)
            .order_by(IncidentEvent.id)
        )
        rows = (await s.execute(stmt)).all()
    return [(k, m, n) for k, m, n in rows if k in ("detail", "update", "merged", "report")]


async def crash(bot: Bot) -> int:
    """Lan's report at 14:20; how many lines anh Quân has had by then."""
    await say(bot, "u2", MENTION + CRASH, group=MAY)
    (sv1,) = await incidents(bot)
    assert sv1.category == "traffic" and sv1.urgent and sv1.severity == "high"
    assert said(bot, "u1")[-1].startswith("🚨 KHẨN: tai nạn giao thông tại cổng 2 (SV1)")
    return len(said(bot, "u1"))


@pytest.mark.parametrize(
    ("words", "where"),
    [
        (HURT, MAY),
        (HURT_PLAIN, None),
        ("Cập nhật vụ ở cổng 2: tài xế bị thương, đã đưa đi viện", MAY),
        ("tình hình vụ cổng 2: tài xế bị thương nặng", None),
        ("cập nhật SV1: tài xế bị thương, đã đưa đi viện", None),
        ("vụ xe container ở cổng 2 giờ tài xế bị thương, đã đưa đi viện", MAY),
    ],
)
async def test_cuong_s_update_joins_sv1_and_quan_hears_of_the_injured_driver(
    bot: Bot, words: str, where: str | None
) -> None:
    quan = await crash(bot)
    bot.clock.advance(timedelta(minutes=30))
    await say(bot, "u3", (MENTION + words) if where else words, group=where)

    # One incident, one report (Lan's); the update is on its timeline with Cường's words.
    (sv1,) = await incidents(bot)
    assert sv1.category == "traffic" and sv1.status == "reported"
    assert len(await reports(bot)) == 1
    assert (await steps(bot, 1))[-1] == ("update", 3, words)

    # Cường is thanked and told who heard it; Quân hears the casualty at once.
    assert said(bot, where or "u3")[-1] == (
        f'Đã bổ sung vào sự việc SV1: "{words}". Cảm ơn anh! Bot đã báo thêm cho anh Quân.'
    )
    assert said(bot, "u1")[quan:] == [
        f'🚨 Sự việc SV1 (tai nạn giao thông tại cổng 2): anh Cường báo thêm "{words}".'
    ]
    assert not any("SV2" in line for line in said(bot, "u1") + said(bot, MAY))


async def test_lan_s_own_update_is_her_detail(bot: Bot) -> None:
    quan = await crash(bot)
    bot.clock.advance(timedelta(minutes=40))  # past her details window
    await say(bot, "u2", MENTION + HURT, group=MAY)
    assert len(await incidents(bot)) == 1 and len(await reports(bot)) == 1
    assert (await steps(bot, 1))[-1] == ("detail", 2, HURT)
    assert said(bot, MAY)[-1] == (
        f'Đã bổ sung vào sự việc SV1: "{HURT}". Cảm ơn chị! Bot đã báo thêm cho anh Quân.'
    )
    assert len(said(bot, "u1")) == quan + 1


async def test_an_update_on_an_incident_nobody_was_alerted_for_raises_the_alert(
    bot: Bot,
) -> None:
    await say(bot, "u2", MENTION + "xe container quệt vào cổng 2", group=MAY)
    (sv1,) = await incidents(bot)
    assert not sv1.urgent
    quan = len(said(bot, "u1"))
    bot.clock.advance(timedelta(minutes=40))
    await say(bot, "u3", HURT_PLAIN)
    (sv1,) = await incidents(bot)
    assert sv1.urgent and sv1.severity == "high" and len(await reports(bot)) == 1
    [alert] = said(bot, "u1")[quan:]
    assert alert.startswith("🚨 KHẨN: tai nạn giao thông tại cổng 2 (SV1)")
    assert f"(cập nhật của anh Cường: {HURT_PLAIN})" in alert
    assert said(bot, "u3")[-1] == (
        f'Đã bổ sung vào sự việc SV1: "{HURT_PLAIN}". Cảm ơn anh! Bot đã báo khẩn cho anh Quân.'
    )


async def test_what_is_no_update_of_sv1_is_routed_as_before(bot: Bot) -> None:
    # Nothing open: "cập nhật" about a crash nobody reported is a report of its own.
    await say(bot, "u3", HURT)
    (sv1,) = await incidents(bot)
    assert sv1.category == "traffic" and sv1.urgent

    # A fire said in an update's words is a fire: its own incident, alerted.
    bot.clock.advance(timedelta(minutes=10))
    await say(bot, "u4", "cập nhật: cháy ở kho 3 cty Hansol")
    assert [i.category for i in await incidents(bot)] == ["traffic", "fire"]

    # A question about it is a question for the coordinators, not an update.
    bot.clock.advance(timedelta(minutes=10))
    await say(bot, "u2", "tình hình vụ xe container ở cổng 2 sao rồi anh?")
    assert len(await incidents(bot)) == 2
    assert [k for k, _m, _n in await steps(bot, 1)] == ["report"]


async def test_an_update_past_six_hours_names_the_one_open_case_of_its_kind(bot: Bot) -> None:
    """Seven hours on, "vụ" and the kind of event still name SV1 while it is the one open
    crash of the last three days (CASE_HOURS); a bare place past six hours names nothing."""
    await crash(bot)
    bot.clock.advance(timedelta(hours=7))
    await say(bot, "u3", "cập nhật cổng 2: đã thông xe")
    assert [k for k, _m, _n in await steps(bot, 1)] == ["report"]
    await say(bot, "u3", "Cập nhật vụ ở cổng 2: tài xế bị thương, đã đưa đi viện")
    assert (await steps(bot, 1))[-1][0] == "update"
    # By its code it is still SV1's, whatever its age, while it is open.
    await say(bot, "u3", "cập nhật SV1: tài xế đã ra viện")
    assert (await steps(bot, 1))[-1] == ("update", 3, "cập nhật SV1: tài xế đã ra viện")
    assert said(bot, "u3")[-1] == (
        'Đã bổ sung vào sự việc SV1: "cập nhật SV1: tài xế đã ra viện". Cảm ơn anh!'
    )


THEFT = "mất trộm 2 cuộn dây điện ở kho phế liệu, camera không ghi được"


@pytest.mark.parametrize(
    "words",
    [
        "công an KCN đã tiếp nhận vụ mất trộm dây điện ở May Việt",
        "cong an da tiep nhan vu mat trom day dien roi nhe",
        "về vụ mất trộm dây điện hôm qua, công an phường đã lập biên bản",
    ],
)
async def test_the_police_taking_yesterday_s_theft_joins_it(bot: Bot, words: str) -> None:
    """Cường reports a theft on Friday; on Saturday morning chị Lan passes on that the police
    took the case. That is news of SV1 (a day old, still open), not a second theft: the
    week's figures would count two thefts and the morning list two open ones."""
    await say(bot, "u3", MENTION + THEFT, group=MAY)
    (sv1,) = await incidents(bot)
    assert sv1.category == "theft"
    bot.clock.advance(timedelta(hours=20))
    await say(bot, "u2", MENTION + words, group=MAY)
    assert [i.category for i in await incidents(bot)] == ["theft"]
    assert len(await reports(bot)) == 1
    assert (await steps(bot, 1))[-1] == ("update", 2, words)
    assert said(bot, MAY)[-1].startswith(f'Đã bổ sung vào sự việc SV1: "{words}". Cảm ơn chị!')
    # A theft of something else is a theft of its own.
    await say(bot, "u2", MENTION + "mất trộm xe máy ở bãi xe số 2", group=MAY)
    assert [i.category for i in await incidents(bot)] == ["theft", "theft"]
