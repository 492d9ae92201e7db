"""The province's pages: every park's week side by side, and each park's digest.

Only the province's staff (`province.coordinators`, role `province`) open them; a park's
coordinator gets 403 here, whatever park (docs/councils.md, docs/scaling.md)."""

from __future__ import annotations

import asyncio
import base64

from aiohttp import web

from bot import keys
from bot.dashboard.address import BadAddress
from bot.dashboard.auth import PROVINCE, User, login_required
from bot.dashboard.render import render, stylesheet
from bot.dashboard.views import (
    WEEK,
    XLSX,
    _attachment,
    _audit_download,
    _shown_week,
    _week_param,
    chart_layout,
    error_page,
    now_of,
    page,
)
from bot.export import digest_xlsx
from bot.province_export import province_xlsx
from handlers.councils import UnknownCouncil, council_by_id
from handlers.digest import Digest, build_digest, shift_week, week_of
from handlers.digest_chart import render_png
from handlers.province import ProvinceDigest, build_province_digest, rate, took
from handlers.province_chart import render_province_png
from models.db import read_session

COUNCIL = r"{council:[a-z0-9_-]{1,32}}"
FORBIDDEN = "Trang này dành cho Ban Quản lý các KCN tỉnh."


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/dashboard/province", province_page)
    r.add_get(f"/dashboard/province/{WEEK}.xlsx", province_download)
    r.add_get(f"/dashboard/province/chart/{WEEK}.png", province_chart)
    r.add_get(f"/dashboard/province/{COUNCIL}/digest/{WEEK}", park_digest_page)
    r.add_get(f"/dashboard/province/{COUNCIL}/digest/{WEEK}.xlsx", park_digest_download)
    r.add_get(f"/dashboard/province/{COUNCIL}/chart/{WEEK}.png", park_chart)


def minutes(value: float | None) -> str:
    """A median in minutes as people say it; a dash when nothing was measured."""
    return "–" if value is None else took(value)


def _refused(request: web.Request, user: User) -> web.Response | None:
    if user.role == PROVINCE:
        return None
    return error_page(request, 403, "Không đủ quyền", FORBIDDEN, user)


async def _overview(request: web.Request, week: str) -> ProvinceDigest:
    _shown_week(week)
    async with read_session(request.app[keys.SESSIONS]) as session:
        return await build_province_digest(
            session, request.app[keys.SETTINGS], week, now_of(request)
        )


async def _park(request: web.Request) -> Digest:
    """The park's digest for the province's staff: that council's records only."""
    settings = request.app[keys.SETTINGS]
    week = _shown_week(request.match_info["week"])
    try:
        council = council_by_id(settings, request.match_info["council"]).id
    except UnknownCouncil:
        raise BadAddress(f"Không có KCN “{request.match_info['council']}”.", 404) from None
    async with read_session(request.app[keys.SESSIONS]) as session:
        return await build_digest(
            session,
            settings,
            week,
            now_of(request),
            council_id=council if settings.councils else None,
        )


@login_required(every_park=True)
async def province_page(request: web.Request, user: User) -> web.Response:
    if (refused := _refused(request, user)) is not None:
        return refused
    current = week_of(now_of(request), request.app[keys.SETTINGS].tz)
    week = _week_param(request, shift_week(current, -1))
    p = await _overview(request, week)
    nxt = shift_week(week, 1)
    return page(
        request,
        "province.html",
        user,
        p=p,
        nav="province",
        rate=rate,
        minutes=minutes,
        text=p.render_text(with_link=False),
        prev_week=shift_week(week, -1),
        next_week=nxt if nxt <= current else None,
        chart_url=f"/dashboard/province/chart/{week}.png",
    )


@login_required(every_park=True)
async def province_chart(request: web.Request, user: User) -> web.Response:
    if (refused := _refused(request, user)) is not None:
        return refused
    layout = chart_layout(request)
    p = await _overview(request, request.match_info["week"])
    return _png(await asyncio.to_thread(render_province_png, p, layout=layout))


@login_required(every_park=True)
async def province_download(request: web.Request, user: User) -> web.Response:
    if (refused := _refused(request, user)) is not None:
        return refused
    p = await _overview(request, request.match_info["week"])
    await _audit_download(request, user, "province_digest", {"week": p.week})
    data = await asyncio.to_thread(province_xlsx, p)
    return _attachment(data, f"antt-toan-tinh-{p.week}.xlsx", XLSX)


@login_required(every_park=True)
async def park_digest_page(request: web.Request, user: User) -> web.Response:
    if (refused := _refused(request, user)) is not None:
        return refused
    d = await _park(request)
    base = f"/dashboard/province/{request.match_info['council']}"
    return page(
        request,
        "digest.html",
        user,
        d=d,
        nav="province",
        text=d.render_text(),
        chart_url=f"{base}/chart/{d.week}.png",
        xlsx_url=f"{base}/digest/{d.week}.xlsx",
        weeks_url=f"/dashboard/province?week={d.week}",
        weeks_label="Toàn tỉnh",
    )


@login_required(every_park=True)
async def park_digest_download(request: web.Request, user: User) -> web.Response:
    if (refused := _refused(request, user)) is not None:
        return refused
    d = await _park(request)
    council = request.match_info["council"]
    await _audit_download(request, user, "digest", {"week": d.week, "council": council})
    data = await asyncio.to_thread(digest_xlsx, d)  # openpyxl is CPU work: off the loop
    return _attachment(data, f"antt-tong-ket-{council}-{d.week}.xlsx", XLSX)


@login_required(every_park=True)
async def park_chart(request: web.Request, user: User) -> web.Response:
    if (refused := _refused(request, user)) is not None:
        return refused
    layout = chart_layout(request)
    d = await _park(request)
    return _png(await asyncio.to_thread(render_png, d, layout=layout))


def _png(data: bytes) -> web.Response:
    return web.Response(
        body=data,
        content_type="image/png",
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def province_html(digest: ProvinceDigest, png: bytes | None) -> str:
    """A standalone page (CSS and chart inline) for `antt-bot digest --province --format html`."""
    chart = f"data:image/png;base64,{base64.b64encode(png).decode()}" if png else None
    return render(
        "province.html",
        digest.tz,
        p=digest,
        chart_url=chart,
        standalone=True,
        css=stylesheet(),
        user=None,
        csrf="",
        nav="province",
        rate=rate,
        minutes=minutes,
        text=digest.render_text(),
        prev_week="",
        next_week=None,
    )
