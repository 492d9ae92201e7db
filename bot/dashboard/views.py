"""The dashboard's pages: the week, reports, directives, members, digests and downloads."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keys
from bot.dashboard import auth
from bot.dashboard.address import TITLES, BadAddress, bad_parameter, parameter
from bot.dashboard.auth import STATE, User, council_of_request, login_required, sessions_of
from bot.dashboard.render import render
from bot.export import digest_xlsx, for_people
from bot.offloop import Rows, file_chunks, spooled_csv, spooled_xlsx
from bot.ratelimit import RateLimiter, Reservation
from handlers.councils import council_name
from handlers.digest import (
    WEEK_RE,
    Digest,
    build_digest,
    last_complete_week,
    parse_week,
    shift_week,
    week_bounds,
    week_of,
)
from handlers.digest_chart import LAYOUTS, render_png
from handlers.texts import privacy as privacy_texts
from models import dashboard as dq
from models import digest as q
from models import exports
from models.db import read_session
from models.roster import ROLES, normalize_phone
from models.scoping import members_here
from models.tables import AuditLog, CouncilMember, Member

WEEK = r"{week:\d{4}-W\d{2}}"
# Weeks and dates outside these years are refused: the day after, the trend's weeks before
# and the conversion to UTC must all still be representable dates.
FIRST_YEAR, LAST_YEAR = 1900, 9998
MAX_ID = 2**63 - 1  # ids are BIGINT
CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # never in a name or a search
# Invisible in a name: zero-width characters (pasted from chats) and direction controls, which
# can show "Lan" as "naL" or hide a word. Dropped, not refused: the name is right without them.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
DIRECTIVE_DAYS = 30
KIND_LABELS = exports.TITLE_VI  # one name per export, here and in the CLI's sheets
NO_PAGE = "Địa chỉ này không có trên trang quản lý: hãy kiểm tra lại, hoặc về trang chính."
# 405: a button's address typed or bookmarked; a form sent to a page that only shows.
BUTTON_ONLY = "Địa chỉ này chỉ dùng qua các nút trên trang, không mở trực tiếp được."
NO_FORM_HERE = "Trang này không nhận biểu mẫu gửi đến: hãy mở lại trang rồi dùng các nút trên đó."
UNREADABLE_FORM = "Dữ liệu gửi lên bị hỏng. Vui lòng tải lại trang rồi gửi lại."
TOO_LARGE = "Nội dung gửi lên dài quá mức trang nhận được. Vui lòng rút ngắn rồi gửi lại."
NO_MEMBER = "Không có thành viên này."
# The pages have no scripts at all; the policy makes an injected one inert anyway.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/dashboard", to_index)
    r.add_get("/dashboard/static/style.css", stylesheet)
    r.add_get("/dashboard/login", login_form)
    r.add_post("/dashboard/login", login)
    r.add_post("/dashboard/logout", logout)
    r.add_get("/dashboard/", week_page)
    r.add_get(f"/dashboard/chart/{WEEK}.png", chart)
    r.add_get("/dashboard/reports", reports_page)
    r.add_get(r"/dashboard/photos/{pk:\d+}", report_photo)
    r.add_get("/dashboard/directives", directives_page)
    r.add_get("/dashboard/members", members_page)
    r.add_get(r"/dashboard/members/{pk:\d+}", member_form)
    r.add_post(r"/dashboard/members/{pk:\d+}", member_save)
    r.add_get("/dashboard/digest/", digests_page)
    r.add_get(f"/dashboard/digest/{WEEK}", digest_page)
    r.add_get(f"/dashboard/digest/{WEEK}.xlsx", digest_download)
    r.add_get("/dashboard/downloads", downloads_page)
    r.add_get(r"/dashboard/downloads/{kind:[a-z]+}.{fmt:csv|xlsx}", download)
    r.add_get("/dashboard/baomat", privacy_page)


async def privacy_page(request: web.Request) -> web.Response:
    """Public: what the bot keeps, why and for how long (the link in the members' notice)."""
    user = await auth.current_user(request)
    r = request.app[keys.SETTINGS].retention
    return page(
        request,
        "privacy.html",
        user,
        nav="",
        r=r,
        sent_digests=privacy_texts.SENT_DIGESTS,
        sent_digests_use=privacy_texts.SENT_DIGESTS_USE,
    )


def see_other(location: str) -> web.Response:
    """A 303 that can carry cookies (a raised HTTPException would too, but less plainly)."""
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


async def to_index(_request: web.Request) -> web.Response:
    return see_other("/dashboard/")


def page(
    request: web.Request, template: str, user: User | None, status: int = 200, **context: Any
) -> web.Response:
    settings = request.app[keys.SETTINGS]
    body = render(
        template,
        settings.tz,
        user=user,
        csrf=user.csrf if user else "",
        standalone=False,
        park=council_name(settings, council_of_request(request)),  # several parks: whose
        here=request.path,  # the park switch comes back to this page
        **context,
    )
    return web.Response(
        text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
    )


def error_page(
    request: web.Request, status: int, title: str, message: str, user: User | None = None
) -> web.Response:
    return page(request, "error.html", user, status=status, title=title, message=message, nav="")


async def no_such_page(request: web.Request) -> web.Response:
    """Any /dashboard address no page has (404), or one asked the wrong way (405): our own
    page in Vietnamese instead of aiohttp's "404: Not Found". Registered last (install)."""
    allowed = await _methods_elsewhere(request)
    if not allowed:
        return error_page(request, 404, TITLES[404], NO_PAGE)
    why = BUTTON_ONLY if request.method in ("GET", "HEAD") else NO_FORM_HERE
    shown = error_page(request, 405, "Không mở được theo cách này", why)
    shown.headers["Allow"] = ",".join(sorted(allowed))
    return shown


async def _methods_elsewhere(request: web.Request) -> set[str]:
    """The methods the other routes take at this address (none: no page is there)."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not request.match_info.route.resource:
            _match, methods = await resource.resolve(request)
            allowed |= methods
    return allowed


def add_fallback(app: web.Application) -> None:
    """After every dashboard route: the rest of /dashboard/ answers with `no_such_page`,
    and so does `/dashboard` itself asked other than by GET (only a redirect lives there)."""
    app.router.add_route("*", "/dashboard", no_such_page)
    app.router.add_route("*", "/dashboard/{rest:.*}", no_such_page)


async def setup_page(request: web.Request) -> web.Response:
    return page(request, "setup.html", None, status=503, nav="")


async def stylesheet(_request: web.Request) -> web.Response:
    css = resources.files("bot.dashboard").joinpath("static/style.css").read_text("utf-8")
    return web.Response(
        text=css,
        content_type="text/css",
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def now_of(request: web.Request) -> datetime:
    return request.app[keys.CLOCK].now()


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The POSTed form; a body aiohttp cannot parse is the client's error (400), not ours."""
    try:
        return await request.post()
    except web.HTTPRequestEntityTooLarge as exc:  # past client_max_size: no form of ours is
        shown = error_page(request, 413, "Dữ liệu gửi lên quá lớn", TOO_LARGE)
        # The sizes only make aiohttp's English text, which the page replaces.
        raise web.HTTPRequestEntityTooLarge(0, 0, **_as_html(shown)) from exc
    except (ValueError, LookupError, AssertionError) as exc:  # bad boundary, charset, encoding
        shown = error_page(request, 400, "Không đọc được biểu mẫu", UNREADABLE_FORM)
        raise web.HTTPBadRequest(**_as_html(shown)) from exc


def _as_html(shown: web.Response) -> dict[str, Any]:
    """An error page's text and headers, for the HTTP exception that carries it."""
    return {"text": shown.text, "content_type": "text/html", "headers": HEADERS}


# --- signing in -----------------------------------------------------------------------------


def _login_page(
    request: web.Request,
    *,
    status: int = 200,
    error: str = "",
    username: str = "",
    next_url: str = "/dashboard/",
) -> web.Response:
    """The form with a fresh double-submit token (cookie + field): no forged logins."""
    token = secrets.token_urlsafe(24)
    resp = page(
        request,
        "login.html",
        None,
        status=status,
        error=error,
        username=username,
        next=next_url,
        login_csrf=token,
        nav="",
    )
    resp.set_cookie(auth.LOGIN_COOKIE, token, **auth.cookie_args(request, max_age=3600))
    return resp


async def login_form(request: web.Request) -> web.Response:
    if not request.app[STATE].enabled:
        return await setup_page(request)
    if await auth.current_user(request) is not None:
        return see_other("/dashboard/")
    return _login_page(request, next_url=auth.safe_next(request.query.get("next", "")))


async def login(request: web.Request) -> web.Response:
    """Reserve the attempt in every window first, then check: concurrency cannot skip a limit."""
    state = request.app[STATE]
    if not state.enabled:
        return await setup_page(request)
    settings, now, ip = request.app[keys.SETTINGS], now_of(request), auth.client_ip(request)
    form = await read_form(request)
    next_url = auth.safe_next(str(form.get("next", "")))
    cookie = request.cookies.get(auth.LOGIN_COOKIE, "")
    if not cookie or not auth.same(cookie, str(form.get("csrf", ""))):
        return _login_page(
            request,
            status=403,
            next_url=next_url,
            error="Phiên đăng nhập đã hết hạn, vui lòng thử lại.",
        )
    username = str(form.get("username", ""))[:100]
    password = str(form.get("password", ""))[:200]
    device_cookie = request.cookies.get(auth.DEVICE_COOKIE, "")
    held: list[Reservation] = []
    if not device_cookie:
        # The address's window is reserved before any database work: a flood from one
        # address is refused at the cost of a dictionary look-up.
        early = state.limiter.reserve([auth.address_key(ip)], now)
        if early is None:
            return _refused(request, state.limiter.retry_after([auth.address_key(ip)], now))
        held.append(early)
    async with read_session(request.app[keys.SESSIONS]) as session:
        member = await auth.find_coordinator(session, username, settings)
        device = await auth.known_device(session, device_cookie, member)
    windows = [
        w
        for w in auth.limit_keys(ip, username, member, device)
        if not held or w != auth.address_key(ip)
    ]
    # No await between the test for room and the reservation: this is the atomic step.
    rest = state.limiter.reserve(windows, now)
    if rest is None:
        for r in held:
            r.refund()  # not checked: the address keeps that attempt
        return _refused(request, state.limiter.retry_after(windows, now))
    held.append(rest)
    try:
        # The hash is computed whatever the username, so timing does not reveal who exists.
        good = await state.password_ok(password) and member is not None
    except auth.Busy:
        for r in held:
            r.refund()  # never checked: it must not count as a failure
        return _refused(request, 60, BUSY)
    if not good or member is None:
        return _login_page(  # the reservations stay: they are this failure's record
            request,
            status=401,
            username=username,
            next_url=next_url,
            error="Sai tên đăng nhập hoặc mật khẩu.",
        )
    for r in held:
        r.refund()  # a success is not counted
    async with request.app[keys.SESSIONS]() as session, session.begin():
        token = await auth.start_session(session, member, now, settings.dashboard.session_hours)
        device_cookie = await auth.remember_device(session, member, device_cookie, now)
    resp = see_other(next_url)
    resp.set_cookie(
        auth.COOKIE,
        token,
        **auth.cookie_args(request, max_age=settings.dashboard.session_hours * 3600),
    )
    resp.set_cookie(
        auth.DEVICE_COOKIE,
        device_cookie,
        **auth.cookie_args(request, max_age=auth.DEVICE_DAYS * 86400),
    )
    resp.del_cookie(auth.LOGIN_COOKIE, path="/dashboard")
    return resp


TOO_MANY = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."
BUSY = "Hệ thống đang bận, vui lòng thử lại sau ít phút."


def _refused(request: web.Request, wait: float, error: str = TOO_MANY) -> web.Response:
    """429 with the login form again and when to retry."""
    resp = _login_page(request, status=429, error=error)
    resp.headers["Retry-After"] = RateLimiter.retry_after(wait)
    return resp


@login_required(every_park=True)
async def logout(request: web.Request, user: User) -> web.Response:
    await auth.end_session(request, user)
    resp = see_other("/dashboard/login")
    resp.del_cookie(auth.COOKIE, path="/dashboard")
    return resp


# --- the week -------------------------------------------------------------------------------


def _week_param(request: web.Request, default: str) -> str:
    week = request.query.get("week", "") or default
    if not WEEK_RE.fullmatch(week):
        raise bad_parameter("week", week, "tuần viết theo dạng 2026-W48 (năm, chữ W, số tuần)")
    return week


def _shown_week(week: str) -> str:
    """A week the dashboard can show with its neighbours and trend, else 404."""
    if not FIRST_YEAR <= int(week[:4]) <= LAST_YEAR:
        raise BadAddress(f"Không có tuần {week}: chỉ có các năm {FIRST_YEAR}–{LAST_YEAR}.", 404)
    try:
        parse_week(week)
    except ValueError:  # week 0, 54, or 53 of a 52-week year
        year, num = week[:4], int(week[6:])
        raise BadAddress(f"Không có tuần {week}: năm {year} không có tuần {num}.", 404) from None
    return week


async def _digest(request: web.Request, week: str, *, with_members: bool = True) -> Digest:
    settings = request.app[keys.SETTINGS]
    _shown_week(week)
    async with read_session(sessions_of(request)) as session:
        return await build_digest(
            session,
            settings,
            week,
            now_of(request),
            with_members=with_members,
            council_id=council_of_request(request),
        )


@login_required()
async def week_page(request: web.Request, user: User) -> web.Response:
    if user.role == auth.PROVINCE and user.council is None:
        return see_other("/dashboard/province")  # the province's staff start from every park
    tz = request.app[keys.SETTINGS].tz
    current = week_of(now_of(request), tz)
    week = _week_param(request, current)
    d = await _digest(request, week)
    nxt = shift_week(week, 1)
    return page(
        request,
        "week.html",
        user,
        d=d,
        nav="week",
        prev_week=shift_week(week, -1),
        next_week=nxt if nxt <= current else None,
        chart_url=f"/dashboard/chart/{week}.png",
    )


def chart_layout(request: web.Request) -> str:
    """`?layout=phone`: the chart a phone's browser asks for (templates/_figures.html)."""
    layout = _query(request, "layout", 20) or "wide"
    if layout not in LAYOUTS:
        raise bad_parameter(
            "layout", layout, "dùng “wide” (màn hình rộng) hoặc “phone” (điện thoại)"
        )
    return layout


@login_required()
async def chart(request: web.Request, user: User) -> web.Response:
    layout = chart_layout(request)
    d = await _digest(request, request.match_info["week"])
    # matplotlib is CPU work: keep the loop free
    png = await asyncio.to_thread(render_png, d, layout=layout)
    return web.Response(
        body=png,
        content_type="image/png",
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@login_required()
async def digest_page(request: web.Request, user: User) -> web.Response:
    d = await _digest(request, request.match_info["week"])
    return page(
        request,
        "digest.html",
        user,
        d=d,
        nav="digest",
        text=d.render_text(),
        chart_url=f"/dashboard/chart/{d.week}.png",
    )


@login_required()
async def digest_download(request: web.Request, user: User) -> web.Response:
    d = await _digest(request, request.match_info["week"])
    await _audit_download(request, user, "digest", {"week": d.week})
    data = await asyncio.to_thread(digest_xlsx, d)  # openpyxl is CPU work: off the loop
    return _attachment(data, f"antt-tong-ket-{d.week}.xlsx", XLSX)


@login_required()
async def digests_page(request: web.Request, user: User) -> web.Response:
    settings = request.app[keys.SETTINGS]
    now, tz = now_of(request), settings.tz
    last = last_complete_week(now, tz)
    weeks = []
    async with read_session(sessions_of(request)) as session:
        for back in range(12):
            wk = shift_week(last, -back)
            start, end = week_bounds(wk, tz)
            w = q.Window(start, end, min(now, end), council_id=council_of_request(request), tz=tz)
            weeks.append((wk, start, await q.totals(session, w)))
    return page(request, "digests.html", user, weeks=weeks, nav="digest")


# --- records --------------------------------------------------------------------------------


def _day(value: str, tz: Any, name: str) -> datetime | None:
    """The `name` parameter's day (since or until), at local midnight; empty: None."""
    if not value:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise bad_parameter(name, value, "ngày viết theo dạng 2026-11-27") from None
    if not FIRST_YEAR <= d.year <= LAST_YEAR:  # the day after, or UTC, must still exist
        raise bad_parameter(name, value, f"chỉ có các năm {FIRST_YEAR}–{LAST_YEAR}")
    return datetime(d.year, d.month, d.day, tzinfo=tz)


def _days(since: str, until: str, tz: Any) -> tuple[str, str, datetime | None, datetime | None]:
    """The from/to filter days as typed and parsed; a range typed backwards is read forwards."""
    first, last = _day(since, tz, "since"), _day(until, tz, "until")
    if first and last and first > last:  # "6/12 to 1/11" means 1/11 to 6/12, not "nothing"
        return until, since, last, first
    return since, until, first, last


def _query(request: web.Request, name: str, limit: int) -> str:
    """A text parameter, cut to `limit`; control characters (NUL...) are refused with 400."""
    value = request.query.get(name, "")[:limit]
    if CONTROL.search(value):
        raise BadAddress(f"{parameter(name)} có ký tự điều khiển: hãy gõ lại.")
    return value


def path_pk(request: web.Request) -> int:
    """The row id in the path; one no database column can hold is simply not there."""
    pk = int(request.match_info["pk"])
    if pk > MAX_ID:
        raise BadAddress(NO_PAGE, 404)
    return pk


@login_required()
async def reports_page(request: web.Request, user: User) -> web.Response:
    tz = request.app[keys.SETTINGS].tz
    f = {k: _query(request, k, 40) for k in ("category", "status", "since", "until")}
    f["since"], f["until"], since, until = _days(f["since"], f["until"], tz)
    limit = 200
    async with read_session(sessions_of(request)) as session:
        categories, statuses = await dq.report_filters(session)
        rows = await dq.reports(
            session,
            category=f["category"],
            status=f["status"],
            since=since,
            until=until + timedelta(days=1) if until else None,
            limit=limit,
        )
    return page(
        request,
        "reports.html",
        user,
        rows=rows,
        f=f,
        categories=categories,
        statuses=statuses,
        limit=limit,
        nav="reports",
    )


@login_required()
async def report_photo(request: web.Request, user: User) -> web.Response:
    """A photo kept with a report (fetched from Zalo when it arrived; its URL expires)."""
    async with read_session(sessions_of(request)) as session:
        found = await dq.photo(session, path_pk(request))
    if found is None:
        return error_page(
            request, 404, "Không có ảnh", "Ảnh này không có hoặc chưa tải về được.", user
        )
    data, content_type = found
    return web.Response(
        body=data,
        content_type=content_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",  # never read as anything but the image
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@login_required()
async def directives_page(request: web.Request, user: User) -> web.Response:
    now = now_of(request)
    w = q.Window(
        now - timedelta(days=DIRECTIVE_DAYS),
        now,
        now,
        council_id=council_of_request(request),
        tz=request.app[keys.SETTINGS].tz,  # reads the leave: those away are shown apart
    )
    async with read_session(sessions_of(request)) as session:
        directives = list(reversed(await q.directive_statuses(session, w)))
    return page(
        request,
        "directives.html",
        user,
        directives=directives,
        days=DIRECTIVE_DAYS,
        nav="directives",
    )


@login_required()
async def members_page(request: web.Request, user: User) -> web.Response:
    settings = request.app[keys.SETTINGS]
    now = now_of(request)
    week = week_of(now, settings.tz)
    start, end = week_bounds(week, settings.tz)
    w = q.Window(start, end, min(now, end), council_id=council_of_request(request), tz=settings.tz)
    search = _query(request, "q", 100).strip()
    async with read_session(sessions_of(request)) as session:
        rows = await q.member_activity(session, w, search)
        enterprises = sorted(
            (await q.figures(session, w, "enterprise")).items(), key=lambda kv: str(kv[0])
        )
        last_seen = await q.enterprise_last_seen(session, council_of_request(request))
    return page(
        request,
        "members.html",
        user,
        rows=rows,
        enterprises=enterprises,
        last_seen=last_seen,
        q=search,
        week=week,
        nav="members",
        saved=request.query.get("saved", ""),
        forgotten=request.query.get("forgotten", ""),
    )


async def park_member(session: AsyncSession, pk: int) -> Member | None:
    """The member, if the signed-in coordinator's park has them (another park's: None)."""
    stmt = select(Member).where(Member.id == pk, *members_here(session))
    return (await session.execute(stmt)).scalar_one_or_none()


async def _member(request: web.Request) -> Member:
    async with read_session(sessions_of(request)) as session:
        member = await park_member(session, path_pk(request))
    if member is None:
        raise BadAddress(NO_MEMBER, 404)
    return member


@login_required(role="admin")
async def member_form(request: web.Request, user: User) -> web.Response:
    return page(
        request,
        "member_edit.html",
        user,
        m=await _member(request),
        roles=ROLES,
        error="",
        nav="members",
    )


@login_required(role="admin")
async def member_save(request: web.Request, user: User) -> web.Response:
    form = await read_form(request)
    name = " ".join(INVISIBLE.sub("", str(form.get("name", ""))).split())[:200]
    raw_phone = str(form.get("phone", "")).strip()
    enterprise = " ".join(INVISIBLE.sub("", str(form.get("enterprise", ""))).split())[:200] or None
    role = str(form.get("role", ""))
    phone = normalize_phone(raw_phone) if raw_phone else None
    error = ""
    if not name:
        error = "Họ tên không được để trống."
    elif CONTROL.search(name + raw_phone + (enterprise or "")):
        error = "Thông tin có ký tự không hợp lệ, vui lòng nhập lại."
    elif raw_phone and phone is None:
        error = "Số điện thoại không hợp lệ (vd 0912345678)."
    elif role not in ROLES:
        error = "Vai trò không hợp lệ."
    async with sessions_of(request)() as session, session.begin():
        member = await park_member(session, path_pk(request))
        if member is None:
            raise BadAddress(NO_MEMBER, 404)
        if error:
            return page(
                request,
                "member_edit.html",
                user,
                m=member,
                roles=ROLES,
                error=error,
                nav="members",
                status=400,
            )
        await dq.update_member(
            session,
            member,
            {"name": name, "phone": phone, "enterprise": enterprise, "role": role},
            actor=user.actor,
            now=now_of(request),
        )
        if user.council is not None:  # several parks: the role is this park's too
            await session.execute(
                update(CouncilMember)
                .where(
                    CouncilMember.member_pk == member.id,
                    CouncilMember.council_id == user.council,
                )
                .values(role=role)
            )
    return see_other(f"/dashboard/members?saved={member.id}")


# --- downloads ------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


async def _audit_download(
    request: web.Request, user: User, kind: str, detail: dict[str, Any]
) -> None:
    """Every export of personal data is logged before it leaves: who, what, when."""
    async with sessions_of(request)() as session, session.begin():
        session.add(
            AuditLog(
                at=now_of(request),
                actor=user.actor,
                action="download",
                detail={"kind": kind, **detail},
            )
        )


def _attachment(data: bytes, filename: str, content_type: str) -> web.Response:
    return web.Response(body=data, headers=_download_headers(filename, content_type))


def _download_headers(filename: str, content_type: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


@login_required()
async def downloads_page(request: web.Request, user: User) -> web.Response:
    tz = request.app[keys.SETTINGS].tz
    since, until, *_ = _days(_query(request, "since", 10), _query(request, "until", 10), tz)
    params = {k: v for k, v in (("since", since), ("until", until)) if v}
    query = f"?{urlencode(params)}" if params else ""
    return page(
        request,
        "downloads.html",
        user,
        nav="downloads",
        since=since,
        until=until,
        query=query,
        semicolon_query=f"?{urlencode({**params, 'sep': 'semicolon'})}",
        kinds=[(k, KIND_LABELS.get(k, k)) for k in exports.KINDS],
        tzname=request.app[keys.SETTINGS].timezone,
    )


def _separator(request: web.Request) -> str:
    """`?sep=semicolon` for Excel set to Vietnamese; commas without it."""
    name = _query(request, "sep", 20) or "comma"
    if name not in exports.CSV_SEPARATORS:
        raise bad_parameter("sep", name, "dùng “comma” (dấu phẩy) hoặc “semicolon” (dấu chấm phẩy)")
    return name


@login_required()
async def download(request: web.Request, user: User) -> web.StreamResponse:
    kind, fmt = request.match_info["kind"], request.match_info["fmt"]
    if kind not in exports.KINDS:
        raise BadAddress(f"Không có dữ liệu “{kind}” để tải: hãy chọn trong trang Tải về.", 404)
    tz = request.app[keys.SETTINGS].tz
    *_, since, until = _days(_query(request, "since", 10), _query(request, "until", 10), tz)
    until = until + timedelta(days=1) if until else None
    sep = _separator(request) if fmt == "csv" else None
    stamp = now_of(request).astimezone(tz).strftime("%Y%m%d")
    await _audit_download(
        request,
        user,
        kind,
        {
            "format": fmt,
            "since": _query(request, "since", 10),
            "until": _query(request, "until", 10),
            **({"sep": sep} if sep else {}),
        },
    )
    if fmt == "csv":
        csv_name = f"antt-{kind}-{stamp}.csv"
        delimiter = exports.CSV_SEPARATORS[sep or "comma"]
        return await _send_csv(request, kind, since, until, csv_name, delimiter)
    return await _send_xlsx(request, kind, since, until, f"antt-{kind}-{stamp}.xlsx")


def _people_rows(kind: str, since: datetime | None, until: datetime | None) -> Rows:
    """Downloads are for people: Vietnamese headers and values, like the CLI's default."""

    def rows(session: AsyncSession) -> AsyncIterator[dict[str, Any]]:
        return for_people(kind, exports.rows(session, kind, since, until))

    return rows


async def _send_xlsx(
    request: web.Request,
    kind: str,
    since: datetime | None,
    until: datetime | None,
    filename: str,
) -> web.StreamResponse:
    """The workbook written to a temporary file off the loop, then sent from it: 200,000
    rows never sit in memory, and the read behind it ends before the browser reads."""
    tz = request.app[keys.SETTINGS].tz
    cols, names = exports.COLUMNS[kind], exports.headers(kind)
    title = KIND_LABELS.get(kind, kind)
    rows = _people_rows(kind, since, until)
    with await spooled_xlsx(sessions_of(request), rows, cols, tz, title, names) as file:
        response = web.StreamResponse(headers=_download_headers(filename, XLSX))
        response.content_length = os.fstat(file.fileno()).st_size
        await response.prepare(request)
        async for chunk in file_chunks(file):
            await response.write(chunk)
        await response.write_eof()
    return response


async def _send_csv(
    request: web.Request,
    kind: str,
    since: datetime | None,
    until: datetime | None,
    filename: str,
    delimiter: str,
) -> web.StreamResponse:
    """The CSV sent in chunks as they are encoded: 200,000 rows never sit in memory whole."""
    rows = _people_rows(kind, since, until)
    tz = request.app[keys.SETTINGS].tz
    cols, names = exports.COLUMNS[kind], exports.headers(kind)
    async with spooled_csv(sessions_of(request), rows, cols, tz, names, delimiter) as chunks:
        # The first chunk before the status line: a read that fails at once is an error page.
        first = await anext(chunks)
        response = web.StreamResponse(headers=_download_headers(filename, CSV))
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(first)
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
    return response
