"""The slice's look-ups read in fewer statements (groups with memberships, senders with open
nudges and unlinked names, check-ins with chat replies) know what the separate reads knew."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import fastlane, prefetch
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.scoping import keep_to_council
from models.tables import CheckIn, Conversation, Group, Member, Membership, Nudge, Outbox

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
SINCE = NOW - timedelta(hours=6)
CHATS = {"g1", "g2", "g-new"}
KINDS = ("attendance", "shift")
# Platform id -> folded display name, as the processor gives them.
SENDERS = {
    "z-reg": "an",
    "z-nudged": "binh",
    "z-guest": "lan",
    "z-new": "mai",
    "z-new2": "hoa",
}


def _member(member_id: str | None, name: str, **kw: Any) -> Member:
    return Member(
        member_id=member_id,
        name=name,
        name_folded=name.lower(),
        created_at=NOW - timedelta(days=30),
        expected_since=NOW - timedelta(days=30),
        **kw,
    )


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """A park: groups, members of every kind the look-ups tell apart, their records."""
    engine = make_engine(db_url)
    await ensure_schema(engine)
    async with make_sessionmaker(engine)() as s, s.begin():
        g1, g2 = (Group(chat_id=c, name=c, created_at=NOW) for c in ("g1", "g2"))
        reg, nudged = _member("z-reg", "An"), _member("z-nudged", "Binh")
        reengaged = _member("z-reengaged", "Cuc")
        guest = _member("z-guest", "Lan", status="guest")
        roster = [
            _member(None, "Mai"),  # unlinked: a newcomer named so is this row
            _member(None, "Hoa", active=False),  # inactive: not a match
            _member(None, "Lan", role="coordinator"),  # the guest's claim
        ]
        s.add_all([g1, g2, reg, nudged, reengaged, guest, *roster])
        await s.flush()
        s.add_all(
            [
                Membership(member_pk=reg.id, group_pk=g1.id, joined_at=NOW),
                Membership(member_pk=reg.id, group_pk=g2.id, joined_at=NOW),
                Membership(member_pk=nudged.id, group_pk=g2.id, joined_at=NOW),
                Membership(member_pk=roster[0].id, group_pk=g1.id, joined_at=NOW),
                Membership(member_pk=reengaged.id, group_pk=g1.id, joined_at=NOW),
                _nudge(nudged.id, None),
                _nudge(reengaged.id, NOW - timedelta(days=1)),
                _claim(guest.id, roster[2].id, NOW + timedelta(days=1)),
                _claim(guest.id, roster[2].id, NOW - timedelta(days=1)),  # expired
                _claim(nudged.id, roster[2].id, NOW + timedelta(days=1)),  # not a guest's
                CheckIn(
                    member_pk=reg.id, chat_id="g1", kind="attendance", at=NOW - timedelta(hours=1)
                ),
                CheckIn(
                    member_pk=reg.id, chat_id="g1", kind="attendance", at=NOW - timedelta(days=5)
                ),
                CheckIn(
                    member_pk=nudged.id, chat_id="g2", kind="shift", at=NOW - timedelta(hours=2)
                ),
                _reply(reg.id, "a", NOW - timedelta(minutes=30)),
                _reply(reg.id, "b", NOW - timedelta(days=1)),
            ]
        )
    yield engine
    await engine.dispose()


def _checkin(member_pk: int, kind: str, ago: timedelta) -> CheckIn:
    return CheckIn(member_pk=member_pk, chat_id="g1", kind=kind, at=NOW - ago)


def _claim(member_pk: int, ref_id: int, expires_at: datetime) -> Conversation:
    return Conversation(
        chat_id="p",
        member_pk=member_pk,
        kind=prefetch.CLAIM_KIND,
        ref_id=ref_id,
        created_at=NOW - timedelta(days=2),
        expires_at=expires_at,
    )


def _nudge(member_pk: int, reengaged_at: datetime | None) -> Nudge:
    return Nudge(
        member_pk=member_pk,
        week="2026-W49",
        level=1,
        channel="private",
        chat_id="p",
        planned_at=NOW - timedelta(days=2),
        reengaged_at=reengaged_at,
    )


def _reply(member_pk: int, key: str, at: datetime) -> Outbox:
    return Outbox(
        chat_id="g1",
        kind="reply",
        priority=1,
        idempotency_key=key,
        next_attempt_at=at,
        member_pk=member_pk,
        ref_type="chat",
        created_at=at,
    )


async def _known(s: AsyncSession) -> dict[str, Any]:
    """What the slice knows after prefetch, in plain values."""
    facts = prefetch.slice_facts(s)
    assert facts is not None
    pks = sorted(facts.member_pks)
    recent = {
        pk: (
            [
                await prefetch.checked_in_since(s, pk, k, SINCE, NOW)
                for k in ("attendance", "shift")
            ],
            await prefetch.chat_replies_since_facts(s, pk, SINCE, NOW),
        )
        for pk in pks
    }
    return {
        "known_ids": dict(prefetch.known_ids(s)),
        "member_pks": pks,
        "nudged": facts.nudged,
        "claiming": facts.claiming,
        "absent_ids": facts.absent_ids,
        "absent_chats": facts.absent_chats,
        "no_unlinked": {n: prefetch.no_unlinked_row_named(s, n) for n in SENDERS.values()},
        "recent": recent,
        "rows": sorted((type(r).__name__, r.id) for r in facts.rows),
    }


async def _prefetched(engine: AsyncEngine, *, ordinary: bool, council: str | None) -> Any:
    async with make_sessionmaker(engine)() as s, s.begin():
        keep_to_council(s, council)
        if ordinary:
            with fastlane.ordinary_path():
                await prefetch.prefetch(s, set(CHATS), SENDERS, NOW)
        else:
            await prefetch.prefetch(s, set(CHATS), SENDERS, NOW)
        keep_to_council(s, None)
        return await _known(s)


@pytest.mark.parametrize("council", [None, "default"])
async def test_the_joined_reads_know_what_the_separate_reads_knew(
    engine: AsyncEngine, council: str | None
) -> None:
    fast = await _prefetched(engine, ordinary=False, council=council)
    ordinary = await _prefetched(engine, ordinary=True, council=council)
    # Newcomers' and guests' names are looked up: Mai's row waits, Hoa's is inactive, Lan's
    # is a coordinator's (no match by name). A member's name is not looked up either way.
    for name in ("mai", "hoa", "lan"):
        assert fast["no_unlinked"][name] == ordinary["no_unlinked"][name]
    assert fast["no_unlinked"]["mai"] is False and fast["no_unlinked"]["hoa"] is True
    fast.pop("no_unlinked"), ordinary.pop("no_unlinked")
    assert fast == ordinary
    assert len(fast["nudged"]) == 1 and len(fast["claiming"]) == 1
    assert fast["absent_ids"] == {"z-new", "z-new2"} and fast["absent_chats"] == {"g-new"}
    # (attendance, shift) since SINCE, and chat replies since SINCE: An's, Binh's, the rest.
    recent = sorted(fast["recent"].values(), key=lambda known: known[1] or 0)
    assert recent[-1] == ([True, False], 1)
    assert ([False, True], 0) in recent
    assert recent.count(([False, False], 0)) == len(recent) - 2
    memberships = [key for key in fast["known_ids"] if key[0] == "membership"]
    assert len(memberships) == 3  # the senders' in g1 and g2; not the roster row's


async def test_the_slice_s_look_ups_take_two_statements_then_one(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    await ensure_schema(engine)
    statements: list[str] = []
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            s.add_all([Group(chat_id="g1", name="g1", created_at=NOW), _member("z-reg", "An")])
            s.add(_member("z-guest", "Lan", status="guest"))

        def seen(*args: Any) -> None:
            if not args[2].startswith("BEGIN"):
                statements.append(args[2])

        event.listen(engine.sync_engine, "before_cursor_execute", seen)
        async with make_sessionmaker(engine)() as s, s.begin():
            await prefetch.prefetch(s, {"g1"}, {"z-reg": "an", "z-guest": "lan", "z-x": "x"}, NOW)
            # Groups with memberships; senders with nudges, claims and names.
            assert len(statements) == 2
            assert "LEFT OUTER JOIN memberships" in statements[0]
            for part in ("FROM nudges", "FROM conversations", "name_folded IN"):
                assert part in statements[1]
            statements.clear()
            facts = prefetch.slice_facts(s)
            assert facts is not None
            (reg,) = [pk for pk in facts.member_pks if pk not in facts.claiming][:1]
            assert await prefetch.checked_in_since(s, reg, "attendance", SINCE, NOW) is False
            assert await prefetch.chat_replies_since_facts(s, reg, SINCE, NOW) == 0
            assert len(statements) == 1 and "UNION ALL" in statements[0]
    finally:
        await engine.dispose()
