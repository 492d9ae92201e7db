"""Several parks (issue 20) in one processor slice: each event is handled as if alone in
its transaction, whatever park the slice's previous event was about."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

import bot.processor as processor_module
from handlers.clock import FixedClock
from models.tables import CouncilMember, Group, Member
from tests.conftest import text_event
from tests.test_councils_e2e import NAMES, TUESDAY, two_parks


async def test_a_strangers_new_group_does_not_take_the_previous_events_park(
    make_bot: Any, db_url: str, monkeypatch: Any
) -> None:
    """Chị Lan checks in at Bình Xuyên's council; then a stranger writes in a group no park
    configured, in the same slice: the group stays unassigned and the stranger joins no
    park's council (Bình Xuyên's scope once stamped the group and seated the stranger)."""
    monkeypatch.setattr(processor_module, "SLICE_SECONDS", 60.0)  # one slice on a slow machine
    bot = await make_bot(two_parks(db_url), clock=FixedClock(TUESDAY))
    lan, who = "u_bx_lan", NAMES["u_bx_lan"]
    for body in (
        text_event("có mặt", sender=lan, name=who, chat="g_bx_council", group=True, at=TUESDAY),
        text_event(
            "chào cả nhà", sender="u_new", name="Người Lạ", chat="g_x", group=True, at=TUESDAY
        ),
    ):
        assert (await bot.deliver(body))[0] == 200
    assert await bot.runtime.processor.run_once() == 2
    async with bot.sessions() as s:
        group = (await s.execute(select(Group).where(Group.chat_id == "g_x"))).scalar_one()
        stranger = (await s.execute(select(Member).where(Member.member_id == "u_new"))).scalar_one()
        seats = select(CouncilMember.council_id).where(CouncilMember.member_pk == stranger.id)
        assert group.council_id == "default"
        assert list((await s.execute(seats)).scalars()) == []
