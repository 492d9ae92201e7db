"""Who a chat account is: a display name links only a roster `member`; coordinators and admins
are linked by id, by their roster phone typed in a private chat, or by another coordinator's
word (SPEC.md 4). Through the real webhook, processor and sender against a fake Zalo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.texts import core as core_texts
from handlers.texts import identity as texts
from models.roster import import_roster_csv
from models.tables import (
    AuditLog,
    BotMessage,
    CheckIn,
    Directive,
    Group,
    Member,
    Membership,
    Message,
    Outbox,
)
from tests.conftest import T0, Bot, text_event
from tests.fake_zalo import TOKEN, FakeZalo

COUNCIL = "gcouncil"
ROSTER = """member_id,name,phone,enterprise,role,groups
,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil
cb,Trần Thị Bình,0901000002,Ban quản lý KCN,coordinator,gcouncil
,Nguyễn Văn An,0901000003,May Việt,member,gcouncil
u4,Lê Văn Cường,0901000004,May Việt,member,gcouncil
,Hoàng Văn Đức,,Hansol,admin,gcouncil
"""


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = await FakeZalo().start()
    yield fake
    await fake.close()


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo) -> Bot:
    settings = make_settings(
        db=db_url,
        platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN},
        groups=[{"chat_id": COUNCIL, "name": "Hội đồng ANTT KCN", "kind": "council"}],
    )
    b: Bot = await make_bot(settings)
    async with b.sessions() as s, s.begin():
        result = await import_roster_csv(s, ROSTER, T0)
    assert result.errors == [] and result.created == 5
    return b


async def say(
    bot: Bot, sender: str, name: str, text: str, *, group: bool = False, quote: str | None = None
) -> None:
    body = text_event(
        text,
        sender=sender,
        name=name,
        chat=COUNCIL if group else sender,
        group=group,
        at=bot.clock.now(),
        quote=quote,
    )
    status, _ = await bot.deliver(body)
    assert status == 200
    await bot.drain()


def to(zalo: FakeZalo, chat: str) -> list[str]:
    return [b["text"] for b in zalo.sent() if b["chat_id"] == chat]


async def member(bot: Bot, member_id: str) -> Member | None:
    async with bot.sessions() as s:
        stmt = select(Member).where(Member.member_id == member_id)
        return (await s.execute(stmt)).scalar_one_or_none()


async def count(bot: Bot, model: Any) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def claim_message_id(bot: Bot, chat: str) -> str:
    """The platform id of the bot's "is this really them?" question in `chat`."""
    async with bot.sessions() as s:
        stmt = (
            select(BotMessage.message_id)
            .join(Outbox, Outbox.id == BotMessage.outbox_pk)
            .where(Outbox.ref_type == "identity", BotMessage.chat_id == chat)
        )
        return (await s.execute(stmt)).scalars().one()


async def bình_is_reachable(bot: Bot) -> None:
    await say(bot, "cb", "Trần Thị Bình", "có mặt")


async def test_a_stranger_named_like_a_coordinator_gets_no_powers_and_no_alerts(
    bot: Bot, zalo: FakeZalo
) -> None:
    await bình_is_reachable(bot)
    # No diacritics, as many phones type: the name still matches the coordinator's row.
    await say(bot, "s1", "Pham Minh Quan", "/thongbao Tất cả nghỉ trực tối nay")
    await say(bot, "s1", "Pham Minh Quan", "/thongke")
    stranger = await member(bot, "s1")
    assert stranger is not None and stranger.status == "guest" and stranger.role == "member"
    assert await count(bot, Directive) == 0
    refusals = [t for t in to(zalo, "s1") if t.startswith("Lệnh /")]
    assert refusals == [
        core_texts.COORDINATOR_ONLY.format(name="thongbao", you="anh/chị"),
        core_texts.COORDINATOR_ONLY.format(name="thongke", you="anh/chị"),
    ]
    assert texts.ASK_PHONE.format(role="điều phối viên") in to(zalo, "s1")
    (ask,) = [t for t in to(zalo, "cb") if t.startswith("🔐")]
    assert '"Pham Minh Quan"' in ask and "Phạm Minh Quân" in ask
    # The coordinator row is still unlinked and waiting for its owner.
    async with bot.sessions() as s:
        row = (await s.execute(select(Member).where(Member.name == "Phạm Minh Quân"))).scalar_one()
    assert row.member_id is None and row.private_chat_id is None

    before = len(to(zalo, "s1"))
    await say(bot, "u4", "Lê Văn Cường", "Cháy ở xưởng 2 công ty May Việt, khói rất nhiều")
    assert any("KHẨN" in t for t in to(zalo, "cb"))  # the real coordinator is alerted
    assert to(zalo, "s1")[before:] == []  # the stranger hears nothing about the fire


async def test_a_coordinator_links_by_typing_the_roster_phone(bot: Bot, zalo: FakeZalo) -> None:
    await bình_is_reachable(bot)
    await say(bot, "s1", "Phạm Minh Quân", "chào bot")
    assert to(zalo, "s1") == [texts.ASK_PHONE.format(role="điều phối viên")]  # no guest welcome
    # Seen in the council group too: the roster row is a member there already.
    await say(bot, "s1", "Phạm Minh Quân", "@Bot ANTT có mặt", group=True)
    await say(bot, "s1", "Phạm Minh Quân", "0901 000 009")
    assert to(zalo, "s1")[-1] == texts.PHONE_WRONG.format(left=2)
    assert (await member(bot, "s1")).status == "guest"  # type: ignore[union-attr]
    await say(bot, "s1", "Phạm Minh Quân", "số của tôi là +84 901 000 001")
    assert to(zalo, "s1")[-1] == texts.LINKED.format(name="Phạm Minh Quân", role="điều phối viên")

    linked = await member(bot, "s1")
    assert linked is not None and linked.role == "coordinator" and linked.status == "member"
    assert linked.name == "Phạm Minh Quân" and linked.private_chat_id == "s1"
    assert linked.phone == "0901000001"
    async with bot.sessions() as s:
        # The guest row is gone and its four messages now belong to the roster row.
        assert (await s.execute(select(func.count()).select_from(Member))).scalar_one() == 5
        owners = set(
            (await s.execute(select(Message.member_pk).where(Message.member_id == "s1"))).scalars()
        )
        assert owners == {linked.id}
        audit = (await s.execute(select(AuditLog))).scalar_one()
        (checkin,) = (await s.execute(select(CheckIn).where(CheckIn.chat_id == COUNCIL))).scalars()
        (council_ms,) = (
            await s.execute(
                select(Membership)
                .join(Group, Group.id == Membership.group_pk)
                .where(Group.chat_id == COUNCIL, Membership.member_pk == linked.id)
            )
        ).scalars()
    assert checkin.member_pk == linked.id
    assert council_ms.from_roster and council_ms.last_active_at == T0
    assert audit.action == "link_account" and audit.detail["via"] == "phone"

    await say(bot, "s1", "Phạm Minh Quân", "/thongbao Tăng cường tuần tra dịp lễ", group=True)
    assert await count(bot, Directive) == 1
    await say(bot, "u4", "Lê Văn Cường", "Cháy kho 3 May Việt")
    assert any("KHẨN" in t for t in to(zalo, "s1"))


async def test_three_wrong_phones_stop_the_phone_route(bot: Bot, zalo: FakeZalo) -> None:
    await say(bot, "s1", "Pham Minh Quan", "xin chào")
    for wrong in ("0912345678", "0912345679", "0912345670"):
        await say(bot, "s1", "Pham Minh Quan", wrong)
    assert to(zalo, "s1")[-1] == texts.PHONE_LOCKED
    await say(bot, "s1", "Pham Minh Quan", "0901000001")  # the right one, too late
    assert to(zalo, "s1")[-1] == texts.PHONE_LOCKED
    assert (await member(bot, "s1")).role == "member"  # type: ignore[union-attr]


async def test_a_phone_in_a_group_is_not_accepted(bot: Bot, zalo: FakeZalo) -> None:
    await say(bot, "s1", "Phạm Minh Quân", "@Bot ANTT có mặt", group=True)
    assert texts.ASK_PHONE_GROUP in to(zalo, COUNCIL)
    await say(bot, "s1", "Phạm Minh Quân", "@Bot ANTT 0901000001", group=True)
    assert (await member(bot, "s1")).status == "guest"  # type: ignore[union-attr]


async def test_a_coordinator_confirms_with_a_command(bot: Bot, zalo: FakeZalo) -> None:
    await bình_is_reachable(bot)
    await say(bot, "s2", "Hoang Van Duc", "/thongke")  # an admin row without a phone
    assert texts.WAIT_COORDINATOR.format(role="quản trị viên") in to(zalo, "s2")
    (ask,) = [t for t in to(zalo, "cb") if t.startswith("🔐")]
    n = ask.rsplit("/xacnhan ", 1)[1].split(".")[0]

    await say(bot, "u4", "Lê Văn Cường", f"/xacnhan {n}")  # a member cannot vouch
    assert to(zalo, "u4")[-1] == core_texts.COORDINATOR_ONLY.format(name="xacnhan", you="anh/chị")
    await say(bot, "cb", "Trần Thị Bình", "/xacnhan")
    assert to(zalo, "cb")[-1] == texts.CONFIRM_LIST.format(
        lines=texts.CONFIRM_LINE.format(n=n, display="Hoang Van Duc", name="Hoàng Văn Đức")
    )
    await say(bot, "cb", "Trần Thị Bình", f"/xacnhan {n}")
    assert to(zalo, "cb")[-1] == texts.CONFIRM_DONE.format(
        display="Hoang Van Duc", name="Hoàng Văn Đức"
    )
    assert to(zalo, "s2")[-1] == texts.LINKED_BY.format(
        by="Anh/chị Trần Thị Bình", name="Hoàng Văn Đức", role="quản trị viên"
    )
    linked = await member(bot, "s2")
    assert linked is not None and linked.role == "admin" and linked.status == "member"
    await say(bot, "cb", "Trần Thị Bình", f"/xacnhan {n}")
    assert to(zalo, "cb")[-1] == texts.CONFIRM_UNKNOWN.format(n=n)


async def test_a_coordinator_confirms_or_refuses_by_quote_reply(bot: Bot, zalo: FakeZalo) -> None:
    await bình_is_reachable(bot)
    await say(bot, "s1", "Phạm Minh Quân", "xin chào")
    await say(bot, "s3", "Pham Minh Quan", "xin chao")  # a second claimant of the same name
    asks = await _asks(bot)
    await say(bot, "cb", "Trần Thị Bình", "Khong phai", quote=asks["Pham Minh Quan"])
    assert to(zalo, "cb")[-1] == texts.CONFIRM_REFUSED.format(
        display="Pham Minh Quan", name="Phạm Minh Quân"
    )
    await say(bot, "cb", "Trần Thị Bình", "Đồng ý, đúng anh Quân", quote=asks["Phạm Minh Quân"])
    assert (await member(bot, "s1")).role == "coordinator"  # type: ignore[union-attr]
    assert (await member(bot, "s3")).status == "guest"  # type: ignore[union-attr]
    # The row is linked now: the second claimant's phone no longer proves anything.
    await say(bot, "s3", "Pham Minh Quan", "0901000001")
    assert (await member(bot, "s3")).status == "guest"  # type: ignore[union-attr]


async def _asks(bot: Bot) -> dict[str, str]:
    """Display name -> platform id of the question about that account sent to Bình."""
    async with bot.sessions() as s:
        stmt = (
            select(Outbox.text, BotMessage.message_id)
            .join(BotMessage, BotMessage.outbox_pk == Outbox.id)
            .where(Outbox.ref_type == "identity", BotMessage.chat_id == "cb")
        )
        rows = (await s.execute(stmt)).all()
    return {text.split('"')[1]: mid for text, mid in rows}


async def test_a_stranger_is_not_promised_a_message_to_the_coordinators(
    bot: Bot, zalo: FakeZalo
) -> None:
    """No coordinator is told of a guest (the dashboard lists them): the welcome says so."""
    await bình_is_reachable(bot)
    before = to(zalo, "cb")
    await say(bot, "s9", "Lò Văn Mới", "Chào, tôi là bảo vệ mới cty ABC")
    assert to(zalo, "s9")[0] == core_texts.WELCOME_GUEST.format(name="anh/chị Lò Văn Mới")
    assert "sẽ báo" not in to(zalo, "s9")[0]
    assert to(zalo, "cb") == before


async def test_a_second_sender_with_a_linked_name_is_a_guest(bot: Bot, zalo: FakeZalo) -> None:
    await say(bot, "a1", "Nguyễn Văn An", "có mặt")
    first = await member(bot, "a1")
    assert first is not None and first.status == "member" and first.phone == "0901000003"
    await say(bot, "a2", "Nguyen Van An", "có mặt")
    second = await member(bot, "a2")
    assert second is not None and second.status == "guest" and second.id != first.id
    # Same for a coordinator already linked by id: no claim, nobody is asked.
    await say(bot, "b2", "Trần Thị Bình", "/thongke")
    impostor = await member(bot, "b2")
    assert impostor is not None and impostor.status == "guest" and impostor.role == "member"
    assert to(zalo, "b2")[-1] == core_texts.COORDINATOR_ONLY.format(name="thongke", you="anh/chị")
    assert not [t for b in zalo.sent() if (t := b["text"]).startswith("🔐")]


async def test_a_row_removed_from_the_roster_cannot_be_claimed(bot: Bot, zalo: FakeZalo) -> None:
    await bình_is_reachable(bot)
    await say(bot, "s1", "Phạm Minh Quân", "xin chào")
    async with bot.sessions() as s, s.begin():
        stmt = select(Member).where(Member.name == "Phạm Minh Quân", Member.status == "member")
        row = (await s.execute(stmt)).scalar_one()
        row.active = False  # the admin took him off the roster meanwhile
    (ask,) = [t for t in to(zalo, "cb") if t.startswith("🔐")]
    n = ask.rsplit("/xacnhan ", 1)[1].split(".")[0]
    await say(bot, "s1", "Phạm Minh Quân", "0901000001")
    await say(bot, "cb", "Trần Thị Bình", f"/xacnhan {n}")
    assert to(zalo, "cb")[-1] == texts.CONFIRM_UNKNOWN.format(n=n)
    assert (await member(bot, "s1")).status == "guest"  # type: ignore[union-attr]
