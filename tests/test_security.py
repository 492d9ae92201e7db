"""Security review as tests: secrets stay out of logs, SQL is bound, bodies are bounded, and
the webhook's per-source rate limit cannot be used to drop Zalo's own deliveries."""

from __future__ import annotations

import ast
import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.logs import JsonFormatter
from bot.ratelimit import RateLimiter
from models.outbox import enqueue
from models.tables import InboundEvent, Outbox
from tests.conftest import SECRET, Bot, text_event
from tests.fake_zalo import TOKEN, FakeZalo

ROOT = Path(__file__).resolve().parent.parent
WRONG = "wrong-secret-that-must-never-appear-1234"


async def stored(bot: Bot) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(InboundEvent))).scalar_one())


# ---------------------------------------------------------------- secrets never logged


class _Capture(logging.Handler):
    """Every record formatted twice: as `serve` logs it (JSON) and plainly (no redaction)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.json: list[str] = []
        self.plain: list[str] = []
        self._plain = logging.Formatter("%(name)s %(levelname)s %(message)s")
        self._json = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "aiohttp.access" and "/bot" in record.getMessage():
            return  # the fake Zalo server's own access log, not the bot's
        self.json.append(self._json.format(record))
        self.plain.append(self._plain.format(record) + " " + repr(vars(record)))


@pytest.fixture
def captured() -> Iterator[_Capture]:
    handler = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = await FakeZalo().start()
    yield fake
    await fake.close()


async def test_token_and_secret_never_reach_the_logs(
    make_bot: Any, make_settings: Any, zalo: FakeZalo, captured: _Capture
) -> None:
    # The bot's token differs from the fake's: every send is a 401 carrying the token's URL.
    settings = make_settings(
        platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN + "X"}
    )
    bot = await make_bot(settings)
    zalo.script = [(500, {"ok": False, "error_code": 500, "description": "boom"}, {})]
    assert (await bot.deliver(text_event("/huongdan"), secret=WRONG))[0] == 401
    assert (await bot.deliver(text_event("/huongdan")))[0] == 200
    async with bot.sessions() as s, s.begin():
        await enqueue(
            s, chat_id="c1", text="xin chào", kind="reply", key="sec:1", now=bot.clock.now()
        )
    await bot.drain()
    # And a platform that refuses connections (the port of a closed server).
    refused = FakeZalo(token=TOKEN + "X")
    await refused.start()
    dead_base = refused.api_base
    await refused.close()
    settings2 = make_settings(
        platform={"kind": "zalo_bot", "api_base": dead_base, "token": TOKEN + "X"}
    )
    bot2 = await make_bot(settings2)
    async with bot2.sessions() as s, s.begin():
        await enqueue(
            s, chat_id="c1", text="lần hai", kind="reply", key="sec:2", now=bot2.clock.now()
        )
    await bot2.drain()
    async with bot2.sessions() as s:
        errors = [r.last_error for r in (await s.execute(select(Outbox))).scalars()]
    assert any(errors), "the failing sends must have been attempted"
    secret_part = TOKEN.split(":", 1)[1]
    for line in captured.json + captured.plain + [e or "" for e in errors]:
        for secret in (secret_part, SECRET, WRONG):
            assert secret not in line, f"{secret!r} leaked in: {line[:300]}"
    assert captured.json, "nothing was logged: the capture is not wired"


# ---------------------------------------------------------------- SQL only through bound parameters

SQL_CALLS = {"text", "exec_driver_sql", "execute", "executemany", "executescript"}
PACKAGES = ("bot", "handlers", "models", "migrations")


def _is_dynamic_string(node: ast.AST) -> bool:
    """An f-string, `%` or `+` on strings, or `.format()`: SQL built from values."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return any(
            isinstance(side, (ast.Constant, ast.JoinedStr))
            and isinstance(getattr(side, "value", ""), str)
            for side in (node.left, node.right)
        )
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def sql_violations(source: str, filename: str) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in SQL_CALLS or (
            # `.text()` on anything but sqlalchemy is not SQL (matplotlib's is not)
            name == "text"
            and isinstance(func, ast.Attribute)
            and not (isinstance(func.value, ast.Name) and func.value.id in ("sa", "sqlalchemy"))
        ):
            continue
        arg = node.args[0]
        if _is_dynamic_string(arg):
            out.append(f"{filename}:{node.lineno}: {name}() with SQL built from values")
        elif name in ("text", "exec_driver_sql") and not (
            isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        ):
            out.append(f"{filename}:{node.lineno}: {name}() with a non-literal argument")
    return out


def test_the_sql_check_catches_what_it_should() -> None:
    bad = (
        'text(f"SELECT * FROM t WHERE id = {x}")\nconn.exec_driver_sql("DROP %s" % n)\n'
        'session.execute("SELECT " + col)\ntext("a {}".format(v))\ntext(query)\n'
    )
    assert len(sql_violations(bad, "bad.py")) == 5
    good = 'text("SELECT 1")\nconn.exec_driver_sql("BEGIN IMMEDIATE")\nsession.execute(stmt)\n'
    assert sql_violations(good, "good.py") == []


def test_sql_is_only_ever_bound_never_formatted() -> None:
    problems: list[str] = []
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    assert len(files) > 20
    for path in files:
        problems += sql_violations(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    # models/inserts.py writes SQL text from a Table's own column names (checked against
    # the table and a plain-name pattern, tested in test_inserts.py); values are bound.
    allowed = {"models/inserts.py:"}
    assert [p for p in problems if not any(p.startswith(a) for a in allowed)] == []


# ---------------------------------------------------------------- body limits


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any) -> Bot:
    return await make_bot(
        make_settings(
            platform={"kind": "zalo_bot"},
            server={"max_body_bytes": 4096, "rate_limit_per_minute": 5},
        )
    )


async def test_a_body_over_the_limit_is_413_even_without_a_content_length(bot: Bot) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b" " * 1024  # valid JSON whitespace, 64 KiB in all, streamed chunked

    headers = {"X-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with bot.http.post("/webhook/zalo-bot", data=chunks(), headers=headers) as resp:
        assert resp.status == 413
    big = b'{"event_name": "message.text.received", "pad": "' + b"x" * 5000 + b'"}'
    assert (await bot.deliver(None, raw=big))[0] == 413
    assert await stored(bot) == 0


async def test_a_body_just_under_the_limit_is_read(bot: Bot) -> None:
    body = text_event("x")
    body["message"]["text"] = "a" * (4096 - len(str(body)) - 200)
    assert (await bot.deliver(body))[0] == 200
    assert await stored(bot) == 1


# ---------------------------------------------------------------- rate limit


def test_token_bucket_refills_and_says_when() -> None:
    now = [0.0]
    limiter = RateLimiter(60, monotonic=lambda: now[0])
    assert all(limiter.check("a") == 0 for _ in range(60))
    wait = limiter.check("a")
    assert 0 < wait <= 1.0 and RateLimiter.retry_after(wait) == "1"
    assert limiter.check("b") == 0  # per source
    now[0] += 1.0
    assert limiter.check("a") == 0 and limiter.check("a") > 0


def test_the_number_of_sources_kept_is_bounded() -> None:
    limiter = RateLimiter(1, monotonic=lambda: 0.0, max_sources=100)
    for i in range(1000):
        limiter.check(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 100


async def test_without_the_secret_a_source_is_limited_and_nothing_is_stored(bot: Bot) -> None:
    answers = [(await bot.deliver(text_event("x"), secret=WRONG))[0] for _ in range(5)]
    assert answers == [401] * 5
    status, body = await bot.deliver(text_event("x"), secret=None)
    assert status == 429 and body["ok"] is False
    async with bot.http.post("/webhook/zalo-bot", data=b"x" * 100_000) as resp:
        # Limited before the body is read: a flood cannot make us read big bodies.
        assert resp.status == 429
        assert int(resp.headers["Retry-After"]) >= 1
    assert await stored(bot) == 0


async def test_an_attacker_cannot_make_us_drop_zalos_deliveries(bot: Bot) -> None:
    """The attacker shares Zalo's address (same proxy, spoofing): deliveries still get in."""
    flood = [bot.deliver(text_event("spam"), secret=WRONG) for _ in range(30)]
    real = [bot.deliver(text_event(f"thật {i}")) for i in range(30)]
    results = await asyncio.gather(*flood, *real)
    assert {s for s, _ in results[:30]} == {401, 429}
    assert [s for s, _ in results[30:]] == [200] * 30
    # ... and redeliveries of what is already stored are answered 200, never 429.
    again = text_event("lặp lại")
    assert [(await bot.deliver(again))[0] for _ in range(10)] == [200] * 10
    assert await stored(bot) == 31


async def test_the_local_route_is_limited_too(make_bot: Any, make_settings: Any) -> None:
    bot = await make_bot(make_settings(server={"rate_limit_per_minute": 3}))
    answers = [
        (await bot.deliver(text_event(f"m{i}"), path="/webhook/local", secret=None))[0]
        for i in range(5)
    ]
    assert answers == [200, 200, 200, 429, 429]
    assert await stored(bot) == 3


async def test_limited_requests_are_counted_in_metrics(bot: Bot) -> None:
    for _ in range(7):
        await bot.deliver(text_event("x"), secret=None)
    async with bot.http.get("/metrics") as resp:
        text = await resp.text()
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith("antt_events_rejected_total") and 'reason="rate_limited"' in ln
    )
    assert line.endswith(" 2.0")
