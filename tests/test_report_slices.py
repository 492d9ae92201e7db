"""Reports handled several to a slice merge as when each came alone, and cost few statements.

A slice reads a category's open incidents and who has photos waiting once, for all its
reports (models/prefetch.py), and writes each report, incident and timeline entry with one
Core INSERT. Through the real webhook and processor, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

import bot.processor
from bot import keys
from handlers.clock import FixedClock
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.incidents import MERGE_CANDIDATES, find_mergeable
from models.prefetch import SLICE_FACTS, SliceFacts
from models.tables import Attachment, Incident, IncidentEvent, Member, Report
from tests.conftest import Bot, text_event

DAY = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
GROUP = "gbaove"
PEOPLE = {"c1": "coordinator", "u1": "member", "u2": "member", "u3": "member"}
LAMP = "Báo cáo: đèn chiếu sáng ở kho số {} bị hỏng"

# Reported two hours before the slice: older than the merge window (60 minutes).
EARLIER = [
    ("u3", "Đánh nhau ở nhà ăn"),  # SV1
    ("u3", "Đánh nhau trước cổng số 5"),  # SV2
    ("u3", LAMP.format(12)),  # SV3
]
# One slice, each line with the incident its report belongs to (None: not a report).
SLICE = [
    ("u1", "Đánh nhau ở cổng số 2", 4),  # new
    ("u2", "Có đánh nhau ở cổng số 2", 4),  # same place as one made earlier in the slice
    ("u3", "Đánh nhau ở cổng số 5 và cổng số 2", 4),  # near SV4 (SV2 is out of the window)
    ("u1", "Đánh nhau ở cổng số 5", 4),  # SV4's places grew: the same place, later than SV2
    ("c1", "/xong SV1", None),
    ("u2", "Đánh nhau ở nhà ăn", 5),  # SV1 was closed in the slice
    ("u1", "Báo cáo: đèn chiếu sáng ở kho số 12 và kho số 13 bị hỏng", 6),  # SV3 too old
    ("u2", LAMP.format(13), 6),  # same place as SV6
    ("u3", LAMP.format(12), 6),  # SV6 and SV3 both have it: the later wins
]


@pytest.fixture
async def make_reports_bot(
    make_bot: Any, make_settings: Any, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Any:
    async def start(together: bool) -> Bot:
        if together:  # every stored event in one slice, however slow the machine
            monkeypatch.setattr(bot.processor, "MIN_TAKE", 50)
            monkeypatch.setattr(bot.processor, "SLICE_SECONDS", 60.0)
        settings = make_settings(
            db=db_url,
            groups=[{"chat_id": GROUP, "name": "Tổ bảo vệ KCN", "kind": "enterprise"}],
            platform={"media_hosts": ["127.0.0.1"]},
            alerts={"merge_window_minutes": 60, "photo_attach_minutes": 5},
        )
        b: Bot = await make_bot(settings, clock=FixedClock(DAY - timedelta(hours=2)))
        async with b.sessions() as s, s.begin():
            for member_id, role in PEOPLE.items():
                name = f"Người {member_id}"
                s.add(
                    Member(
                        member_id=member_id,
                        name=name,
                        name_folded=name.lower(),
                        display_name=name,
                        role=role,
                        status="member",
                        private_chat_id=member_id,
                        created_at=DAY - timedelta(days=1),
                        expected_since=DAY - timedelta(days=1),
                    )
                )
        return b

    return start


async def deliver(b: Bot, sender: str, text: str) -> None:
    event = text_event(text, sender=sender, name=f"Người {sender}", at=b.clock.now())
    assert (await b.deliver(event))[0] == 200


async def rows(b: Bot, model: Any) -> list[Any]:
    async with b.sessions() as s:
        return list((await s.execute(select(model).order_by(model.id))).scalars())


@contextmanager
def statements(b: Bot) -> Iterator[list[str]]:
    """The SQL run meanwhile, and the classes the ORM's unit of work wrote."""
    seen: list[str] = []
    sync = b.app[keys.ENGINE].sync_engine

    def on_sql(*args: Any) -> None:
        seen.append(" ".join(args[2].split()))

    def on_flush(session: Session, *_: Any) -> None:
        seen.extend(f"flush {type(o).__name__}" for o in (*session.new, *session.dirty))

    event.listen(sync, "before_cursor_execute", on_sql)
    event.listen(Session, "before_flush", on_flush)
    try:
        yield seen
    finally:
        event.remove(sync, "before_cursor_execute", on_sql)
        event.remove(Session, "before_flush", on_flush)


def count(seen: list[str], pattern: str) -> int:
    return sum(1 for s in seen if re.match(pattern, s))


@pytest.mark.parametrize("together", [False, True], ids=["alone", "one slice"])
async def test_reports_of_one_slice_merge_as_when_each_came_alone(
    make_reports_bot: Any, together: bool
) -> None:
    b: Bot = await make_reports_bot(together)
    for sender, text in EARLIER:
        await deliver(b, sender, text)
        await b.drain()
    b.clock.set(DAY)
    with statements(b) as seen:
        for sender, text, _ in SLICE:
            await deliver(b, sender, text)
            if not together:
                await b.drain()
        await b.drain()

    reports = await rows(b, Report)
    expected = [1, 2, 3] + [pk for _, _, pk in SLICE if pk is not None]
    assert [r.incident_pk for r in reports] == expected
    incidents = {i.id: i for i in await rows(b, Incident)}
    assert [(i.status, i.place_key) for i in incidents.values()] == [
        ("resolved", "place:nha an"),
        ("reported", "gate:5"),
        ("reported", "warehouse:12"),
        ("reported", "gate:2|gate:5"),
        ("reported", "place:nha an"),
        ("reported", "warehouse:12|warehouse:13"),
    ]
    assert incidents[4].last_reported_at == DAY and incidents[2].last_reported_at < DAY
    timeline = [(e.incident_pk, e.kind, e.note) for e in await rows(b, IncidentEvent)]
    assert [t for t in timeline if t[0] == 4] == [
        (4, "report", "báo cáo số 4"),
        (4, "merged", "báo cáo số 5"),
        (4, "merged", "báo cáo số 6"),
        (4, "merged", "báo cáo số 7"),
    ]
    # Every reporter heard of the incident their report went to.
    for sender, _, pk in SLICE:
        if pk is not None:
            assert f"SV{pk}" in " ".join(line.text for line in b.store.bot_lines(sender))
    # One read of the open fights and one of the lamps for the whole slice; one each per
    # report when they come alone.
    reads = count(seen, r"SELECT incidents\.id, incidents\.place_key")
    assert reads == (2 if together else 8)


async def test_a_slices_reports_cost_one_read_and_three_core_inserts_each(
    make_reports_bot: Any,
) -> None:
    b: Bot = await make_reports_bot(True)
    await deliver(b, "u1", LAMP.format(1))  # the members and their chats exist before
    await deliver(b, "u2", LAMP.format(2))
    await b.drain()
    # Six reports of members seen before and one of a newcomer (made in the slice).
    senders = ["u1", "u2", "u3", "u1", "u2", "u3", "n1"]
    with statements(b) as seen:
        for n, sender in enumerate(senders):
            await deliver(b, sender, LAMP.format(10 + n))
        await b.drain()
    assert [r.incident_pk for r in await rows(b, Report)] == list(range(1, 10))
    # Read once for the slice: the open incidents of the category, the photos waiting.
    assert count(seen, r"SELECT incidents\.id, incidents\.place_key") == 1
    assert count(seen, r"SELECT attachments\.member_pk") == 1
    assert count(seen, r"SELECT .* FROM attachments") == 1
    # Written once each by Core: no UPDATE after, nothing through the unit of work.
    for table in ("incidents", "reports", "incident_events"):
        assert count(seen, rf"INSERT INTO {table} ") == 7
        assert count(seen, rf"UPDATE {table} ") == 0
    assert not [s for s in seen if re.match(r"flush (Incident|Report|IncidentEvent)$", s)]
    # Nothing else touches these tables: two reads for the slice, three writes a report.
    mine = [s for s in seen if re.search(r"incidents|reports|incident_events|attachments", s)]
    assert len(mine) == 2 + 3 * 7


async def test_a_photo_waiting_is_claimed_by_the_report_after_it_in_the_slice(
    make_reports_bot: Any,
) -> None:
    b: Bot = await make_reports_bot(True)
    b.clock.set(DAY)
    await deliver(b, "u2", "có mặt")  # a second sender: the slice reads its look-ups
    body = {
        "event_name": "message.image.received",
        "message": {
            "message_type": "CHAT_PHOTO",
            "photo_url": "http://127.0.0.1:9/den.jpg",
            "caption": "",
            "date": int(DAY.timestamp() * 1000),
            "chat": {"id": "u1", "chat_type": "PRIVATE"},
            "from": {"id": "u1", "is_bot": False, "display_name": "Người u1"},
            "message_id": "img00000000000000001",
        },
    }
    assert (await b.deliver(body))[0] == 200
    await deliver(b, "u1", LAMP.format(7))
    await deliver(b, "u3", LAMP.format(8))  # no photo of theirs: nothing to claim
    await b.drain()
    (photo,) = await rows(b, Attachment)
    reports = await rows(b, Report)
    assert photo.report_pk == reports[0].id and reports[0].member_pk == photo.member_pk


async def test_a_slice_reads_again_when_its_read_may_hide_the_candidate(db_url: str) -> None:
    """The 51st open incident is beyond the read; once one above it closes in the slice, it
    is among the latest 50 and a report at its place joins it, as a fresh read would."""
    engine = make_engine(db_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            for n in range(MERGE_CANDIDATES + 1):  # the oldest, SV1, is at warehouse 1
                at = DAY - timedelta(hours=3) + timedelta(minutes=n)
                s.add(
                    Incident(
                        category="equipment",
                        severity="medium",
                        place_key=f"warehouse:{n + 1}",
                        first_reported_at=at,
                        last_reported_at=at,
                    )
                )
        async with sessions() as s, s.begin():
            s.info[SLICE_FACTS] = SliceFacts()
            find = partial(
                find_mergeable, s, category="equipment", now=DAY, window=timedelta(minutes=60)
            )
            assert await find(keys={"warehouse:99"}) is None  # reads the latest 50
            assert await find(keys={"warehouse:1"}) is None  # SV1 is not among them
            newest = await s.get(Incident, MERGE_CANDIDATES + 1)
            assert newest is not None
            newest.status = "resolved"
            await s.flush()  # as the end of its event's savepoint would
            found = await find(keys={"warehouse:1"})
            assert found is not None and found.id == 1
    finally:
        await engine.dispose()
