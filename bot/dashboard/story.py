"""The dashboard's story pages: incidents (list and timeline), tasks, one directive's acks."""

from __future__ import annotations

from aiohttp import web

from bot import keys
from bot.dashboard.address import bad_parameter
from bot.dashboard.auth import User, login_required, sessions_of
from bot.dashboard.views import error_page, now_of, page, path_pk
from handlers import labels
from models import story
from models.db import read_session

LIMIT = 200


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/dashboard/incidents", incidents_page)
    r.add_get(r"/dashboard/incidents/{pk:\d+}", incident_page)
    r.add_get("/dashboard/tasks", tasks_page)
    r.add_get(r"/dashboard/directives/{pk:\d+}", directive_page)


def _status(request: web.Request, known: dict[str, str]) -> str:
    """The status filter: empty, or one of the known statuses (anything else is a 400)."""
    value = request.query.get("status", "")
    if value and value not in known:
        raise bad_parameter("status", value, "hãy chọn trong ô Trạng thái của trang")
    return value


@login_required()
async def incidents_page(request: web.Request, user: User) -> web.Response:
    status = _status(request, labels.INCIDENT_STATUS)
    async with read_session(sessions_of(request)) as session:
        rows = await story.incidents(session, status=status, limit=LIMIT)
    return page(
        request,
        "incidents.html",
        user,
        rows=rows,
        chosen=status,
        statuses=labels.INCIDENT_STATUS,
        limit=LIMIT,
        nav="incidents",
    )


@login_required()
async def incident_page(request: web.Request, user: User) -> web.Response:
    async with read_session(sessions_of(request)) as session:
        try:
            inc, steps = await story.incident(session, path_pk(request))
        except LookupError:
            return error_page(request, 404, "Không có sự việc", "Không tìm thấy sự việc này.", user)
    return page(request, "incident.html", user, i=inc, steps=steps, nav="incidents")


@login_required()
async def tasks_page(request: web.Request, user: User) -> web.Response:
    status = _status(request, labels.TASK_STATUS)
    async with read_session(sessions_of(request)) as session:
        rows = await story.tasks(session, status=status)
    return page(
        request,
        "tasks.html",
        user,
        rows=rows,
        now=now_of(request),
        extras=story.TASK_EXTRAS,
        chosen=status,
        statuses=labels.TASK_STATUS,
        nav="tasks",
    )


@login_required()
async def directive_page(request: web.Request, user: User) -> web.Response:
    async with read_session(sessions_of(request)) as session:
        try:
            d = await story.directive(session, path_pk(request), request.app[keys.SETTINGS].tz)
        except LookupError:
            return error_page(
                request, 404, "Không có thông báo", "Không tìm thấy thông báo này.", user
            )
    return page(request, "directive.html", user, d=d, nav="directives")
