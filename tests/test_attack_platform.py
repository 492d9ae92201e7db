"""Issue 13 (found under attack): the sender, polling, photo fetching and start-up.

Everything runs against real servers: the app on port 0, the fake Zalo Bot API, a photo
server, a real SQLite file (and PostgreSQL when configured); time moves with the test clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import delete, event, select
from yarl import URL

from bot import keys
from bot.app import create_app
from bot.ext.media import fetch_due, host_allowed
from bot.polling import Poller
from handlers.config import ConfigError
from models.outbox import enqueue
from models.tables import Attachment, KeyValue, Outbox
from tests.conftest import Bot, text_event
from tests.fake_zalo import TOKEN, FakeZalo
from tests.test_cli import run, write_config

REVOKED = "1459232241454765289:Revoked"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = await FakeZalo().start()
    yield fake
    await fake.close()


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo) -> Bot:
    settings = make_settings(
        db=db_url, platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN}
    )
    return await make_bot(settings)


async def queue(bot: Bot, text: str, kind: str = "reply") -> None:
    async with bot.sessions() as s, s.begin():
        await enqueue(s, chat_id="c1", text=text, kind=kind, key=f"k:{text}", now=bot.clock.now())


async def outbox(bot: Bot) -> list[Outbox]:
    async with bot.sessions() as s:
        return list((await s.execute(select(Outbox).order_by(Outbox.id))).scalars())


async def health(bot: Bot) -> tuple[int, dict[str, Any]]:
    async with bot.http.get("/healthz") as resp:
        return resp.status, await resp.json()


# Item 4: a wrong or revoked token is an outage: nothing is failed, everything goes out once.


async def test_a_refused_token_pauses_sending_and_loses_nothing(
    bot: Bot, zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    zalo.token = REVOKED  # Zalo now refuses the bot's token
    await queue(bot, "tổng hợp", kind="digest")
    await queue(bot, "CHÁY kho 3", kind="alert")
    await queue(bot, "đã ghi nhận", kind="reply")
    with caplog.at_level(logging.WARNING):
        await bot.drain()
    assert zalo.refused == 1  # one try, then the sender waits: no hammering, no failures
    rows = await outbox(bot)
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {0}
    status, body = await health(bot)
    sender = next(c for c in body["checks"] if c["name"] == "sender")
    assert status == 503 and "ANTT_PLATFORM__TOKEN" in sender["reason"]
    assert "antt-bot platform info" in sender["reason"] and TOKEN not in str(body)
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "ANTT_PLATFORM__TOKEN" in error.getMessage() and REVOKED not in error.getMessage()
    await bot.drain()
    assert zalo.refused == 1  # still inside the pause
    bot.clock.advance(timedelta(seconds=15))
    await bot.drain()
    assert zalo.refused == 2  # tried again after the pause, and now waits twice as long
    bot.clock.advance(timedelta(seconds=15))
    await bot.drain()
    assert zalo.refused == 2
    zalo.token = TOKEN  # fixed
    bot.clock.advance(timedelta(seconds=15))
    await bot.drain()
    assert [b["text"] for b in zalo.sent()] == ["CHÁY kho 3", "đã ghi nhận", "tổng hợp"]
    rows = await outbox(bot)
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
    assert (await health(bot))[0] == 200
    await bot.drain()
    assert len(zalo.sent()) == 3  # each once


async def test_polling_with_a_refused_token_waits_and_resumes(bot: Bot, zalo: FakeZalo) -> None:
    poller = Poller(bot.app)
    zalo.token = REVOKED
    assert await poller.poll_once() == 15  # not the end of polling: a pause
    status, body = await health(bot)
    sender = next(c for c in body["checks"] if c["name"] == "sender")
    assert status == 503 and "ANTT_PLATFORM__TOKEN" in sender["reason"]
    assert await poller.poll_once() == 30
    zalo.token = TOKEN
    zalo.updates.append(text_event("/huongdan", message_id="poll0000000000000099"))
    assert await poller.poll_once() == 0
    assert (await health(bot))[0] == 200
    await bot.drain()
    assert any("Bot ANTT xin chào!" in b["text"] for b in zalo.sent())


# Low: 403 is sometimes transient on Zalo: a few tries with backoff before giving up.

FORBIDDEN = (403, {"ok": False, "error_code": 403, "description": "Internal server error"}, {})


async def test_a_403_is_retried_with_backoff_then_sent(bot: Bot, zalo: FakeZalo) -> None:
    zalo.script = [FORBIDDEN, FORBIDDEN]
    await queue(bot, "xin chào")
    await bot.drain()
    (row,) = await outbox(bot)
    assert row.status == "pending" and row.next_attempt_at > bot.clock.now()
    for _ in range(2):
        bot.clock.advance(timedelta(minutes=1))
        await bot.drain()
    (row,) = await outbox(bot)
    assert row.status == "sent" and row.attempts == 3
    assert [b["text"] for b in zalo.sent()] == ["xin chào"] * 3


async def test_a_403_that_persists_fails_after_a_few_tries(bot: Bot, zalo: FakeZalo) -> None:
    zalo.script = [FORBIDDEN] * 10
    await queue(bot, "xin chào")
    for _ in range(8):
        await bot.drain()
        bot.clock.advance(timedelta(minutes=1))
    (row,) = await outbox(bot)
    assert row.status == "failed" and row.attempts == 5
    assert "403" in (row.last_error or "") and "5 tries" in (row.last_error or "")
    assert len(zalo.script) == 5


# Low: an unlimited budget (0) shows as +Inf, not as 0 messages left.


async def test_unlimited_budget_shows_as_infinity(
    make_bot: Any, make_settings: Any, sqlite_url: str
) -> None:
    bot = await make_bot(make_settings(db=sqlite_url, engagement={"monthly_message_budget": 0}))
    await bot.drain()
    async with bot.http.get("/metrics") as resp:
        text = await resp.text()
    assert "antt_budget_left +Inf" in text


# Low: members' photo_url is fetched only from Zalo's media hosts, and redirects stay there.


class MediaServer:
    """A photo host on 127.0.0.1: /p.jpg is a photo, /away redirects to another host name."""

    JPEG = b"\xff\xd8\xff\xe0fake-jpeg"

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path)
        if request.path == "/away":  # the same server under another name: not allowed
            raise web.HTTPFound(f"http://localhost:{request.url.port}/p.jpg")
        if request.path == "/near":
            raise web.HTTPFound("/p.jpg")
        return web.Response(body=self.JPEG, content_type="image/jpeg")

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))


@pytest.fixture
async def media() -> AsyncIterator[MediaServer]:
    ms = MediaServer()
    app = web.Application()
    app.router.add_get("/{name}", ms.handle)
    ms.server = TestServer(app, host="127.0.0.1", port=0)
    await ms.server.start_server()
    yield ms
    await ms.server.close()


_photo_ids = itertools.count(1)


async def photo_report(bot: Bot, url: str) -> None:
    """A member reports a theft, then sends a photo of it: the bot keeps the photo."""
    await bot.deliver(text_event("Mất trộm 3 cuộn cáp đồng ở kho 2", at=bot.clock.now()))
    await bot.drain()
    body = {
        "event_name": "message.image.received",
        "message": {
            "message_type": "CHAT_PHOTO",
            "photo_url": url,
            "date": int(bot.clock.now().timestamp() * 1000),
            "chat": {"id": "u1", "chat_type": "PRIVATE"},
            "from": {"id": "u1", "is_bot": False, "display_name": "Nguyễn Văn A"},
            "message_id": f"img{next(_photo_ids):017d}",
        },
    }
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()


async def attachments(bot: Bot) -> list[Attachment]:
    async with bot.sessions() as s:
        return list((await s.execute(select(Attachment).order_by(Attachment.id))).scalars())


async def test_photos_from_other_hosts_are_not_fetched(
    make_bot: Any, make_settings: Any, sqlite_url: str, media: MediaServer
) -> None:
    bot = await make_bot(make_settings(db=sqlite_url))  # default: Zalo's media hosts only
    await photo_report(bot, media.url("/p.jpg"))
    assert await fetch_due(bot.app) == 1
    (att,) = await attachments(bot)
    assert att.status == "failed" and att.data is None
    assert "127.0.0.1 is not a Zalo media host" in (att.error or "")
    assert media.hits == []  # not even asked


async def test_redirects_are_followed_only_within_the_media_hosts(
    make_bot: Any, make_settings: Any, sqlite_url: str, media: MediaServer
) -> None:
    settings = make_settings(db=sqlite_url, platform={"media_hosts": ["127.0.0.1"]})
    bot = await make_bot(settings)
    await photo_report(bot, media.url("/away"))
    await photo_report(bot, media.url("/near"))
    assert await fetch_due(bot.app) == 2
    away, near = await attachments(bot)
    assert away.status == "failed" and "localhost is not a Zalo media host" in (away.error or "")
    assert near.status == "fetched" and near.data == MediaServer.JPEG
    assert sorted(media.hits) == ["/away", "/near", "/p.jpg"]  # localhost was never asked


def test_media_host_matching() -> None:
    hosts = ("zdn.vn", "127.0.0.1")
    assert host_allowed(URL("https://photo-stal-1.zdn.vn/a.jpg"), hosts)
    assert host_allowed(URL("https://ZDN.VN./a.jpg"), hosts)
    assert not host_allowed(URL("https://zdn.vn.evil.example/a.jpg"), hosts)
    assert not host_allowed(URL("https://evilzdn.vn/a.jpg"), hosts)
    assert not host_allowed(URL("http://1.127.0.0.1/a.jpg"), hosts)
    assert host_allowed(URL("http://127.0.0.1:8080/a.jpg"), hosts)


# Item 5: an empty or cut-off config.yaml must not run the simulator on a real bot's database.


async def test_the_simulator_refuses_a_real_bots_database(
    make_bot: Any, make_settings: Any, sqlite_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    real = make_settings(
        db=sqlite_url, platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN}
    )
    bot = await make_bot(real)
    zalo.token = REVOKED  # the reply cannot go out yet: it waits in the outbox
    assert (await bot.deliver(text_event("/huongdan")))[0] == 200
    await bot.drain()
    assert {r.status for r in await outbox(bot)} == {"pending"}
    # The same database under a config.yaml cut short: only the database is left.
    for before_this_version in (False, True):
        if before_this_version:  # no record of who served it: its Zalo deliveries tell
            async with bot.sessions() as s, s.begin():
                await s.execute(delete(KeyValue).where(KeyValue.key == "platform.kind"))
        app = create_app(make_settings(db=sqlite_url), workers=False)
        server = TestServer(app, port=0)
        with pytest.raises(ConfigError, match="refuses this database") as info:
            await server.start_server()
        await server.close()
        assert "zalo_bot" in str(info.value) and "database.url" in str(info.value)
    cut = tmp_path / "cut.yaml"
    cut.write_text(f"database:\n  url: {sqlite_url}\n", encoding="utf-8")
    proc = await asyncio.to_thread(run, "serve", "--port", "0", "-c", str(cut), cwd=tmp_path)
    assert proc.returncode == 2 and "refuses this database" in proc.stderr
    assert "serving on" not in proc.stderr and "Traceback" not in proc.stderr
    assert {r.status for r in await outbox(bot)} == {"pending"}  # nothing marked sent


async def test_the_simulators_own_database_still_starts(
    make_bot: Any, make_settings: Any, sqlite_url: str
) -> None:
    bot = await make_bot(make_settings(db=sqlite_url))
    assert (await bot.deliver(text_event("/huongdan"), path="/webhook/local"))[0] == 200
    await bot.drain()
    again = await make_bot(make_settings(db=sqlite_url))  # a restart of the demo or a test
    assert (await health(again))[0] == 200


# Low: serve's start-up says "serving on" only when it serves, and exits on what it cannot fix.


def test_a_missing_roster_exits_2_without_claiming_to_serve(tmp_path: Path) -> None:
    write_config(tmp_path, roster="missing.csv")
    proc = run("serve", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "missing.csv" in proc.stderr
    assert "serving on" not in proc.stderr and "Traceback" not in proc.stderr


async def test_serving_on_is_said_once_it_listens(tmp_path: Path) -> None:
    write_config(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "serve", "--port", "0"),
        cwd=tmp_path,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        line = b""
        while not line.startswith(b"antt-bot: serving on"):  # after the start-up logs
            line = await asyncio.wait_for(proc.stderr.readline(), timeout=60)
            assert line, "serve ended without serving"
        said = line.decode()
        assert re.match(r"antt-bot: serving on http://127\.0\.0\.1:[1-9]\d* \(platform local", said)
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0


@pytest.mark.parametrize("secret", ["short", "x" * 257])
def test_serve_refuses_a_webhook_secret_zalo_would_refuse(tmp_path: Path, secret: str) -> None:
    write_config(tmp_path, platform={"kind": "zalo_bot"})
    env = {"ANTT_PLATFORM__TOKEN": TOKEN, "ANTT_PLATFORM__WEBHOOK_SECRET": secret}
    proc = run("serve", "--port", "0", cwd=tmp_path, env=env)
    assert proc.returncode == 2 and "platform.webhook_secret: must be 8-256" in proc.stderr


def test_a_read_only_database_exits_with_what_to_do(tmp_path: Path) -> None:
    write_config(tmp_path)
    assert run("db", "upgrade", cwd=tmp_path).returncode == 0
    db = tmp_path / "data" / "antt.db"
    with read_only(db):
        proc = run("serve", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "the database refuses writes" in proc.stderr and str(db) in proc.stderr
    assert "serving on" not in proc.stderr and "start-up failed" not in proc.stderr


def test_a_read_only_database_folder_exits_with_what_to_do(tmp_path: Path) -> None:
    """The file writable but not its folder: SQLite cannot create the -wal beside it."""
    write_config(tmp_path)
    assert run("db", "upgrade", cwd=tmp_path).returncode == 0
    db = tmp_path / "data" / "antt.db"
    with read_only(db.parent):
        proc = run("serve", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "the database refuses writes" in proc.stderr and str(db) in proc.stderr
    assert "Traceback" not in proc.stderr and "sqlalche.me" not in proc.stderr


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The file as a read-only mount would leave it (root ignores modes: immutable then)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        yield
        path.chmod(mode)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a file read-only as root here (chattr +i refused)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


# Low: on SQLite (WAL, synchronous=NORMAL) a power loss could lose deliveries already
# answered 200. The inbox's commits run at synchronous=FULL; the rest stays NORMAL.


async def test_the_inbox_commit_is_synced_to_disk(
    make_bot: Any, make_settings: Any, sqlite_url: str
) -> None:
    bot = await make_bot(make_settings(db=sqlite_url))
    said: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        said.append(" ".join(statement.split())[:40])

    engine = bot.app[keys.ENGINE].sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert (await bot.deliver(text_event("/huongdan")))[0] == 200
        stored = said.index(next(s for s in said if s.startswith("INSERT INTO inbound_events")))
        await bot.drain()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    levels = [s for s in said if s.startswith("PRAGMA synchronous")]
    # The delivery's transaction began at FULL; the processor's and sender's at NORMAL.
    before = [s for s in said[:stored] if s.startswith("PRAGMA synchronous")]
    assert before and before[-1] == "PRAGMA synchronous=FULL"
    assert levels[-1] == "PRAGMA synchronous=NORMAL"
