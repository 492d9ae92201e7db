"""The dashboard's honour board: a month's commendations with the work behind them."""

from __future__ import annotations

from aiohttp import web

from bot import keys
from bot.dashboard.address import bad_parameter
from bot.dashboard.auth import User, login_required, sessions_of
from bot.dashboard.views import now_of, page
from handlers.honour_board import parse_month, previous_month
from models import honour


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard/honour", honour_page)


@login_required()
async def honour_page(request: web.Request, user: User) -> web.Response:
    """?month=2026-12 (default: this month); a malformed month is a 400 that says why."""
    tz = request.app[keys.SETTINGS].tz
    today = now_of(request).astimezone(tz).date()
    raw = request.query.get("month", "")
    try:
        month = parse_month(raw) if raw else today.replace(day=1)
    except ValueError:
        raise bad_parameter("month", raw, "tháng viết theo dạng 2026-12") from None
    start, end = honour.month_span(month, tz)
    async with sessions_of(request)() as session:
        rows = await honour.commendations(session, start, end, tz)  # the session's park's
    before = previous_month(month)
    return page(
        request,
        "honour.html",
        user,
        rows=rows,
        month=month,
        before=f"{before:%Y-%m}",
        nav="honour",
    )
