"""Two `serve` instances on one database under a mixed load of many parks' group chats
(bench/province.py): as two real `antt-bot serve` OS processes (the bench), or as two apps in
one process (a quick test). Either way every chat's events are sent in order, each to one
instance at random and every 4th to both (a load balancer's redelivery), and the figures
say how many events were stored, stored twice, handled out of order, or under another park.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import SECRET, TOKEN
from handlers.config import load_settings
from models.db import make_engine, make_sessionmaker, upgrade
from models.tables import Group, InboundEvent, Message

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60  # a `serve` that does not answer /healthz by then has failed to start
# (chat id, the member ids who may write there): the load's group chats.
Chats = list[tuple[str, list[str]]]


@dataclass
class LoadFigures:
    """What two instances did with a mixed load of every park's groups."""

    deliveries: int = 0  # distinct events sent
    posts: int = 0  # HTTP posts (some events sent to both instances)
    seconds: float = 0.0
    stored: int = 0  # messages stored
    twice: int = 0  # events stored more than once
    out_of_order: int = 0  # chats whose events were processed out of sending order
    wrong_park: int = 0  # messages stored under another park's council
    by_instance: dict[str, int] = field(default_factory=dict)  # events claimed per worker
    statuses: dict[int, int] = field(default_factory=dict)  # HTTP answers

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds if self.seconds else 0.0


def group_delivery(chat: str, sender: str, n: int, at: datetime) -> bytes:
    """A Zalo Bot Platform text delivery in a group (the real envelope's shape)."""
    texts = ("có mặt", "tuần tra khu B bình thường", "xin chào cả nhóm", "đã nhận")
    body = {
        "event_name": "message.text.received",
        "message": {
            "from": {"id": sender, "display_name": f"Bảo vệ {sender}", "is_bot": False},
            "chat": {"id": chat, "chat_type": "GROUP"},
            "text": texts[n % len(texts)],
            "message_id": f"{chat}-{n:05d}",
            "date": int(at.timestamp() * 1000),
        },
    }
    return json.dumps(body, ensure_ascii=False).encode()


async def send_load(
    urls: list[str], chats: Chats, per_chat: int, figures: LoadFigures, seed: int
) -> None:
    """Every chat's events in order, all chats at once; each event to one instance at
    random, every 4th to both."""
    headers = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": SECRET}
    rng = random.Random(seed)
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    figures.deliveries = len(chats) * per_chat
    async with aiohttp.ClientSession() as http:

        async def one_chat(chat: str, senders: list[str]) -> None:
            for n in range(per_chat):
                body = group_delivery(chat, rng.choice(senders), n, t0 + timedelta(seconds=n))
                for target in urls if n % 4 == 3 else [rng.choice(urls)]:
                    async with http.post(target, data=body, headers=headers) as resp:
                        await resp.read()
                        figures.statuses[resp.status] = figures.statuses.get(resp.status, 0) + 1
                        figures.posts += 1

        await asyncio.gather(*(one_chat(chat, senders) for chat, senders in chats))


async def wait_processed(sessions: async_sessionmaker[AsyncSession], seconds: float) -> None:
    """Until every stored event is handled (or `seconds` pass: the figures then show it)."""
    deadline = time.monotonic() + seconds
    waiting = select(func.count()).select_from(InboundEvent).where(InboundEvent.status != "done")
    while time.monotonic() < deadline:
        async with sessions() as s:
            if not (await s.execute(waiting)).scalar_one():
                return
        await asyncio.sleep(0.1)


async def count_outcome(sessions: async_sessionmaker[AsyncSession], figures: LoadFigures) -> None:
    """Stored, twice, out of order per chat, under the wrong park, and each worker's share."""
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Message.chat_id, Message.message_id, Message.council_id)
                .where(Message.chat_type == "group")
                .order_by(Message.id)
            )
        ).all()
        parks = dict((await s.execute(select(Group.chat_id, Group.council_id))).tuples().all())
        claimed = Counter((await s.execute(select(InboundEvent.claimed_by))).scalars())
    figures.stored = len(rows)
    seen = Counter(mid for _chat, mid, _council in rows)
    figures.twice = sum(1 for n in seen.values() if n > 1)
    order: dict[str, list[str]] = defaultdict(list)
    for chat, mid, council in rows:
        order[chat].append(mid)
        if parks.get(chat) != council:
            figures.wrong_park += 1
    figures.out_of_order = sum(1 for mids in order.values() if mids != sorted(mids))
    figures.by_instance = {str(k): v for k, v in claimed.items() if k is not None}


def _with_database(config: dict[str, Any], url: str) -> dict[str, Any]:
    platform = {**config.get("platform", {}), "webhook_secret": SECRET, "token": TOKEN}
    return {**config, "database": {"url": url}, "platform": platform}


async def two_apps(
    url: str, config: dict[str, Any], chats: Chats, per_chat: int, *, seconds: float, seed: int
) -> LoadFigures:
    """Two apps with their workers in this process, each with its own engine and pool."""
    from aiohttp.test_utils import TestServer

    from bot import keys
    from bot.app import create_app

    settings = load_settings(None, environ={}, overrides=_with_database(config, url))
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    apps = [create_app(settings), create_app(settings)]
    servers = [TestServer(app, port=0) for app in apps]
    figures = LoadFigures()
    try:
        for server in servers:
            await server.start_server()
        start = time.perf_counter()
        await send_load(
            [str(s.make_url("/webhook/zalo-bot")) for s in servers], chats, per_chat, figures, seed
        )
        sessions = apps[0][keys.SESSIONS]
        await wait_processed(sessions, seconds)
        figures.seconds = time.perf_counter() - start
        await count_outcome(sessions, figures)
    finally:
        for server in servers:
            await server.close()
    return figures


async def two_processes(
    url: str, config: dict[str, Any], chats: Chats, per_chat: int, *, seconds: float, seed: int
) -> LoadFigures:
    """Two `antt-bot serve` processes, each on its own port, on one database (migrated here
    first: `serve` never migrates PostgreSQL); their logs are shown if one fails to start."""
    engine = make_engine(url)
    await upgrade(engine)
    figures = LoadFigures()
    try:
        with tempfile.TemporaryDirectory(prefix="antt-two-serve-") as tmp:
            async with _serving(Path(tmp), url, config, instances=2) as urls:
                start = time.perf_counter()
                await send_load(urls, chats, per_chat, figures, seed)
                sessions = make_sessionmaker(engine)
                await wait_processed(sessions, seconds)
                figures.seconds = time.perf_counter() - start
                await count_outcome(sessions, figures)
    finally:
        await engine.dispose()
    return figures


@contextlib.asynccontextmanager
async def _serving(
    workdir: Path, url: str, config: dict[str, Any], instances: int
) -> AsyncIterator[list[str]]:
    """`python -m bot serve` `instances` times; yields their webhook URLs; SIGTERM at the end."""
    path = workdir / "config.yaml"
    # Secrets and the database's address go in the environment, as in production: the
    # configuration file refuses them.
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {
        **os.environ,
        "ANTT_DATABASE__URL": url,
        "ANTT_PLATFORM__TOKEN": TOKEN,
        "ANTT_PLATFORM__WEBHOOK_SECRET": SECRET,
        "PYTHONPATH": str(ROOT),
    }
    procs: list[tuple[subprocess.Popen[bytes], int, Path]] = []
    try:
        for n in range(instances):
            port, log = _free_port(), workdir / f"serve-{n}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(  # noqa: ASYNC220 (a fork; the waiting is polled below)
                    [sys.executable, "-m", "bot", "-c", str(path), "serve", "--port", str(port)],
                    cwd=workdir,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            procs.append((proc, port, log))
        for proc, port, log in procs:
            await _healthy(proc, port, log)
        yield [f"http://127.0.0.1:{port}/webhook/zalo-bot" for _p, port, _l in procs]
    finally:
        for proc, _port, _log in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _port, _log in procs:
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait, 10)


async def _healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited with {proc.returncode}: {_tail(log)}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"serve did not answer /healthz in {START_SECONDS} s: {_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-2000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
