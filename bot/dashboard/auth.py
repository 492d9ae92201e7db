"""Dashboard sign-in: a shared password (kept only as a scrypt hash) plus a roster identity.

Sessions are random tokens; the database keeps only their SHA-256 (a `kv` row per session),
so several instances share them and logout revokes at once. Sign-in attempts are limited
per client address and account, or per known device, in this process (docs/dashboard.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from aiohttp import web
from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keys
from bot.dashboard.address import BadAddress
from bot.ratelimit import SlidingWindow
from handlers.config import Settings
from handlers.councils import COORDINATING_ROLES, councils, province_ids
from models.db import read_session
from models.roster import normalize_phone
from models.scoping import council_sessions
from models.tables import DEFAULT_COUNCIL, CouncilMember, KeyValue, Member

# The council of the signed-in coordinator, for the request's pages (several parks).
COUNCIL = web.RequestKey("council", str)


def council_of_request(request: web.Request) -> str | None:
    """The park whose pages this request shows; None on a single-council installation."""
    return request.get(COUNCIL)


def sessions_of(request: web.Request) -> async_sessionmaker[AsyncSession]:
    """The database as the request's council sees it (every park's with one council)."""
    sessions = request.app[keys.SESSIONS]
    council = council_of_request(request)
    return council_sessions(sessions, council) if council is not None else sessions


COOKIE = "antt_session"
LOGIN_COOKIE = "antt_login"
SESSION_PREFIX = "dash:"
PARK_KEY = "council"  # in a session's `kv` value: the park chosen in the header (several parks)
DEVICE_COOKIE = "antt_device"
DEVICE_PREFIX = "dashdev:"  # `kv` rows keyed by the SHA-256 of a device cookie
DEVICE_DAYS = 180
RATE_WINDOW = timedelta(minutes=15)
HASH_THREADS = 2  # scrypt is CPU work: never more at once than the cores of a small server
MAX_WAITING = 32  # checks queued beyond this are refused at once (a flood must not pile up)
ROLES = ("coordinator", "admin")
PROVINCE = "province"  # the province's staff: the provincial overview (bot/dashboard/province.py)
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
    # Several parks: the council whose pages this coordinator sees (docs/councils.md).
    council: str | None = None
    # Several parks: (id, name) of every park they may switch to (the header's select).
    parks: tuple[tuple[str, str], ...] = ()


class Busy(Exception):
    """Too many password checks already waiting: answer 429 now rather than queue more."""


@dataclass
class DashboardState:
    """Per-app dashboard state: the password hash, the sign-in limits and the hash queue."""

    salt: bytes | None
    pw_hash: bytes | None
    limiter: SlidingWindow
    proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    waiting: int = 0  # password checks queued or running
    hashing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(HASH_THREADS))

    @classmethod
    def from_settings(cls, settings: Settings) -> DashboardState:
        limiter = SlidingWindow(settings.dashboard.login_attempts_per_15_minutes, RATE_WINDOW)
        proxies = tuple(settings.server.trusted_proxies)
        password = settings.dashboard.password.get_secret_value()
        if not password:
            return cls(None, None, limiter, proxies)
        salt = secrets.token_bytes(16)
        return cls(salt, hash_password(password, salt), limiter, proxies)

    @property
    def enabled(self) -> bool:
        return self.pw_hash is not None

    async def password_ok(self, given: str) -> bool:
        """scrypt in a worker thread, at most HASH_THREADS at once; Busy past MAX_WAITING."""
        if self.salt is None or self.pw_hash is None:
            return False
        if self.waiting >= MAX_WAITING:
            raise Busy
        self.waiting += 1
        try:
            async with self.hashing:
                digest = await asyncio.to_thread(hash_password, given, self.salt)
        finally:
            self.waiting -= 1
        return hmac.compare_digest(digest, self.pw_hash)


STATE = web.AppKey("dashboard_state", DashboardState)


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of two texts, whatever characters they hold."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def client_ip(request: web.Request) -> str:
    """The peer address, or the client a trusted proxy names in X-Forwarded-For.

    The header is read right to left, skipping our own proxies: the first other address is
    the one the outermost trusted proxy saw. From an untrusted peer it is ignored (forgeable).
    """
    peer = request.remote or "unknown"
    proxies = request.app[STATE].proxies
    if not proxies or not _listed(peer, proxies):
        return peer
    hops = ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
    for hop in reversed([h.strip() for h in hops if h.strip()]):
        try:
            address = ip_address(hop)
        except ValueError:
            return peer  # a proxy that writes garbage: fall back to its own address
        if not any(address in net for net in proxies):
            return str(address)
    return peer


def _listed(peer: str, proxies: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        address = ip_address(peer)
    except ValueError:
        return False  # a Unix socket or an unknown peer
    return any(address in net for net in proxies)


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


async def find_coordinator(
    session: AsyncSession, username: str, settings: Settings
) -> Member | None:
    """A coordinator or admin by platform id or phone (any way of writing it), or one of the
    province's staff (`province.coordinators`, known once they wrote to the bot). With several
    parks, one who coordinates at least one park, whatever the last roster read made them."""
    name = username.strip()
    if not name or not name.isprintable():
        return None  # no roster id or phone holds control characters (PostgreSQL refuses NUL)
    conds = [Member.member_id == name]
    phone = normalize_phone(name)
    if phone is not None:
        conds.append(Member.phone == phone)
    allowed = or_(_coordinates_a_park(settings), Member.member_id.in_(province_ids(settings)))
    stmt = select(Member).where(or_(*conds), allowed, Member.active.is_(True)).order_by(Member.id)
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


def _device_digest(token: str) -> str:
    return DEVICE_PREFIX + hashlib.sha256(token.encode()).hexdigest()


async def known_device(session: AsyncSession, token: str, member: Member | None) -> str | None:
    """The cookie's bucket key if it was given to `member` at an earlier sign-in, else None.

    A device that signed in before gets its own limit, so strangers failing from the same
    address, or against the same account, never lock its owner out (OWASP device cookies).
    """
    if not token or len(token) > 100 or not token.isascii():
        return None
    # Looked up whoever is named, so an unknown username takes no less time.
    row = await session.get(KeyValue, _device_digest(token))
    if row is None or member is None or row.value.get("member_pk") != member.id:
        return None
    return row.key


async def remember_device(session: AsyncSession, member: Member, token: str, now: datetime) -> str:
    """The device cookie to set after a good sign-in (the same one when still valid)."""
    await session.execute(
        delete(KeyValue).where(
            KeyValue.key.like(f"{DEVICE_PREFIX}%"),
            KeyValue.updated_at < now - timedelta(days=DEVICE_DAYS),
        )
    )
    row = await session.get(KeyValue, _device_digest(token)) if token.isascii() else None
    if row is not None and row.value.get("member_pk") == member.id:
        row.updated_at = now
        return token
    token = secrets.token_urlsafe(32)
    session.add(KeyValue(key=_device_digest(token), updated_at=now, value={"member_pk": member.id}))
    return token


def address_key(ip: str) -> str:
    return f"ip:{ip}"


def limit_keys(ip: str, username: str, member: Member | None, device: str | None) -> list[str]:
    """Which windows a sign-in attempt counts against: its device's, or address and account.

    An unknown username has a window of its own too, so a 429 never tells that a name exists.
    """
    if device is not None:
        return [device]
    if member is not None:
        account = f"member:{member.id}"
    else:
        name = username.strip()
        account = f"user:{normalize_phone(name) or name.casefold()}"
    return [address_key(ip), account]


async def current_user(request: web.Request) -> User | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100 or not token.isascii():
        return None  # ours are short URL-safe ASCII: anything else is no session
    now = request.app[keys.CLOCK].now()
    # Every page asks this: a read takes no write lock on SQLite (intake keeps writing).
    async with read_session(request.app[keys.SESSIONS]) as session:
        row = await session.get(KeyValue, _digest(token))
        if row is None or datetime.fromisoformat(row.value["expires"]) <= now:
            return None
        member = await session.get(Member, row.value["member_pk"])
        if member is None or not member.active:
            return None  # removed since signing in
        settings = request.app[keys.SETTINGS]
        role = dashboard_role(settings, member)
        mine = await park_roles(session, settings, member) if role != PROVINCE else {}
    parks = tuple((c.id, c.name) for c in councils(settings) if c.id in mine)
    if role == PROVINCE and settings.councils:
        parks = tuple((c.id, c.name) for c in councils(settings))
    council = chosen_park(settings, role, parks, row.value.get(PARK_KEY))
    if settings.councils and role != PROVINCE:
        role = mine.get(council or "", "")  # their role on the park shown, not the last roster's
    if role not in (*ROLES, PROVINCE):
        return None  # demoted since signing in
    actor = f"{member.name} ({member.member_id or member.phone or member.id})"
    return User(member.id, member.name, role, actor, row.value["csrf"], row.key, council, parks)


def _coordinates_a_park(settings: Settings) -> ColumnElement[bool]:
    """With one council, the roster role; with several, `members.role` is only the last roster
    read's, so a coordinating role on any park's council (or a park's configured coordinators)."""
    if not settings.councils:
        return and_(Member.role.in_(ROLES), Member.status == "member")
    configured = [m for c in councils(settings) for m in c.coordinators]
    on_a_council = exists().where(
        CouncilMember.member_pk == Member.id, CouncilMember.role.in_(COORDINATING_ROLES)
    )
    return or_(on_a_council, Member.member_id.in_(configured))


def dashboard_role(settings: Settings, member: Member) -> str:
    """`province` for the province's staff (they see every park's overview), else the
    roster role."""
    if member.member_id and member.member_id in settings.province.coordinators:
        return PROVINCE
    return member.role


async def park_roles(session: AsyncSession, settings: Settings, member: Member) -> dict[str, str]:
    """{park id: role} of the parks the member coordinates or administers, in file order: by
    the council's roster role, or as a park's configured coordinator. Empty with one council."""
    if not settings.councils:
        return {}
    stmt = select(CouncilMember.council_id, CouncilMember.role).where(
        CouncilMember.member_pk == member.id
    )
    roles = {council: r for council, r in await session.execute(stmt)}
    out: dict[str, str] = {}
    for c in councils(settings):
        if roles.get(c.id) in COORDINATING_ROLES:
            out[c.id] = roles[c.id]
        elif member.member_id and member.member_id in c.coordinators:
            out[c.id] = "coordinator"
    return out


def chosen_park(
    settings: Settings, role: str, parks: tuple[tuple[str, str], ...], chosen: object
) -> str | None:
    """The park the session's pages show: the one chosen in the header if still theirs, else
    the first they coordinate; `default` (nobody's records) if none. None with one council,
    and for the province's staff until they choose a park (their overview)."""
    if not settings.councils:
        return None
    ids = [park_id for park_id, _name in parks]
    if chosen in ids:
        return str(chosen)
    if role == PROVINCE:
        return None
    return ids[0] if ids else DEFAULT_COUNCIL


async def choose_park(request: web.Request, user: User, council: str | None) -> None:
    """Remember in the session which park its pages show (None: the province's overview)."""
    async with request.app[keys.SESSIONS]() as session, session.begin():
        row = await session.get(KeyValue, user.session_key)
        if row is not None:  # signed out meanwhile: nothing to remember
            row.value = {**row.value, PARK_KEY: council}


async def end_session(request: web.Request, user: User) -> None:
    async with request.app[keys.SESSIONS]() as session, session.begin():
        await session.execute(delete(KeyValue).where(KeyValue.key == user.session_key))


View = Callable[[web.Request, User], Awaitable[web.StreamResponse]]
# A form refused before its page's work (403): signed out meanwhile, or a page left open
# across a sign-in (its hidden token is the old session's, or a forged form has none).
SESSION_ENDED = "Phiên đăng nhập đã hết"
SIGN_IN_AGAIN = "Anh/chị đã đăng xuất hoặc phiên đã hết hạn. Vui lòng đăng nhập lại rồi gửi lại."
FORM_NOT_SENT = "Chưa gửi được"
STALE_FORM = "Trang này đã cũ (mở từ phiên đăng nhập trước). Vui lòng tải lại trang rồi gửi lại."


def login_required(
    role: str | None = None, *, every_park: bool = False
) -> Callable[[View], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Pages need a session (else the login page); `role="admin"` pages answer 403 to others.

    POSTs must carry the session's CSRF token in the form field `csrf`. A park's pages are
    the chosen park's; `every_park` pages (the province's, signing out, the park switch) are
    no park's, and the province's staff see a park's pages only once they chose a park.
    """

    def wrap(view: View) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            if not request.app[STATE].enabled:
                from bot.dashboard.views import setup_page

                return await setup_page(request)
            from bot.dashboard.views import error_page, read_form

            user = await current_user(request)
            if user is None:
                if request.method != "GET":  # a form sent after signing out or expiry
                    return error_page(request, 403, SESSION_ENDED, SIGN_IN_AGAIN)
                target = request.path_qs if request.path.startswith("/dashboard") else "/dashboard/"
                raise web.HTTPSeeOther(f"/dashboard/login?next={_quote(target)}")
            if request.method == "POST":
                form = await read_form(request)
                if not same(str(form.get("csrf", "")), user.csrf):
                    return error_page(request, 403, FORM_NOT_SENT, STALE_FORM, user)
            if not every_park and user.council is not None:
                request[COUNCIL] = user.council  # every page of this request is that park's
            elif not every_park and user.role == PROVINCE and request.app[keys.SETTINGS].councils:
                # No park chosen: a park's page would mix every park's records.
                raise web.HTTPSeeOther("/dashboard/province")
            if role is not None and user.role != role:
                return error_page(
                    request,
                    403,
                    "Không đủ quyền",
                    "Chỉ quản trị mới sửa được danh sách thành viên.",
                    user,
                )
            try:
                return await view(request, user)
            except BadAddress as exc:  # a hand-typed parameter: said on our own page
                return error_page(request, exc.status, exc.title, exc.message, user)

        return handler

    return wrap


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")


# Our own pages only, in printable ASCII without a backslash: no scheme, no host, and no
# CR/LF or other byte that could not go into a Location header.
_NEXT = re.compile(r"/dashboard(?:[/?#][!-\[\]-~]*)?")


def safe_next(value: str) -> str:
    """Only our own pages: no scheme, no host, no `//evil`, nothing a header cannot carry."""
    return value if _NEXT.fullmatch(value) else "/dashboard/"
