"""The demo's routes: a Zalo-like chat page whose members' messages go through the real webhook.

Only `antt-bot demo` installs these (never `serve`): they let anyone type as anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import func, or_, select

from bot import keys
from bot.demo import data
from bot.demo import post as demo_post
from bot.demo.data import DemoMember
from bot.platforms.local import ChatLine, LocalStore
from handlers.clock import Clock
from handlers.jobs import load_all
from models.tables import Outbox

log = logging.getLogger(__name__)

STATIC = Path(str(resources.files("bot.demo").joinpath("static")))
STATIC_FILES = {"app.js": "text/javascript", "style.css": "text/css"}
MAX_TEXT = 2000
MAX_JUMP = timedelta(days=31)
LONG_POLL_SECONDS = 25.0
SEND_WAIT_SECONDS = 10.0
# (elapsed below, step size): 10-minute steps for the first hour, hourly for the first day.
JUMP_GRAIN = (
    (timedelta(hours=1), timedelta(minutes=10)),
    (timedelta(days=1), timedelta(hours=1)),
    (MAX_JUMP, timedelta(hours=3)),
)
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
NO_CACHE = {"Cache-Control": "no-store"}
# The page needs nothing from elsewhere; bot photos (digest charts) may live on public_url.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: http: https:; script-src 'self'; "
    "style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class MovableClock(Clock, Protocol):
    """A clock the demo can move forward (SystemClock with its offset, or FixedClock)."""

    def advance(self, delta: timedelta) -> datetime: ...


@dataclass
class DemoStore(LocalStore):
    """The local platform's record, stamped with the bot's clock instead of the wall clock."""

    clock: Clock | None = None

    def add(self, *, at: datetime | None = None, **fields: Any) -> ChatLine:
        if at is None and self.clock is not None:
            at = self.clock.now()
        return super().add(at=at, **fields)


@dataclass
class DemoState:
    """What the demo routes share: the movable clock and the council (seeded, or rehearsed)."""

    clock: MovableClock
    council: data.Council = field(default_factory=data.seeded_council)
    members: list[DemoMember] = field(init=False)
    delivered: set[str] = field(default_factory=set)  # message ids the bot received
    jump_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closing: bool = False
    post_pk: int | None = None  # the calendar's post the guided script publishes

    def __post_init__(self) -> None:
        self.members = self.council.members

    def member(self, member_id: str) -> DemoMember | None:
        return next((m for m in self.members if m.member_id == member_id), None)


DEMO = web.AppKey("demo", DemoState)


def install_demo(app: web.Application, state: DemoState) -> None:
    """Add the demo page and its API to an app built by create_app (local platform)."""
    app[DEMO] = state
    app.cleanup_ctx.append(_seeded)  # after create_app's: the database is open by then
    app.on_shutdown.append(_release_waiters)
    app.router.add_get("/", _to_page)
    app.router.add_get("/demo", page)
    app.router.add_get("/demo/", _to_page)
    app.router.add_get("/demo/static/{name}", static)
    app.router.add_get("/demo/api/state", api_state)
    app.router.add_get("/demo/api/lines", api_lines)
    app.router.add_post("/demo/api/send", api_send)
    app.router.add_post("/demo/api/clock", api_clock)


async def _seeded(app: web.Application) -> AsyncIterator[None]:
    await data.seed(app[keys.SESSIONS], app[DEMO].clock.now(), app[DEMO].council)
    app[DEMO].post_pk = await demo_post.schedule(
        app[keys.SESSIONS], app[keys.SETTINGS], app[DEMO].clock.now()
    )
    yield


async def _release_waiters(app: web.Application) -> None:
    # Long polls would otherwise hold the shutdown for their whole wait.
    app[DEMO].closing = True
    app[keys.LOCAL_STORE].changed.set()


async def _to_page(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/demo")


async def page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(
        STATIC / "index.html",
        headers={
            **NO_CACHE,
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": PAGE_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC_FILES:  # a fixed list: no path ever reaches the file system
        raise web.HTTPNotFound()
    return web.FileResponse(
        STATIC / name,
        headers={
            **NO_CACHE,
            "Content-Type": f"{STATIC_FILES[name]}; charset=utf-8",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status, headers=NO_CACHE)


def time_label(at: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """The bot's time for people: ISO, epoch ms and Vietnamese labels."""
    local = at.astimezone(tz)
    day = f"{WEEKDAYS[local.weekday()]}, {local:%d/%m/%Y}"
    return {
        "time": local.isoformat(),
        "ms": int(at.timestamp() * 1000),
        "day_label": day,
        "time_label": f"{local:%H:%M}",
    }


async def api_state(request: web.Request) -> web.Response:
    """Who you can be, where you can write, and the bot's clock."""
    app = request.app
    state, settings = app[DEMO], app[keys.SETTINGS]
    now = time_label(state.clock.now(), settings.tz)
    post = await demo_post.status(app[keys.SESSIONS], state.post_pk, state.clock.now())
    chats = [
        {
            "id": g.chat_id,
            "name": g.name,
            "kind": g.kind,
            "type": "group",
            "members": [m.member_id for m in state.members if g.chat_id in m.groups],
        }
        for g in settings.groups
    ]
    return web.json_response(
        {
            "bot": {"name": settings.platform.bot_name},
            "now": now,
            "timezone": settings.timezone,
            "quiet_hours": settings.engagement.quiet_hours,
            "members": [
                {
                    "id": m.member_id,
                    "name": m.name,
                    "role": m.role,
                    "role_label": m.role_label,
                    "enterprise": m.enterprise,
                    "groups": list(m.groups),
                    "private_chat": m.member_id not in state.council.no_private_chat,
                }
                for m in state.members
            ],
            "chats": chats,
            "post": post,
            "dashboard": {
                "url": "/dashboard/",
                "password": settings.dashboard.password.get_secret_value(),
                "users": [
                    {"id": m.member_id, "name": m.name, "role_label": m.role_label}
                    for m in state.council.dashboard_users()
                ],
            },
        },
        headers=NO_CACHE,
    )


def line_json(line: ChatLine, state: DemoState, tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": line.id,
        "message_id": line.message_id,
        "chat_id": line.chat_id,
        "sender_id": line.sender_id,
        "sender": line.sender_name,
        "is_bot": line.is_bot,
        "text": line.text,
        "photo_url": line.photo_url,
        "quote_message_id": line.quote_message_id,
        "seen_by_bot": None if line.is_bot else line.message_id in state.delivered,
    }
    out.update(time_label(line.at, tz))
    return out


async def api_lines(request: web.Request) -> web.Response:
    """Lines after `after` (an id); with `wait` seconds, waits for the next one (long poll)."""
    app = request.app
    state, store, tz = app[DEMO], app[keys.LOCAL_STORE], app[keys.SETTINGS].tz
    try:
        after = int(request.query.get("after", "0"))
        wait = min(max(float(request.query.get("wait", "0")), 0.0), LONG_POLL_SECONDS)
    except ValueError:
        return _bad("after must be a line id and wait a number of seconds")
    changed = store.changed  # taken before looking, so a line added meanwhile still wakes us
    lines = store.after(after)
    if not lines and wait > 0 and not state.closing:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout=wait)
        lines = store.after(after)
    return web.json_response(
        {
            "lines": [line_json(x, state, tz) for x in lines],
            "now": time_label(state.clock.now(), tz),
        },
        headers=NO_CACHE,
    )


def mentions_bot(text: str, bot_name: str) -> bool:
    """Does the text @mention the bot anywhere (any case, NFC or NFD)?"""

    def norm(s: str) -> str:
        return unicodedata.normalize("NFC", s).casefold()

    return bool(bot_name) and f"@{norm(bot_name)}" in norm(text)


def delivery(line: ChatLine, member: DemoMember, private: bool) -> dict[str, Any]:
    """The Zalo Bot Platform webhook body for a member's line (ZALO.md 1)."""
    message: dict[str, Any] = {
        "message_id": line.message_id,
        "from": {"id": member.member_id, "display_name": member.name, "is_bot": False},
        "chat": {"id": line.chat_id, "chat_type": "PRIVATE" if private else "GROUP"},
        "date": int(line.at.timestamp() * 1000),
        "text": line.text,
    }
    if line.quote_message_id:
        message["quote_message_id"] = line.quote_message_id
    return {"event_name": "message.text.received", "message": message}


async def api_send(request: web.Request) -> web.Response:
    """A member says something: shown in the chat, and delivered to the bot if Zalo would."""
    app = request.app
    state, store, settings = app[DEMO], app[keys.LOCAL_STORE], app[keys.SETTINGS]
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _bad("body must be JSON")
    if not isinstance(body, dict):
        return _bad("body must be a JSON object")
    member = state.member(str(body.get("member_id", "")))
    chat_id = str(body.get("chat_id", ""))
    text = str(body.get("text", "")).strip()
    quote = body.get("quote_message_id") or None
    if member is None:
        return _bad("unknown member_id")
    private = chat_id == member.member_id
    if not private and chat_id not in member.groups:
        return _bad(f"{member.name} is not in chat {chat_id!r}")
    if not text or len(text) > MAX_TEXT:
        return _bad(f"text must be 1-{MAX_TEXT} characters")
    quoted = None
    if quote is not None:
        quoted = next((x for x in store.lines if x.message_id == str(quote)), None)
        if quoted is None or quoted.chat_id != chat_id:
            return _bad("quote_message_id is not a message of this chat")
    # Zalo shows a group's chatter to the bot only when it is @mentioned or quoted (ZALO.md 1).
    seen = (
        private or mentions_bot(text, settings.platform.bot_name) or bool(quoted and quoted.is_bot)
    )
    line = store.add(
        chat_id=chat_id,
        sender_id=member.member_id,
        sender_name=member.name,
        is_bot=False,
        text=text,
        quote_message_id=quoted.message_id if quoted else None,
    )
    if seen:
        state.delivered.add(line.message_id)
        status = await _post_webhook(request, delivery(line, member, private))
        if status != 200:
            state.delivered.discard(line.message_id)
            return _bad(f"the webhook answered {status}", status=502)
    return web.json_response(
        {"ok": True, "delivered": seen, "line": line_json(line, state, settings.tz)},
        headers=NO_CACHE,
    )


async def _post_webhook(request: web.Request, body: dict[str, Any]) -> int:
    """POST to this server's own /webhook/local, on the socket the page's request came in on."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return 503
    host, port = str(sockname[0]), int(sockname[1])
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{port}/webhook/local"
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    async with request.app[keys.HTTP].post(
        url, data=payload, headers={"Content-Type": "application/json"}
    ) as resp:
        await resp.read()
        return resp.status


def jump_steps(delta: timedelta) -> list[timedelta]:
    """A jump cut into steps, fine at first and coarser later, so that what falls due on the
    way (an escalation after 10 minutes, the end of quiet hours, Monday's digest) happens at
    about its time and in order, not all at the end."""
    steps: list[timedelta] = []
    done = timedelta(0)
    while done < delta:
        size = next(size for until, size in JUMP_GRAIN if done < until)
        steps.append(min(size, delta - done))
        done += steps[-1]
    return steps


async def api_clock(request: web.Request) -> web.Response:
    """Move the bot's clock forward, running every scheduled job on the way."""
    app = request.app
    state, settings, runtime = app[DEMO], app[keys.SETTINGS], app[keys.RUNTIME]
    try:
        body = await request.json()
        minutes = int(body["minutes"])
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return _bad('body must be {"minutes": N}')
    delta = timedelta(minutes=minutes)
    if not timedelta(minutes=1) <= delta <= MAX_JUMP:
        return _bad("minutes must be between 1 and 44640 (31 days)")
    store = app[keys.LOCAL_STORE]
    before = len(store.bot_lines())
    queued: dict[str, int] = {}
    errors: list[str] = []
    async with state.jump_lock:
        for step in jump_steps(delta):
            state.clock.advance(step)
            for name in sorted(load_all()):
                try:
                    outcome = await runtime.run_job(name)
                except Exception:  # one broken job must not stop the others or the demo
                    log.exception("demo: job %s failed", name)
                    if name not in errors:
                        errors.append(name)
                    continue
                queued[name] = queued.get(name, 0) + outcome.queued
            await wait_until_sent(app)
    return web.json_response(
        {
            "ok": True,
            "now": time_label(state.clock.now(), settings.tz),
            "queued": queued,
            "sent": len(store.bot_lines()) - before,
            "errors": errors,
        },
        headers=NO_CACHE,
    )


async def wait_until_sent(app: web.Application) -> None:
    """Wake the sender and wait until nothing due now is left unsent (at most a few seconds)."""
    runtime, sessions = app[keys.RUNTIME], app[keys.SESSIONS]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SEND_WAIT_SECONDS):
            while True:
                now = app[keys.CLOCK].now()
                async with sessions() as session:
                    due = await session.scalar(
                        select(func.count())
                        .select_from(Outbox)
                        .where(
                            or_(
                                (Outbox.status == "pending") & (Outbox.next_attempt_at <= now),
                                Outbox.status == "sending",
                            )
                        )
                    )
                if not due:
                    return
                runtime.send_wake.set()
                await asyncio.sleep(0.05)


__all__ = ["DEMO", "DemoState", "DemoStore", "MovableClock", "install_demo"]
