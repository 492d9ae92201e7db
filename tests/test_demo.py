"""The demo's HTTP API: members' lines go through the real webhook, Zalo's group rule holds,
and the clock control runs the scheduled jobs."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot import keys
from bot.app import create_app
from bot.demo import DemoState, DemoStore, data, install_demo, server
from bot.demo.post import starter_row
from bot.demo.server import jump_steps, mentions_bot
from handlers.clock import Clock, FixedClock
from handlers.config import Settings, load_settings
from handlers.jobs import JOBS, JobSpec, every
from handlers.registry import HANDLERS
from models.outbox import enqueue
from models.tables import InboundEvent, Member, Message
from tests.conftest import T0

STARTER = Path(__file__).resolve().parents[1] / "examples" / "posts_starter.csv"

COUNCIL, LAN, TUNG, QUAN = data.COUNCIL, "demo-lan", "demo-tung", "demo-quan"


def demo_settings(tmp_path: Path) -> Settings:
    overrides = data.settings_overrides(
        f"sqlite+aiosqlite:///{tmp_path / data.DB_FILE}", "http://127.0.0.1"
    )
    return load_settings(None, environ={}, overrides=overrides)


class Demo:
    def __init__(self, client: TestClient[Any, Any], app: web.Application) -> None:
        self.http = client
        self.app = app

    async def get(self, path: str) -> Any:
        async with self.http.get(path) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        async with self.http.post(path, json=body) as resp:
            return resp.status, await resp.json()

    async def say(self, member: str, chat: str, text: str, quote: str | None = None) -> Any:
        status, body = await self.post(
            "/demo/api/send",
            {"member_id": member, "chat_id": chat, "text": text, "quote_message_id": quote},
        )
        assert status == 200, body
        return body

    async def wait_for(
        self, pred: Callable[[dict[str, Any]], bool], after: int = 0, seconds: float = 10
    ) -> dict[str, Any]:
        """The first line after `after` that matches, waiting with the long poll."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            body = await self.get(f"/demo/api/lines?after={after}&wait=2")
            for line in body["lines"]:
                if pred(line):
                    return line
                after = max(after, line["id"])
        raise AssertionError("no such line appeared")

    async def runtime_settled(self, seconds: float = 10) -> None:
        """Wait until the processor has handled every stored event."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            async with self.app[keys.SESSIONS]() as session:
                pending = await session.scalar(
                    select(func.count())
                    .select_from(InboundEvent)
                    .where(InboundEvent.status == "pending")
                )
            if not pending:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("events still pending")

    async def lines(self) -> list[dict[str, Any]]:
        return list((await self.get("/demo/api/lines?after=0"))["lines"])


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    clock = FixedClock(T0)  # Friday 09:00 in Hanoi: outside quiet hours
    app = create_app(demo_settings(tmp_path), clock=clock, local_store=DemoStore(clock=clock))
    install_demo(app, DemoState(clock=clock))
    client = TestClient(TestServer(app, port=0))
    await client.start_server()
    try:
        yield Demo(client, app)
    finally:
        await client.close()


def bot_in(chat: str) -> Callable[[dict[str, Any]], bool]:
    return lambda line: line["is_bot"] and line["chat_id"] == chat


async def test_page_and_its_files_are_served(demo: Demo) -> None:
    async with demo.http.get("/demo") as resp:
        assert resp.status == 200
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        assert "/demo/static/app.js" in await resp.text()
    for name in ("app.js", "style.css"):
        async with demo.http.get(f"/demo/static/{name}") as resp:
            assert resp.status == 200
    for bad in ("index.htm", "..%2Fserver.py", "roster.csv"):
        async with demo.http.get(f"/demo/static/{bad}") as resp:
            assert resp.status == 404


async def test_state_lists_the_seeded_council(demo: Demo) -> None:
    state = await demo.get("/demo/api/state")
    assert len(state["members"]) == 8
    assert {c["id"] for c in state["chats"]} == {data.COUNCIL, data.MAY_VIET, data.HANSOL}
    assert state["bot"]["name"] == "Bot ANTT"
    assert state["now"]["time"].startswith("2026-11-27T09:00")
    assert state["now"]["day_label"] == "Thứ Sáu, 27/11/2026"
    roles = {m["id"]: m["role_label"] for m in state["members"]}
    assert roles[QUAN] == "Điều phối viên"
    assert state["dashboard"]["password"] == "demo"
    assert [u["id"] for u in state["dashboard"]["users"]] == [QUAN, "demo-hong"]
    # The roster is in the database as members, not guests.
    async with demo.app[keys.SESSIONS]() as session:
        rows = (await session.execute(select(Member))).scalars().all()
    assert {m.member_id for m in rows} == {m["id"] for m in state["members"]}
    assert all(m.status == "member" for m in rows)
    assert {m.member_id for m in rows if m.private_chat_id is None} == set(data.NO_PRIVATE_CHAT)


async def test_private_message_reaches_the_bot_and_its_reply_shows(demo: Demo) -> None:
    sent = await demo.say(LAN, LAN, "/huongdan")
    assert sent["delivered"] is True and sent["line"]["seen_by_bot"] is True
    reply = await demo.wait_for(bot_in(LAN), after=sent["line"]["id"])
    assert "/huongdan" in reply["text"]
    assert reply["time"].startswith("2026-11-27T09:00")  # the bot's clock, not the wall clock
    async with demo.app[keys.SESSIONS]() as session:
        stored = (
            await session.execute(
                select(Message).where(Message.message_id == sent["line"]["message_id"])
            )
        ).scalar_one()
    assert (stored.platform, stored.chat_type, stored.member_id) == ("local", "private", LAN)


async def test_fire_report_is_confirmed_and_coordinator_alerted(demo: Demo) -> None:
    if "incident" not in HANDLERS:
        pytest.skip("the incident flow has not landed yet")
    sent = await demo.say(LAN, LAN, "Cháy ở xưởng 2")
    await demo.wait_for(bot_in(LAN), after=sent["line"]["id"])
    alert = await demo.wait_for(bot_in(QUAN), after=sent["line"]["id"])
    assert "xưởng 2" in alert["text"]


async def test_group_chatter_is_shown_but_not_delivered(demo: Demo) -> None:
    sent = await demo.say(TUNG, COUNCIL, "Mọi người ăn trưa chưa?")
    assert sent["delivered"] is False
    assert sent["line"]["seen_by_bot"] is False
    await asyncio.sleep(0.5)
    lines = await demo.lines()
    assert [x["text"] for x in lines] == ["Mọi người ăn trưa chưa?"]
    async with demo.app[keys.SESSIONS]() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


async def test_group_mention_and_quote_reply_are_delivered(demo: Demo) -> None:
    sent = await demo.say(QUAN, COUNCIL, "@Bot ANTT /huongdan")
    assert sent["delivered"] is True
    bot_line = await demo.wait_for(bot_in(COUNCIL), after=sent["line"]["id"])
    # A quote-reply to the bot's message reaches it; a quote of a member's line does not.
    quoted = await demo.say(LAN, COUNCIL, "cảm ơn bot", quote=bot_line["message_id"])
    assert quoted["delivered"] is True
    assert quoted["line"]["quote_message_id"] == bot_line["message_id"]
    member_quote = await demo.say(TUNG, COUNCIL, "đồng ý", quote=quoted["line"]["message_id"])
    assert member_quote["delivered"] is False
    await demo.runtime_settled()
    async with demo.app[keys.SESSIONS]() as session:
        rows = (await session.execute(select(Message).order_by(Message.id))).scalars().all()
    assert [(m.text, m.chat_type, m.quote_message_id) for m in rows] == [
        ("@Bot ANTT /huongdan", "group", None),
        ("cảm ơn bot", "group", bot_line["message_id"]),
    ]


async def test_send_refuses_what_the_page_never_sends(demo: Demo) -> None:
    other = await demo.say(LAN, LAN, "xin chào")
    cases: list[Any] = [
        {"member_id": "nobody", "chat_id": LAN, "text": "hi"},
        {"member_id": LAN, "chat_id": data.HANSOL, "text": "hi"},  # not her group
        {"member_id": LAN, "chat_id": TUNG, "text": "hi"},  # someone else's private chat
        {"member_id": LAN, "chat_id": LAN, "text": "   "},
        {"member_id": LAN, "chat_id": LAN, "text": "x" * 2001},
        {
            "member_id": LAN,
            "chat_id": COUNCIL,
            "text": "hi",
            "quote_message_id": other["line"]["message_id"],
        },  # a line of another chat
        ["not", "an", "object"],
    ]
    for body in cases:
        status, answer = await demo.post("/demo/api/send", body)
        assert status == 400 and answer["ok"] is False, body
    async with demo.http.post("/demo/api/send", data=b"{oops") as resp:
        assert resp.status == 400


class CountedSignal(asyncio.Event):
    """The store's change signal, counting the long polls parked on it."""

    def __init__(self) -> None:
        super().__init__()
        self.parked = 0
        self.someone_parked = asyncio.Event()

    async def wait(self) -> Literal[True]:
        self.parked += 1
        self.someone_parked.set()
        return await super().wait()


async def test_long_poll_wakes_on_a_new_line(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    """The poll parks on the store's change signal and the new line wakes it. Its wait is
    longer than the test may run, so only the wake-up can answer it: no clock is read."""
    monkeypatch.setattr(server, "LONG_POLL_SECONDS", 3600.0)
    signal = CountedSignal()
    demo.app[keys.LOCAL_STORE].changed = signal
    waiting = asyncio.create_task(demo.get("/demo/api/lines?after=0&wait=3600"))
    parked = asyncio.create_task(signal.someone_parked.wait())
    await asyncio.wait({waiting, parked}, return_when=asyncio.FIRST_COMPLETED)
    assert signal.parked == 1 and not waiting.done()
    await demo.say(TUNG, COUNCIL, "chào cả nhà")
    body = await waiting
    assert body["lines"][0]["text"] == "chào cả nhà"


async def test_clock_jump_runs_every_job_step_by_step(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[datetime] = []

    async def probe(sessions: Any, settings: Settings, clock: Clock) -> int:
        seen.append(clock.now())
        async with sessions() as session, session.begin():
            queued = await enqueue(
                session,
                chat_id=COUNCIL,
                text="Kiểm tra định kỳ",
                kind="reminder",
                key="demo-probe",
                now=clock.now(),
            )
        return 1 if queued else 0

    monkeypatch.setitem(JOBS, "zz_demo_probe", JobSpec("zz_demo_probe", probe, every(15), "test"))
    status, body = await demo.post("/demo/api/clock", {"minutes": 60})
    assert status == 200, body
    assert body["now"]["time"].startswith("2026-11-27T10:00")
    assert body["queued"]["zz_demo_probe"] == 1  # idempotency key: once, though run each step
    assert seen == [T0 + timedelta(minutes=10 * n) for n in range(1, 7)]
    assert body["sent"] >= 1 and body["errors"] == []
    line = await demo.wait_for(lambda x: x["text"] == "Kiểm tra định kỳ")
    assert line["chat_id"] == COUNCIL and line["time_label"] == "09:10"
    state = await demo.get("/demo/api/state")
    assert state["now"]["time_label"] == "10:00"


async def test_a_failing_job_is_reported_not_fatal(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(sessions: Any, settings: Settings, clock: Clock) -> int:
        raise RuntimeError("boom")

    monkeypatch.setitem(JOBS, "zz_broken", JobSpec("zz_broken", broken, every(15), "test"))
    status, body = await demo.post("/demo/api/clock", {"minutes": 10})
    assert status == 200 and body["errors"] == ["zz_broken"]


@pytest.mark.parametrize("body", [{"minutes": 0}, {"minutes": 44641}, {"minutes": "soon"}, {}])
async def test_clock_refuses_bad_jumps(demo: Demo, body: dict[str, Any]) -> None:
    status, _ = await demo.post("/demo/api/clock", body)
    assert status == 400


async def test_serve_has_no_demo_routes(tmp_path: Path) -> None:
    app = create_app(demo_settings(tmp_path), clock=FixedClock(T0), workers=False)
    client = TestClient(TestServer(app, port=0))
    await client.start_server()
    try:
        for path in ("/demo", "/demo/api/state"):
            async with client.get(path) as resp:
                assert resp.status == 404
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@Bot ANTT có mặt", True),
        ("báo cáo @bot antt: cháy", True),
        ("@Bot ANTT có mặt".replace("ó", "o\u0301"), True),  # NFD input
        ("Bot ANTT ơi", False),
        ("@Bot", False),
    ],
)
def test_mentions_bot(text: str, expected: bool) -> None:
    assert mentions_bot(text, "Bot ANTT") is expected


@pytest.mark.parametrize(("minutes", "count"), [(1, 1), (60, 6), (61, 7), (1440, 29), (10080, 77)])
def test_jump_steps_cover_the_jump(minutes: int, count: int) -> None:
    steps = jump_steps(timedelta(minutes=minutes))
    assert len(steps) == count and sum(steps, timedelta(0)) == timedelta(minutes=minutes)


async def test_the_starter_packs_quiz_post_goes_out_at_its_time(demo: Demo) -> None:
    """The guided script's post: on the calendar for the next polite 09:00 (Saturday 28/11,
    since Friday's has passed), published by the posts job when the clock gets there."""
    post = (await demo.get("/demo/api/state"))["post"]
    assert post["published"] is False and post["question"] == "Số điện thoại báo cháy là số nào?"
    assert datetime.fromisoformat(post["at"]) == datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert post["minutes_to_publish"] == 24 * 60 + 5
    status, body = await demo.post("/demo/api/clock", {"minutes": 24 * 60 - 10})
    assert status == 200 and not (await demo.get("/demo/api/state"))["post"]["published"]
    status, body = await demo.post("/demo/api/clock", {"minutes": 15})
    assert status == 200 and body["queued"]["posts"] == 1, body
    line = await demo.wait_for(lambda x: "❓ Câu hỏi: Số điện thoại báo cháy" in x["text"])
    assert line["chat_id"] == COUNCIL and line["text"].startswith("🔥 PHÒNG CHÁY")
    assert (await demo.get("/demo/api/state"))["post"]["published"] is True


def test_the_demo_post_is_the_starter_packs_first() -> None:
    """bot/demo/post.csv ships with the package; it must not drift from the starter pack."""
    with STARTER.open(encoding="utf-8-sig") as f:
        first = next(csv.DictReader(f))
    assert starter_row() == {k: first[k] for k in starter_row()}
