"""Shared fixtures: settings, a real database (SQLite file; PostgreSQL when configured),
the app on a real port, payload factories."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import keys
from bot.app import create_app
from bot.platforms.local import LocalStore
from bot.runtime import Runtime
from handlers.clock import FixedClock
from handlers.config import Settings, load_settings
from models.db import ensure_schema, make_engine, upgrade

DATA = Path(__file__).parent / "data"
SECRET = "s3cret-token-for-tests"
PG_URL = os.environ.get("ANTT_TEST_POSTGRES_URL", "")

# 2026-11-27 09:00 in Hanoi: a Friday morning.
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def sample(name: str) -> dict[str, Any]:
    return json.loads((DATA / "zalo_samples" / f"{name}.json").read_text(encoding="utf-8"))


def databases() -> list[Any]:
    params: list[Any] = ["sqlite"]
    params.append(
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="ANTT_TEST_POSTGRES_URL not set"),
            ],
        )
    )
    return params


@pytest.fixture(params=databases())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped after."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}"
        return
    async for url in _fresh_pg():
        yield url


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}"


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated SQLite file (a test module may define its own)."""
    engine = make_engine(sqlite_url)
    await ensure_schema(engine)
    yield engine
    await engine.dispose()


# One migrated database per test process, copied for each test that wants a migrated one
# (CREATE DATABASE ... TEMPLATE: 0.13 s, against 0.51 s to migrate each anew); dropped at the
# end of the session (`_drop_pg_template`).
_PG_TEMPLATE: list[str] = []


async def _migrated_template(base: str) -> str:
    """The process's migrated template database, made on first use."""
    if not _PG_TEMPLATE:
        name = f"antt_tpl_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(base)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        head, _, _ = PG_URL.rpartition("/")
        engine = make_engine(f"{head}/{name}")
        try:
            await upgrade(engine)  # PostgreSQL is migrated on purpose (`antt-bot db upgrade`)
        finally:
            await engine.dispose()  # a template may have no connection while it is copied
        _PG_TEMPLATE.append(name)
    return _PG_TEMPLATE[0]


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_template() -> Iterator[None]:
    yield
    if _PG_TEMPLATE:
        asyncio.run(_drop_database(_PG_TEMPLATE.pop()))


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _fresh_pg(migrate: bool = True) -> AsyncIterator[str]:
    base = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"antt_t_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{await _migrated_template(base)}"' if migrate else ""
    admin = await asyncpg.connect(base)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{template}')
    finally:
        await admin.close()
    head, _, _ = PG_URL.rpartition("/")
    url = f"{head}/{name}"
    try:
        yield url
    finally:
        admin = await asyncpg.connect(base)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings as the shipped config would give, with overrides per test."""

    def build(db: str | None = None, **sections: Any) -> Settings:
        data: dict[str, Any] = {
            "database": {"url": db or f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}"},
            "platform": {"kind": "local", "webhook_secret": SECRET, "token": "123:abc"},
            "engagement": {"holidays": []},
        }
        for key, value in sections.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return load_settings(None, environ={}, overrides=data)

    return build


class Bot:
    """The app on a real port, driven like Zalo drives it; workers run when drained."""

    def __init__(
        self, client: TestClient[Any, Any], app: web.Application, clock: FixedClock
    ) -> None:
        self.http = client
        self.app = app
        self.clock = clock

    @property
    def runtime(self) -> Runtime:
        return self.app[keys.RUNTIME]

    @property
    def store(self) -> LocalStore:
        return self.app[keys.LOCAL_STORE]

    @property
    def sessions(self) -> Any:
        return self.app[keys.SESSIONS]

    async def deliver(
        self,
        body: Any,
        *,
        path: str = "/webhook/zalo-bot",
        secret: str | None = SECRET,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Bot-Api-Secret-Token"] = secret
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        async with self.http.post(path, data=data, headers=headers) as resp:
            try:
                payload = await resp.json(content_type=None)
            except ValueError:
                payload = await resp.text()
            return resp.status, payload

    async def drain(self) -> None:
        await self.runtime.drain()


@pytest.fixture
async def make_bot() -> AsyncIterator[Callable[..., Any]]:
    started: list[TestClient[Any, Any]] = []

    async def start(settings: Settings, clock: FixedClock | None = None, **kw: Any) -> Bot:
        clock = clock or FixedClock(T0)
        app = create_app(settings, clock=clock, workers=False, **kw)
        client = TestClient(TestServer(app, port=0))
        await client.start_server()
        started.append(client)
        return Bot(client, app, clock)

    yield start
    for client in started:
        await client.close()


_counter = iter(range(10**9))


def text_event(
    text: str,
    *,
    sender: str = "u1",
    name: str = "Nguyễn Văn A",
    chat: str | None = None,
    group: bool = False,
    at: datetime | None = None,
    message_id: str | None = None,
    quote: str | None = None,
    wrapped: bool = False,
) -> dict[str, Any]:
    """A Zalo Bot Platform text delivery (bare envelope unless wrapped)."""
    n = next(_counter)
    msg: dict[str, Any] = {
        "from": {"id": sender, "display_name": name, "is_bot": False},
        "chat": {"id": chat or sender, "chat_type": "GROUP" if group else "PRIVATE"},
        "text": text,
        "message_id": message_id or f"m{n:019x}",
        "date": int((at or T0).timestamp() * 1000),
    }
    if quote:
        msg["quote_message_id"] = quote
    body = {"event_name": "message.text.received", "message": msg}
    return {"ok": True, "result": body} if wrapped else body


async def member_says(
    bot: Bot, who: str, name: str, text: str, group: str | None = None, quote: str = ""
) -> None:
    """`who` (display name `name`) writes `text` in `group` (or privately), at the bot's clock;
    the delivery is answered 200 and handled."""
    event = text_event(
        text,
        sender=who,
        name=name,
        chat=group,
        group=group is not None,
        at=bot.clock.now(),
        quote=quote or None,
    )
    assert (await bot.deliver(event))[0] == 200
    await bot.drain()
