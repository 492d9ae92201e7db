"""The dashboard's propaganda calendar: list, add, edit and cancel scheduled posts.

Every field goes through `models.posts.post_values`, the validator `posts import` uses."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot import keys
from bot.dashboard.address import BadAddress
from bot.dashboard.auth import User, council_of_request, login_required, sessions_of
from bot.dashboard.views import now_of, page, path_pk, read_form, see_other
from handlers.councils import council_by_id
from handlers.jobs.posts import LATE_LIMIT
from models import posts as calendar
from models.db import read_session
from models.tables import Post

# What each field is called on the form, so an error names the box to fix.
FIELD_VI = {
    "at": "Ngày giờ đăng",
    "groups": "Nhóm nhận",
    "text": "Nội dung",
    "image_url": "Ảnh/đường dẫn",
    "ack": "Yêu cầu “đã đọc”",
    "question": "Câu hỏi",
    "answers": "Đáp án chấp nhận",
}
DONE = {
    "added": "Đã thêm bài vào lịch.",
    "saved": "Đã lưu thay đổi.",
    "cancelled": "Đã huỷ bài.",
}


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/dashboard/posts", posts_page)
    r.add_get("/dashboard/posts/new", new_form)
    r.add_post("/dashboard/posts/new", create)
    r.add_get(r"/dashboard/posts/{pk:\d+}", edit_form)
    r.add_post(r"/dashboard/posts/{pk:\d+}", update)
    r.add_post(r"/dashboard/posts/{pk:\d+}/cancel", cancel)


def _groups(request: web.Request) -> list[tuple[str, str]]:
    """The configured groups a post can target: (chat id, name)."""
    return [(g.chat_id, g.name) for g in request.app[keys.SETTINGS].groups]


def _fields_of(post: Post | None, request: web.Request) -> dict[str, Any]:
    """The form's boxes filled from a post (or empty for a new one)."""
    if post is None:
        blank = dict.fromkeys(("date", "text", "image_url", "question", "answers"), "")
        return {**blank, "time": "09:00", "groups": [], "ack": False}
    local = post.at.astimezone(request.app[keys.SETTINGS].tz)
    return {
        "date": local.strftime("%Y-%m-%d"),
        "time": local.strftime("%H:%M"),
        "groups": list(post.groups),
        "text": post.text,
        "image_url": post.image_url or "",
        "ack": post.ack,
        "question": post.question or "",
        "answers": "; ".join(post.answers),
    }


async def _submitted(request: web.Request) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as typed (to show again) and as the validator's row."""
    form = await read_form(request)
    shown: dict[str, Any] = {
        k: str(form.get(k, "")).strip()
        for k in ("date", "time", "text", "image_url", "question", "answers")
    }
    shown["text"] = shown["text"].replace("\r\n", "\n")  # browsers send CRLF from a textarea
    shown["groups"] = [str(g) for g in form.getall("groups", [])]
    shown["ack"] = form.get("ack", "") == "x"
    row = {
        "at": f"{shown['date']} {shown['time']}",
        "groups": ";".join(shown["groups"]),
        "text": shown["text"],
        "image_url": shown["image_url"],
        "ack": "x" if shown["ack"] else "",
        "question": shown["question"],
        "answers": shown["answers"],
    }
    return shown, row


def _form(
    request: web.Request,
    user: User,
    post: Post | None,
    fields: dict[str, Any],
    error: str = "",
    status: int = 200,
) -> web.Response:
    return page(
        request,
        "post_form.html",
        user,
        status=status,
        post=post,
        f=fields,
        groups=_groups(request),
        error=error,
        nav="posts",
    )


def _error_text(exc: calendar.PostFieldError) -> str:
    return f"{FIELD_VI.get(exc.field, exc.field)}: {exc.message}."


async def _post(session: Any, request: web.Request) -> Post:
    post = await session.get(Post, path_pk(request))
    if post is None:
        raise BadAddress("Không có bài đăng này.", 404)
    return post


@login_required()
async def posts_page(request: web.Request, user: User) -> web.Response:
    async with read_session(sessions_of(request)) as session:
        rows = await calendar.all_posts(session)
    names = dict(_groups(request))
    return page(
        request,
        "posts.html",
        user,
        rows=rows,
        names=names,
        done=DONE.get(request.query.get("done", ""), ""),
        nav="posts",
    )


@login_required()
async def new_form(request: web.Request, user: User) -> web.Response:
    return _form(request, user, None, _fields_of(None, request))


async def _save(request: web.Request, user: User, pk: int | None) -> web.Response:
    """Validate with the import's rules, then create or change; errors keep what was typed."""
    shown, row = await _submitted(request)
    settings = request.app[keys.SETTINGS]
    council = council_of_request(request)  # several parks: its own groups only
    groups = council_by_id(settings, council).groups if council else settings.groups
    known = {g.chat_id for g in groups}
    async with sessions_of(request)() as session, session.begin():
        post = await _post(session, request) if pk is not None else None
        try:
            values = calendar.post_values(row, settings.tz, known)
            if values["at"] < now_of(request) - LATE_LIMIT:  # the job would skip it for ever
                late = f"đã qua hơn {LATE_LIMIT.days} ngày, bot sẽ không đăng bài này nữa"
                raise calendar.PostFieldError("at", late)
            await calendar.save_post(
                session, values, actor=user.actor, now=now_of(request), post=post
            )
        except calendar.PostFieldError as exc:
            return _form(request, user, post, shown, _error_text(exc), status=400)
    return see_other(f"/dashboard/posts?done={'saved' if pk else 'added'}")


@login_required()
async def create(request: web.Request, user: User) -> web.Response:
    return await _save(request, user, None)


@login_required()
async def edit_form(request: web.Request, user: User) -> web.Response:
    async with read_session(sessions_of(request)) as session:
        post = await _post(session, request)
    return _form(request, user, post, _fields_of(post, request))


@login_required()
async def update(request: web.Request, user: User) -> web.Response:
    return await _save(request, user, path_pk(request))


@login_required()
async def cancel(request: web.Request, user: User) -> web.Response:
    async with sessions_of(request)() as session, session.begin():
        post = await _post(session, request)
        try:
            await calendar.cancel_post(session, post, actor=user.actor, now=now_of(request))
        except calendar.PostFieldError as exc:
            return _form(
                request, user, post, _fields_of(post, request), _error_text(exc), status=409
            )
    return see_other("/dashboard/posts?done=cancelled")
