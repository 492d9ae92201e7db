"""Faults, each bounded in time, loopback only: a killed process, Zalo down, the database
gone, concurrent copies, clock jumps across the digest, and two instances on one database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot import keys
from bot.app import create_app
from bot.sender import CLAIM_SECONDS, SEND_AT_ONCE
from handlers.config import Settings
from models.db import make_engine, make_sessionmaker
from models.outbox import enqueue
from models.tables import InboundEvent, Message, Outbox
from tests.conftest import PG_URL, SECRET, Bot, text_event
from tests.fake_zalo import TOKEN, FakeZalo

ROOT = Path(__file__).resolve().parent.parent
HEADERS = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": SECRET}


class RecordingZalo(FakeZalo):
    """The fake platform, also keeping what it accepted (answers from `script` are failures)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.delivered: list[dict[str, Any]] = []

    def answer(self, method: str, body: dict[str, Any]) -> web.Response:
        resp = super().answer(method, body)
        if method in ("sendMessage", "sendPhoto") and resp.status == 200:
            self.delivered.append(body)
        return resp


@pytest.fixture
async def zalo() -> AsyncIterator[RecordingZalo]:
    fake = RecordingZalo()
    await fake.start()
    yield fake
    await fake.close()


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    """Poll `check` until true; fail with `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


async def count(sessions: Any, model: Any, *where: Any) -> int:
    async with sessions() as s:
        return int(
            (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> int:
    async with http.post(
        url, data=json.dumps(body, ensure_ascii=False).encode(), headers=HEADERS
    ) as resp:
        await resp.read()
        return resp.status


# ---------------------------------------------------------------- (1) kill -9 under load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Serve:
    """`python -m bot serve` in a subprocess with its config in tmp_path."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config, self.port, self.log = config, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        env = {
            **os.environ,
            "ANTT_PLATFORM__TOKEN": TOKEN,
            "ANTT_PLATFORM__WEBHOOK_SECRET": SECRET,
            "PYTHONPATH": str(ROOT),
        }
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: ASYNC220 (a quick fork, then we poll)
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "serve",
                    "-c",
                    str(self.config),
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=out,
            )

        async def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"serve exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{self.url}/healthz") as resp:
                    return resp.status == 200
            return False

        await wait_for(healthy, 30, "serve to answer /healthz")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@pytest.mark.slow
async def test_kill_9_under_load_loses_nothing_and_says_nothing_twice(
    tmp_path: Path, zalo: RecordingZalo
) -> None:
    db = tmp_path / "antt.db"
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": {"url": f"sqlite+aiosqlite:///{db}"},
                "platform": {"kind": "zalo_bot", "api_base": zalo.api_base},
                "engagement": {"holidays": [], "monthly_message_budget": 0},
                "log_level": "INFO",
            }
        ),
        encoding="utf-8",
    )
    serve = Serve(config, free_port(), tmp_path / "serve.log")
    acked: set[str] = set()  # message ids answered 200
    stop = asyncio.Event()
    n = iter(range(10**6))

    async def load(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            i = next(n)
            body = text_event("/huongdan", sender=f"k{i:06d}", message_id=f"kill{i:016d}")
            try:
                if await post(http, f"{serve.url}/webhook/zalo-bot", body) == 200:
                    acked.add(body["message"]["message_id"])
            except aiohttp.ClientError:
                await asyncio.sleep(0.01)  # the process is down: Zalo would redeliver later

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        try:
            await serve.start(http)
            loaders = [asyncio.create_task(load(http)) for _ in range(8)]

            async def flowing() -> bool:
                return len(zalo.delivered) >= 20

            await wait_for(flowing, 20, "replies to flow before the kill")
            serve.kill()  # mid-stream: requests in flight, events claimed, sends under way
            killed_wall = datetime.now(UTC)
            killed_at = len(acked)
            await asyncio.sleep(0.3)
            stop.set()
            await asyncio.gather(*loaders)
            await serve.start(http)
        finally:
            stop.set()

        engine = make_engine(f"sqlite+aiosqlite:///{db}")
        sessions = make_sessionmaker(engine)
        try:
            # Events the dead process had claimed wait out their claim (processor.CLAIM_SECONDS).
            await wait_for(lambda: _all_handled(sessions), 90, "every stored event handled")
            # ... and the restarted sender's last claim recorded (its claims end later than
            # any the killed process made), so that what is left "sending" is the kill's.
            restarted = killed_wall + timedelta(seconds=CLAIM_SECONDS + 0.2)
            await wait_for(
                lambda: _none_sending_since(sessions, restarted), 30, "the last sends recorded"
            )
            async with sessions() as s:
                events = list((await s.execute(select(InboundEvent))).scalars())
                messages = Counter((await s.execute(select(Message.message_id))).scalars())
                outbox = list((await s.execute(select(Outbox))).scalars())
        finally:
            await engine.dispose()
            serve.stop()

    stored = {e.message_id for e in events}
    assert killed_at > 0 and acked <= stored, "a delivery answered 200 was lost"
    assert all(e.status == "done" for e in events)
    assert all(c == 1 for c in messages.values()) and set(messages) == stored
    # A stranger gets a welcome and the usage reply: count by what was said, to whom.
    said = Counter((b["chat_id"], b["text"]) for b in zalo.delivered)
    replies = [o for o in outbox if o.idempotency_key.startswith("reply:")]
    assert len(replies) == len(stored), "an event's reply is missing"
    for row in outbox:
        if row.status == "sent":
            assert said[(row.chat_id, row.text)] == 1, "a reply went out twice"
        else:
            # Only a send cut by the kill may be unknown; it is never repeated.
            assert row.status in ("sending", "failed"), row.status
            assert said[(row.chat_id, row.text)] <= 1
    assert all(n == 1 for n in said.values())
    # At most the sends in flight at the kill (one per chat, SEND_AT_ONCE chats at once).
    assert sum(1 for o in outbox if o.status != "sent") <= SEND_AT_ONCE
    assert TOKEN.split(":")[1] not in serve.log.read_text(encoding="utf-8", errors="replace")


async def _all_handled(sessions: Any) -> bool:
    pending = await count(sessions, InboundEvent, InboundEvent.status == "pending")
    unsent = await count(sessions, Outbox, Outbox.status == "pending")
    return pending == 0 and unsent == 0


async def _none_sending_since(sessions: Any, until: datetime) -> bool:
    """No row is out in a claim that ends after `until` (a claim made after it)."""
    late = Outbox.claimed_until > until
    return await count(sessions, Outbox, Outbox.status == "sending", late) == 0


# ---------------------------------------------------------------- (2) Zalo down, then back

KINDS = ["nudge", "digest", "task", "reminder", "directive", "reply", "alert"]


async def test_zalo_down_for_minutes_then_back_sends_each_once_in_priority_order(
    make_bot: Any, make_settings: Any, db_url: str, zalo: RecordingZalo
) -> None:
    settings = make_settings(
        db=db_url,
        platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN},
        engagement={"monthly_message_budget": 1000},
    )
    bot = await make_bot(settings)
    async with bot.sessions() as s, s.begin():
        for i, kind in enumerate(KINDS * 2):
            await enqueue(
                s,
                chat_id=f"c{i}",
                text=f"{kind} {i}",
                kind=kind,
                key=f"down:{i}",
                now=bot.clock.now(),
            )
    port = zalo.server.port if zalo.server else 0
    await zalo.close()  # connection refused

    async def minutes(n: int) -> None:
        for _ in range(n * 2):
            bot.clock.advance(timedelta(seconds=30))
            await bot.drain()

    await minutes(4)
    refused_attempts = await _attempts(bot)
    assert refused_attempts >= 14 * 3 and not zalo.delivered
    # Back, but failing: 500s, then 429 with Retry-After.
    revived = web.Application()
    revived.router.add_post("/{bot}/{method}", zalo.handle)
    zalo.server = TestServer(revived, port=port)
    await zalo.server.start_server()
    zalo.script = [(500, {"ok": False, "error_code": 500, "description": "down"}, {})] * 20
    zalo.script += [
        (429, {"ok": False, "error_code": 429, "description": "slow down"}, {"Retry-After": "90"})
    ] * 200
    await minutes(6)
    assert not zalo.delivered and len(zalo.calls) >= 20
    zalo.script.clear()
    bot.clock.advance(timedelta(minutes=15))  # past every backoff and Retry-After
    await bot.drain()

    texts = [b["text"] for b in zalo.delivered]
    assert sorted(texts) == sorted(f"{k} {i}" for i, k in enumerate(KINDS * 2)), "each once"
    priority = [t.split()[0] for t in texts]
    assert priority == [k for k in reversed(KINDS) for _ in range(2)], "priority order"
    rows = await _rows(bot)
    assert all(r.status == "sent" and r.chunks_sent == 1 for r in rows)
    async with bot.http.get("/metrics") as resp:
        metrics = await resp.text()
    # Failed attempts cost nothing: 14 messages went out, 14 were counted.
    assert "antt_budget_left 986.0" in metrics


async def _rows(bot: Bot) -> list[Outbox]:
    async with bot.sessions() as s:
        return list((await s.execute(select(Outbox).order_by(Outbox.id))).scalars())


async def _attempts(bot: Bot) -> int:
    return sum(r.attempts for r in await _rows(bot))


# ---------------------------------------------------------------- (3) database unavailable


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="ANTT_TEST_POSTGRES_URL not set")
async def test_database_unavailable_answers_503_and_recovers_by_itself(
    make_settings: Any, tmp_path: Path
) -> None:
    """PostgreSQL refuses new connections and drops the open ones (ALLOW_CONNECTIONS false +
    pg_terminate_backend, as in a failover or a restart), then comes back."""
    from tests.conftest import _fresh_pg

    gen = _fresh_pg()
    url = await gen.__anext__()
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    app = create_app(make_settings(db=url, platform={"kind": "zalo_bot"}))
    server = TestServer(app, port=0)
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        async with aiohttp.ClientSession() as http:
            assert await post(http, f"{base}/webhook/zalo-bot", text_event("trước")) == 200
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            down = [
                await post(http, f"{base}/webhook/zalo-bot", text_event(f"khi mất {i}"))
                for i in range(3)
            ]
            assert down == [503] * 3
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 503
                assert (await resp.json())["status"] == "unavailable"
            await asyncio.sleep(1.5)  # the workers meet the outage too, and must survive it
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            after = text_event("sau")

            async def back() -> bool:
                return await post(http, f"{base}/webhook/zalo-bot", after) == 200

            await wait_for(back, 15, "the webhook to accept deliveries again")
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
            sessions = app[keys.SESSIONS]
            await wait_for(lambda: _done(sessions, 2), 15, "the workers to process again")
            assert await count(sessions, InboundEvent) == 2  # nothing stored while down
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
        await server.close()
        with contextlib.suppress(StopAsyncIteration):
            await gen.__anext__()


async def _done(sessions: Any, n: int) -> bool:
    return await count(sessions, InboundEvent, InboundEvent.status == "done") == n


# ---------------------------------------------------------------- (4) three concurrent copies


async def test_three_concurrent_copies_are_stored_processed_and_answered_once(
    make_bot: Any, make_settings: Any, db_url: str, zalo: RecordingZalo
) -> None:
    bot = await make_bot(
        make_settings(
            db=db_url, platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN}
        )
    )
    bodies = [text_event("/huongdan", sender=f"t{i}") for i in range(10)]
    results = await asyncio.gather(*(bot.deliver(b) for b in bodies for _ in range(3)))
    assert [s for s, _ in results] == [200] * 30
    assert sum(1 for _, b in results if b.get("duplicate")) == 20
    await asyncio.gather(bot.drain(), bot.drain(), bot.drain())
    assert await count(bot.sessions, InboundEvent) == 10
    assert await count(bot.sessions, Message) == 10
    said = Counter((b["chat_id"], b["text"]) for b in zalo.delivered)
    assert set(said.values()) == {1} and {c for c, _ in said} == {f"t{i}" for i in range(10)}
    assert await count(bot.sessions, Outbox, Outbox.status == "sent") == len(said)


# ---------------------------------------------------------------- (5) the weekly digest

COORD_CHAT = "gcoord0000000000000001"


def _digest_settings(make_settings: Any, db: str) -> Settings:
    settings: Settings = make_settings(
        db=db,
        groups=[{"chat_id": COORD_CHAT, "name": "Ban điều phối", "kind": "council"}],
        coordinators=[COORD_CHAT],
        digest={"weekday": "mon", "time": "08:00"},
    )
    return settings


def _local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A Hanoi wall-clock time (UTC+7) as aware UTC."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=7)


async def test_clock_jumps_and_a_restart_across_the_digest_time_give_one_digest(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    from handlers.jobs import load_all

    if "weekly_digest" not in load_all():
        pytest.skip("the weekly_digest job (handlers/jobs/digest.py) is not there yet")
    settings = _digest_settings(make_settings, db_url)
    a = await make_bot(settings)
    # A council whose roster exists since mid-November (no digest for weeks before a roster).
    from models.roster import import_roster_csv

    async with a.sessions() as session, session.begin():
        await import_roster_csv(
            session, "member_id,name\nu1,Nguyễn Văn An\n", _local(2026, 11, 16, 8, 0)
        )
    a.clock.set(_local(2026, 11, 29, 23, 50))  # Sunday night: only last week's, caught up
    await a.runtime.run_job("weekly_digest")
    assert await _digest_keys(a) == [f"digest:{COORD_CHAT}:2026-W47"]
    a.clock.set(_local(2026, 11, 30, 8, 5))  # past Monday 08:00
    assert (await a.runtime.run_job("weekly_digest")).queued >= 1
    a.clock.set(_local(2026, 11, 30, 7, 55))  # the clock jumps back (NTP, the demo control)
    assert (await a.runtime.run_job("weekly_digest")).queued == 0
    await a.drain()
    await a.http.close()  # a restart: a new process on the same database, later that day
    b = await make_bot(settings)
    b.clock.set(_local(2026, 11, 30, 11, 0))
    c = await make_bot(settings)  # and a second instance running the same job at once
    c.clock.set(_local(2026, 11, 30, 11, 0))
    outcomes = await asyncio.gather(
        b.runtime.run_job("weekly_digest"), c.runtime.run_job("weekly_digest")
    )
    assert sum(o.queued for o in outcomes) == 0
    b.clock.set(_local(2026, 12, 3, 9, 0))  # a jump forward inside the same week
    assert (await b.runtime.run_job("weekly_digest")).queued == 0
    await b.drain()
    assert await _digest_keys(b) == [
        f"digest:{COORD_CHAT}:2026-W47",
        f"digest:{COORD_CHAT}:2026-W48",
    ]
    sent = [m for bot in (a, b, c) for m in bot.store.lines if m.is_bot and m.chat_id == COORD_CHAT]
    assert len([m for m in sent if not m.photo_url]) == 2  # W47 and W48, each once
    b.clock.set(_local(2026, 12, 7, 8, 30))  # the next Monday: the next week's, once
    assert (await b.runtime.run_job("weekly_digest")).queued >= 1
    assert (await c.runtime.run_job("weekly_digest")).queued == 0


async def _digest_keys(bot: Bot) -> list[str]:
    async with bot.sessions() as s:
        keys_ = (
            await s.execute(
                select(Outbox.idempotency_key).where(Outbox.kind == "digest").order_by(Outbox.id)
            )
        ).scalars()
        return [k for k in keys_ if k.startswith("digest:")]


# ---------------------------------------------------------------- (6) two instances on PostgreSQL


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.skipif(not PG_URL, reason="ANTT_TEST_POSTGRES_URL not set")
async def test_two_instances_on_postgres_under_load_never_double(
    make_settings: Any, zalo: RecordingZalo
) -> None:
    from tests.conftest import _fresh_pg

    gen = _fresh_pg()
    url = await gen.__anext__()
    settings = make_settings(
        db=url,
        platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN},
        engagement={"monthly_message_budget": 0},
    )
    apps = [create_app(settings), create_app(settings)]
    servers = [TestServer(app, port=0) for app in apps]
    for server in servers:
        await server.start_server()
    urls = [str(s.make_url("/webhook/zalo-bot")) for s in servers]
    total = 150
    try:
        async with aiohttp.ClientSession() as http:
            sem = asyncio.Semaphore(16)

            async def send(i: int) -> list[int]:
                body = text_event("/huongdan", sender=f"p{i:05d}")
                async with sem:
                    # Every third delivery reaches both instances (a redelivery through the LB).
                    targets = urls if i % 3 == 0 else [urls[i % 2]]
                    return list(await asyncio.gather(*(post(http, u, body) for u in targets)))

            answers = await asyncio.gather(*(send(i) for i in range(total)))
        assert all(s == 200 for a in answers for s in a)
        sessions = apps[0][keys.SESSIONS]

        async def finished() -> bool:
            # Each stranger gets a welcome and the usage reply: two messages per event.
            return (
                await _done(sessions, total)
                and await count(sessions, Outbox, Outbox.status == "sent") == 2 * total
            )

        await wait_for(finished, 90, "both instances to process and send everything")
        async with sessions() as s:
            by = Counter((await s.execute(select(InboundEvent.claimed_by))).scalars())
        assert await count(sessions, Message) == total
        assert await count(sessions, Outbox) == 2 * total
        said = Counter((b["chat_id"], b["text"]) for b in zalo.delivered)
        assert len(said) == 2 * total and set(said.values()) == {1}, "a reply went out twice"
        assert len(by) == 2, f"both instances should have taken a share: {by}"
    finally:
        for server in servers:
            await server.close()
        with contextlib.suppress(StopAsyncIteration):
            await gen.__anext__()


async def test_the_photo_fetcher_says_an_outage_in_one_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The database away: the photo fetcher logs one warning a pass, as the workers do, not
    a traceback an operator would take for a bug; a real bug keeps its traceback."""
    from sqlalchemy.exc import OperationalError

    from bot.ext import media

    passes: list[str] = []

    async def failing(_app: Any) -> int:
        passes.append("pass")
        if len(passes) == 1:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        if len(passes) == 2:
            raise KeyError("a bug")
        raise asyncio.CancelledError

    monkeypatch.setattr(media, "fetch_due", failing)
    monkeypatch.setattr(media, "IDLE_SECONDS", 0)
    with (
        caplog.at_level(logging.WARNING, logger="bot.ext.media"),
        pytest.raises(asyncio.CancelledError),
    ):
        await media._worker(web.Application())
    outage, bug = caplog.records
    assert outage.levelno == logging.WARNING and outage.exc_info is None
    assert "photo fetch cannot reach the database" in outage.getMessage()
    assert bug.levelno == logging.ERROR and bug.exc_info is not None
