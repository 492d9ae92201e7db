"""The admin's "Xoá dữ liệu cá nhân" on a member's page: what `antt-bot members forget ID`
does (models.privacy.forget_member), after the admin types the member's name or id."""

from __future__ import annotations

from aiohttp import web

from bot import keys
from bot.dashboard.address import BadAddress
from bot.dashboard.auth import User, login_required, sessions_of
from bot.dashboard.views import NO_MEMBER, page, park_member, path_pk, read_form, see_other
from models import privacy
from models.db import read_session
from models.tables import Member


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/dashboard/members/{pk:\d+}/forget", confirm_page)
    app.router.add_post(r"/dashboard/members/{pk:\d+}/forget", forget)


def _confirm(
    request: web.Request, user: User, member: Member, error: str = "", status: int = 200
) -> web.Response:
    return page(
        request,
        "member_forget.html",
        user,
        status=status,
        m=member,
        error=error,
        forgotten=member.name.startswith(privacy.FORGOTTEN_NAME),
        nav="members",
    )


@login_required(role="admin")
async def confirm_page(request: web.Request, user: User) -> web.Response:
    async with read_session(sessions_of(request)) as session:
        member = await park_member(session, path_pk(request))
    if member is None:
        raise BadAddress(NO_MEMBER, 404)
    return _confirm(request, user, member)


@login_required(role="admin")
async def forget(request: web.Request, user: User) -> web.Response:
    """Erase only when the typed confirmation names this member; audit-logged with the admin."""
    form = await read_form(request)
    typed = str(form.get("confirm", ""))[:300]
    async with sessions_of(request)() as session, session.begin():
        member = await park_member(session, path_pk(request))
        if member is None:
            raise BadAddress(NO_MEMBER, 404)
        if not privacy.confirms(member, typed):
            error = "Tên hoặc mã gõ vào không khớp với thành viên này; chưa xoá gì."
            return _confirm(request, user, member, error, status=400)
        await privacy.forget_member(session, member, user.actor, request.app[keys.CLOCK].now())
    return see_other(f"/dashboard/members?forgotten={member.id}")
