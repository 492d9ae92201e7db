"""Dashboard sign-in: a shared password (kept only as a scrypt hash) plus a roster identity.

Sessions are random tokens; the database keeps only their SHA-256 (a `kv` row per session),
so several instances share them and logout revokes at once. Failed logins are limited per
client address in this process (docs/dashboard.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keys
from handlers.config import Settings
from models.roster import normalize_phone
from models.tables import KeyValue, Member

COOKIE = "antt_session"
LOGIN_COOKIE = "antt_login"
SESSION_PREFIX = "dash:"
RATE_WINDOW = timedelta(minutes=15)
ROLES = ("coordinator", "admin")
# scrypt cost: about 50 ms per check, enough to make an offline guess at a leaked hash slow.
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, maxmem=64 * 1024 * 1024, **SCRYPT)


@dataclass
class User:
    """The signed-in coordinator, re-read from the roster on every request."""

    member_pk: int
    name: str
    role: str
    actor: str  # how the audit log names them
    csrf: str
    session_key: str


@dataclass
class DashboardState:
    """Per-app dashboard state: the password hash and the failed-login counters."""

    salt: bytes | None
    pw_hash: bytes | None
    failures: dict[str, deque[datetime]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> DashboardState:
        password = settings.dashboard.password.get_secret_value()
        if not password:
            return cls(None, None)
        salt = secrets.token_bytes(16)
        return cls(salt, hash_password(password, salt))

    @property
    def enabled(self) -> bool:
        return self.pw_hash is not None

    def password_ok(self, given: str) -> bool:
        if self.salt is None or self.pw_hash is None:
            return False
        return hmac.compare_digest(hash_password(given, self.salt), self.pw_hash)

    def blocked(self, ip: str, now: datetime, limit: int) -> bool:
        recent = self.failures.get(ip)
        if not recent:
            return False
        while recent and recent[0] <= now - RATE_WINDOW:
            recent.popleft()
        return len(recent) >= limit

    def failed(self, ip: str, now: datetime) -> None:
        self.failures.setdefault(ip, deque()).append(now)
        if len(self.failures) > 10_000:  # bound memory under a spray of addresses
            oldest = min(
                self.failures, key=lambda k: self.failures[k][-1] if self.failures[k] else now
            )
            del self.failures[oldest]


STATE = web.AppKey("dashboard_state", DashboardState)


def client_ip(request: web.Request) -> str:
    """The peer address; a reverse proxy's headers are not trusted (they are forgeable)."""
    return request.remote or "unknown"


def is_https(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def cookie_args(request: web.Request, max_age: int | None = None) -> dict[str, Any]:
    settings = request.app[keys.SETTINGS]
    # Secure only over https: a Secure cookie set over plain http is dropped by browsers.
    secure = settings.dashboard.secure_cookies and is_https(request)
    args: dict[str, Any] = {
        "httponly": True,
        "samesite": "Lax",
        "path": "/dashboard",
        "secure": secure,
    }
    if max_age is not None:
        args["max_age"] = max_age
    return args


def _digest(token: str) -> str:
    return SESSION_PREFIX + hashlib.sha256(token.encode()).hexdigest()


async def find_coordinator(session: AsyncSession, username: str) -> Member | None:
    """A roster coordinator or admin by platform id or phone (any way of writing it)."""
    name = username.strip()
    if not name:
        return None
    conds = [Member.member_id == name]
    phone = normalize_phone(name)
    if phone is not None:
        conds.append(Member.phone == phone)
    stmt = (
        select(Member)
        .where(
            or_(*conds), Member.role.in_(ROLES), Member.active.is_(True), Member.status == "member"
        )
        .order_by(Member.id)
    )
    return (await session.execute(stmt)).scalars().first()


async def start_session(session: AsyncSession, member: Member, now: datetime, hours: int) -> str:
    """A new session row; also sweeps sessions older than their lifetime."""
    stale = now - timedelta(hours=hours)
    await session.execute(
        delete(KeyValue).where(KeyValue.key.like(f"{SESSION_PREFIX}%"), KeyValue.updated_at < stale)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        KeyValue(
            key=_digest(token),
            updated_at=now,
            value={
                "member_pk": member.id,
                "csrf": secrets.token_urlsafe(24),
                "expires": (now + timedelta(hours=hours)).isoformat(),
            },
        )
    )
    return token


async def current_user(request: web.Request) -> User | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    now = request.app[keys.CLOCK].now()
    async with request.app[keys.SESSIONS]() as session:
        row = await session.get(KeyValue, _digest(token))
        if row is None or datetime.fromisoformat(row.value["expires"]) <= now:
            return None
        member = await session.get(Member, row.value["member_pk"])
    if member is None or not member.active or member.role not in ROLES:
        return None  # demoted or removed since signing in
    actor = f"{member.name} ({member.member_id or member.phone or member.id})"
    return User(member.id, member.name, member.role, actor, row.value["csrf"], row.key)


async def end_session(request: web.Request, user: User) -> None:
    async with request.app[keys.SESSIONS]() as session, session.begin():
        await session.execute(delete(KeyValue).where(KeyValue.key == user.session_key))


View = Callable[[web.Request, User], Awaitable[web.StreamResponse]]


def login_required(
    role: str | None = None,
) -> Callable[[View], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Pages need a session (else the login page); `role="admin"` pages answer 403 to others.

    POSTs must carry the session's CSRF token in the form field `csrf`.
    """

    def wrap(view: View) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            if not request.app[STATE].enabled:
                from bot.dashboard.views import setup_page

                return await setup_page(request)
            user = await current_user(request)
            if user is None:
                if request.method != "GET":
                    raise web.HTTPForbidden(text="session expired")
                target = request.path_qs if request.path.startswith("/dashboard") else "/dashboard/"
                raise web.HTTPSeeOther(f"/dashboard/login?next={_quote(target)}")
            if request.method == "POST":
                form = await request.post()
                if not hmac.compare_digest(str(form.get("csrf", "")), user.csrf):
                    raise web.HTTPForbidden(text="CSRF token missing or wrong")
            if role is not None and user.role != role:
                from bot.dashboard.views import error_page

                return error_page(
                    request,
                    403,
                    "Không đủ quyền",
                    "Chỉ quản trị mới sửa được danh sách thành viên.",
                    user,
                )
            return await view(request, user)

        return handler

    return wrap


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")


def safe_next(value: str) -> str:
    """Only our own pages: no scheme, no host, no `//evil`."""
    if value.startswith("/dashboard") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard/"
