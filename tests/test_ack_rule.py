"""Issue 16.2: one rule for who owes an acknowledgement, so reminders and the digest agree.

May Việt's group gets a directive on Tuesday morning. A new guard (Long) joins the roster and
the group at noon, after it went out; a guest writes in the group; the coordinator and the
admin never owe one. The 13:00 reminders, the closing message, the directive page's query
and the weekly digest must name the same people.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from handlers.digest import build_digest, week_of
from models import digest as q
from models.engagement import expected_ackers
from models.roster import import_roster_csv
from models.tables import Member, Outbox
from tests.conftest import Bot, text_event
from tests.engagement_helpers import MAY, NAMES, council_settings, import_roster

MORNING = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 09:00 Tuesday in Hanoi
LONG = "u11,Phan Văn Long,0901000011,May Việt,member,gmayviet\n"
HEADER = "member_id,name,phone,enterprise,role,groups\n"


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    b: Bot = await make_bot(council_settings(make_settings, db_url), clock=FixedClock(MORNING))
    await import_roster(b, MORNING)
    return b


async def say(bot: Bot, who: str, name: str, text: str, group: str | None = None) -> None:
    """One message a minute, through the webhook."""
    bot.clock.advance(timedelta(minutes=1))
    event = text_event(
        text, sender=who, name=name, chat=group, group=group is not None, at=bot.clock.now()
    )
    assert (await bot.deliver(event))[0] == 200
    await bot.drain()


async def test_reminders_and_digest_owe_the_same_people(bot: Bot) -> None:
    for who in ("u2", "u3", "u4"):
        await say(bot, who, NAMES[who], "xin chào")  # private chats, for the reminders
    await say(bot, "u1", NAMES["u1"], "/thongbao Tối nay kiểm tra khóa kho trước 22h", MAY)
    await say(bot, "u2", NAMES["u2"], "đã nhận")

    bot.clock.advance(timedelta(hours=3))  # noon: Long joins; a guest says hello in the group
    async with bot.sessions() as s, s.begin():
        assert (await import_roster_csv(s, HEADER + LONG, bot.clock.now())).created == 1
    await say(bot, "g1", "Khách Tham Quan", "@Bot ANTT chào mọi người", MAY)
    await say(bot, "u11", "Phan Văn Long", "xin chào")

    # The conversation's rule: Cường and Dung still owe it; Long came after it went out.
    async with bot.sessions() as s:
        owed = sorted(m.member_id or "" for m in await expected_ackers(s, 1))
    assert owed == ["u2", "u3", "u4"]

    # 13:00: the reminders go to Cường and Dung only.
    bot.clock.advance(timedelta(hours=1, minutes=1))
    await bot.runtime.run_job("ack_reminders")
    async with bot.sessions() as s:
        reminded = set(
            (
                await s.execute(
                    select(Member.member_id)
                    .join(Outbox, Outbox.member_pk == Member.id)
                    .where(Outbox.kind == "reminder")
                )
            ).scalars()
        )
    assert reminded == {"u3", "u4"}

    # The digest of the week, as of now, counts the same three people and the same two missing.
    async with bot.sessions() as s:
        digest = await build_digest(
            s,
            bot.runtime.settings,
            week_of(bot.clock.now(), bot.runtime.settings.tz),
            now=bot.clock.now(),
        )
    assert (digest.totals.expected_acks, digest.totals.acks) == (3, 1)
    [pending] = digest.pending_directives
    assert sorted(pending.acknowledged + pending.missing) == sorted(
        NAMES[m] for m in ("u2", "u3", "u4")
    )
    assert pending.missing == [NAMES["u3"], NAMES["u4"]]
    may = dict(digest.enterprises)["May Việt"]
    assert (may.expected_acks, may.acks) == (3, 1)


async def test_a_cancelled_directive_is_not_counted_but_still_listed(bot: Bot) -> None:
    await say(bot, "u1", NAMES["u1"], "/thongbao Mai họp giao ban 8h", MAY)
    await say(bot, "u2", NAMES["u2"], "đã nhận")
    await say(bot, "u1", NAMES["u1"], "/thongbao Tối nay kiểm tra khóa kho", MAY)
    await say(bot, "u3", NAMES["u3"], "/danhan TB2")
    await say(bot, "u1", NAMES["u1"], "/huy TB2")
    settings = bot.runtime.settings
    async with bot.sessions() as s:
        digest = await build_digest(
            s, settings, week_of(bot.clock.now(), settings.tz), now=bot.clock.now()
        )
        listed = await q.directive_statuses(s, digest.window)
    t = digest.totals
    # TB1 only: Bình, Cường, Dung owe it, Bình answered. TB2 and Cường's ack of it are gone.
    assert (t.directives, t.expected_acks, t.acks) == (1, 3, 1)
    assert [d.id for d in digest.pending_directives] == [1]
    assert "kiểm tra khóa kho" not in digest.render_text()
    # The directives page still lists TB2, as cancelled, with who had answered before.
    tb2 = next(d for d in listed if d.id == 2)
    assert (tb2.status, tb2.acknowledged) == ("cancelled", [NAMES["u3"]])
