"""Rows for `antt-bot export KIND` (SPEC.md 2): one dict per record, in a stable order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.scoping import members_here, session_council
from models.tables import (
    Ack,
    CheckIn,
    Commendation,
    CouncilMember,
    Directive,
    Group,
    Member,
    MemberRequest,
    Membership,
    Message,
    Nudge,
    Outbox,
    Post,
    PostResponse,
    Report,
    Task,
)

# CSV separators by name (`--sep`, `?sep=`): commas by default (RFC 4180, what LibreOffice,
# Google Sheets and scripts expect); semicolons for Excel on a Windows set to Vietnam,
# whose decimal comma makes it split CSV at semicolons (docs/dashboard.md, Exports).
CSV_SEPARATORS = {"comma": ",", "semicolon": ";"}

KINDS = (
    "messages",
    "reports",
    "checkins",
    "acks",
    "members",
    "tasks",
    "nudges",
    "outbox",
    "requests",
    "posts",
    "commendations",
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "messages": (
        "id",
        "platform",
        "chat_id",
        "member_id",
        "message_id",
        "sent_at",
        "text",
        "type",
        "category",
        "kind",
        "media_url",
    ),
    "reports": (
        "id",
        "incident_id",
        "message_id",
        "chat_id",
        "member_id",
        "category",
        "severity",
        "status",
        "occurred_at",
        "places",
        "people",
        "phones",
        "text",
        "created_at",
    ),
    "checkins": ("id", "member_id", "name", "chat_id", "kind", "note", "at"),
    "acks": (
        "id",
        "directive_id",
        "directive_text",
        "member_id",
        "name",
        "chat_id",
        "at",
        "late",
    ),
    "members": (
        "member_id",
        "name",
        "phone",
        "enterprise",
        "role",
        "groups",
        "status",
        "last_active_at",
    ),
    "tasks": (
        "id",
        "assignee_id",
        "assignee",
        "text",
        "due_at",
        "status",
        "created_at",
        "accepted_at",
        "done_at",
        "note",
    ),
    "nudges": (
        "id",
        "member_id",
        "name",
        "week",
        "level",
        "channel",
        "chat_id",
        "planned_at",
        "reengaged_at",
        "sent",
    ),
    "outbox": (
        "id",
        "chat_id",
        "kind",
        "text",
        "status",
        "attempts",
        "idempotency_key",
        "created_at",
        "sent_at",
        "last_error",
    ),
    "requests": (
        "id",
        "code",
        "member_id",
        "name",
        "enterprise",
        "chat_id",
        "text",
        "status",
        "asked_at",
        "answered_at",
        "answer",
        "answered_by",
    ),
    "posts": (
        "id",
        "at",
        "groups",
        "text",
        "image_url",
        "ack",
        "question",
        "answers",
        "published_at",
        "closed_at",
        "reads",
        "answered",
        "correct",
    ),
    "commendations": (
        "id",
        "member_id",
        "name",
        "enterprise",
        "reason",
        "chat_id",
        "by_id",
        "by_name",
        "created_at",
    ),
}

# Which column bounds --since/--until for each kind.
TIME_COLUMN = {
    "messages": Message.sent_at,
    "reports": Report.created_at,
    "checkins": CheckIn.at,
    "acks": Ack.at,
    "members": Member.created_at,
    "tasks": Task.created_at,
    "nudges": Nudge.planned_at,
    "outbox": Outbox.created_at,
    "requests": MemberRequest.asked_at,
    "posts": Post.at,
    "commendations": Commendation.created_at,
}


def _window(
    stmt: Select[Any], kind: str, since: datetime | None, until: datetime | None
) -> Select[Any]:
    col = TIME_COLUMN[kind]
    if since is not None:
        stmt = stmt.where(col >= since)
    if until is not None:
        stmt = stmt.where(col < until)
    return stmt


# --- headers for people (CSV and XLSX; JSON lines keep the machine keys of SPEC.md 2) -----

LANGS = ("vi", "en")
# What each export is called for people: the dashboard's list and the XLSX sheet's name.
TITLE_VI = {
    "messages": "Tin nhắn",
    "reports": "Báo cáo sự việc",
    "checkins": "Điểm danh",
    "acks": "Xác nhận thông báo",
    "members": "Thành viên",
    "tasks": "Việc được giao",
    "nudges": "Lời nhắc",
    "outbox": "Tin bot đã gửi",
    "requests": "Yêu cầu của thành viên",
    "posts": "Bài tuyên truyền",
    "commendations": "Khen thưởng",
}
HEADER_VI = {
    "id": "Số",
    "platform": "Nền tảng",
    "chat_id": "Mã nhóm/chat",
    "member_id": "Mã thành viên",
    "message_id": "Mã tin nhắn",
    "sent_at": "Gửi lúc",
    "text": "Nội dung",
    "type": "Loại tin",
    "category": "Loại sự việc",
    "kind": "Loại",
    "media_url": "Đường dẫn ảnh",
    "incident_id": "Mã sự việc",
    "severity": "Mức độ",
    "status": "Trạng thái",
    "occurred_at": "Xảy ra lúc",
    "places": "Nơi",
    "people": "Số người",
    "phones": "Số điện thoại",
    "created_at": "Tạo lúc",
    "name": "Họ tên",
    "note": "Ghi chú",
    "at": "Lúc",
    "directive_id": "Mã thông báo",
    "directive_text": "Nội dung thông báo",
    "late": "Sau hạn",
    "phone": "Số điện thoại",
    "enterprise": "Doanh nghiệp",
    "role": "Vai trò",
    "groups": "Nhóm",
    "last_active_at": "Hoạt động lần cuối",
    "assignee_id": "Mã người nhận việc",
    "assignee": "Người nhận việc",
    "due_at": "Hạn",
    "accepted_at": "Nhận việc lúc",
    "done_at": "Xong lúc",
    "week": "Tuần",
    "level": "Mức nhắc",
    "channel": "Kênh",
    "planned_at": "Dự kiến gửi",
    "reengaged_at": "Quay lại lúc",
    "sent": "Đã gửi",
    "attempts": "Số lần gửi",
    "idempotency_key": "Khóa chống trùng",
    "last_error": "Lỗi gần nhất",
    "code": "Mã",
    "asked_at": "Hỏi lúc",
    "answered_at": "Trả lời lúc",
    "answer": "Câu trả lời",
    "answered_by": "Người trả lời",
    "image_url": "Ảnh/đường dẫn",
    "ack": "Yêu cầu “đã đọc”",
    "question": "Câu hỏi",
    "published_at": "Đăng lúc",
    "closed_at": "Công bố đáp án lúc",
    "reads": "Số người đã đọc",
    "answered": "Số người trả lời",
    "correct": "Số trả lời đúng",
    "reason": "Lý do",
    "by_id": "Mã người khen",
    "by_name": "Người khen",
}
# Where one key means something more precise in one export.
HEADER_VI_OF: dict[tuple[str, str], str] = {
    ("messages", "kind"): "Dạng tin",
    ("checkins", "kind"): "Loại điểm danh",
    ("outbox", "kind"): "Loại tin",
    ("outbox", "chat_id"): "Gửi tới",
    ("acks", "at"): "Xác nhận lúc",
    ("checkins", "at"): "Điểm danh lúc",
    ("members", "status"): "Tư cách",
    ("tasks", "text"): "Việc",
    ("tasks", "created_at"): "Giao lúc",
    ("posts", "at"): "Lịch đăng",
    ("posts", "answers"): "Đáp án chấp nhận",
    ("commendations", "chat_id"): "Khen trong nhóm/chat",
    ("commendations", "created_at"): "Khen lúc",
}


def headers(kind: str, lang: str = "vi") -> list[str]:
    """The header row people see: Vietnamese by default, plain English with lang='en'."""
    if lang == "en":
        return [c.replace("_", " ").capitalize() for c in COLUMNS[kind]]
    return [HEADER_VI_OF.get((kind, c)) or HEADER_VI.get(c, c) for c in COLUMNS[kind]]


async def rows(
    session: AsyncSession, kind: str, since: datetime | None = None, until: datetime | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Stream the export's rows; large tables are read in chunks, not loaded whole."""
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "members":
        async for row in _members(session, since, until):
            yield row
        return
    if kind == "requests":
        async for row in _requests(session, since, until):
            yield row
        return
    if kind == "posts":
        async for row in _posts(session, since, until):
            yield row
        return
    if kind == "commendations":
        async for row in _commendations(session, since, until):
            yield row
        return
    stmt = _window(_QUERIES[kind](), kind, since, until)
    council = session_council(session)
    if kind == "outbox" and council is not None:  # the outbox is shared: filter it here
        stmt = stmt.where(Outbox.council_id == council)
    result = await session.stream(stmt.execution_options(yield_per=1000))
    async for rec in result.mappings():
        yield dict(rec)


def _messages() -> Select[Any]:
    return select(
        Message.id,
        Message.platform,
        Message.chat_id,
        Message.member_id,
        Message.message_id,
        Message.sent_at,
        Message.text,
        Message.type,
        Message.category,
        Message.kind,
        Message.media_url,
    ).order_by(Message.id)


def _reports() -> Select[Any]:
    return (
        select(
            Report.id,
            Report.incident_pk.label("incident_id"),
            Message.message_id,
            Report.chat_id,
            Member.member_id,
            Report.category,
            Report.severity,
            Report.status,
            Report.occurred_at,
            Report.places,
            Report.people,
            Report.phones,
            Report.text,
            Report.created_at,
        )
        .outerjoin(Message, Message.id == Report.message_pk)
        .outerjoin(Member, Member.id == Report.member_pk)
        .order_by(Report.id)
    )


def _checkins() -> Select[Any]:
    return (
        select(
            CheckIn.id,
            Member.member_id,
            Member.name,
            CheckIn.chat_id,
            CheckIn.kind,
            CheckIn.note,
            CheckIn.at,
        )
        .join(Member, Member.id == CheckIn.member_pk)
        .order_by(CheckIn.id)
    )


def _acks() -> Select[Any]:
    return (
        select(
            Ack.id,
            Ack.directive_pk.label("directive_id"),
            Directive.text.label("directive_text"),
            Member.member_id,
            Member.name,
            Ack.chat_id,
            Ack.at,
            # After the deadline (the directive closed): recorded all the same (issue 15).
            (Ack.at > Directive.deadline_at).label("late"),
        )
        .join(Member, Member.id == Ack.member_pk)
        .join(Directive, Directive.id == Ack.directive_pk)
        .order_by(Ack.id)
    )


def _tasks() -> Select[Any]:
    return (
        select(
            Task.id,
            Member.member_id.label("assignee_id"),
            Member.name.label("assignee"),
            Task.text,
            Task.due_at,
            Task.status,
            Task.created_at,
            Task.accepted_at,
            Task.done_at,
            Task.note,
        )
        .join(Member, Member.id == Task.assignee_pk)
        .order_by(Task.id)
    )


def _nudges() -> Select[Any]:
    return (
        select(
            Nudge.id,
            Member.member_id,
            Member.name,
            Nudge.week,
            Nudge.level,
            Nudge.channel,
            Nudge.chat_id,
            Nudge.planned_at,
            Nudge.reengaged_at,
            (Outbox.status == "sent").label("sent"),
        )
        .join(Member, Member.id == Nudge.member_pk)
        .outerjoin(Outbox, Outbox.id == Nudge.outbox_pk)
        .order_by(Nudge.id)
    )


def _outbox() -> Select[Any]:
    return select(
        Outbox.id,
        Outbox.chat_id,
        Outbox.kind,
        Outbox.text,
        Outbox.status,
        Outbox.attempts,
        Outbox.idempotency_key,
        Outbox.created_at,
        Outbox.sent_at,
        Outbox.last_error,
    ).order_by(Outbox.id)


_QUERIES = {
    "messages": _messages,
    "reports": _reports,
    "checkins": _checkins,
    "acks": _acks,
    "tasks": _tasks,
    "nudges": _nudges,
    "outbox": _outbox,
}


async def _members(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> AsyncIterator[dict[str, Any]]:
    g = aliased(Group)
    council = session_council(session)
    stmt = _window(
        select(Member).where(Member.active.is_(True), *members_here(session)).order_by(Member.id),
        "members",
        since,
        until,
    )
    members = list((await session.execute(stmt)).scalars())
    groups: dict[int, list[str]] = {}
    roles: dict[int, str] = {}
    if council is not None:  # one park: its groups and the role its roster gives
        found = select(CouncilMember.member_pk, CouncilMember.role)
        for pk, role in await session.execute(found.where(CouncilMember.council_id == council)):
            roles[pk] = role
    pairs = await session.execute(
        select(Membership.member_pk, g.chat_id)
        .join(g, g.id == Membership.group_pk)
        .where(g.kind != "private", *([g.council_id == council] if council else []))
        .order_by(g.chat_id)
    )
    for member_pk, chat_id in pairs:
        groups.setdefault(member_pk, []).append(chat_id)
    for m in members:
        yield {
            "member_id": m.member_id,
            "name": m.name,
            "phone": m.phone,
            "enterprise": m.enterprise,
            "role": roles.get(m.id, m.role),
            "groups": groups.get(m.id, []),
            "status": m.status,
            "last_active_at": m.last_active_at,
        }


async def _requests(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> AsyncIterator[dict[str, Any]]:
    """Members' requests with who asked and who answered (SPEC.md 2: `requests`)."""
    asker, answerer = aliased(Member), aliased(Member)
    stmt = _window(
        select(
            MemberRequest,
            asker.member_id,
            asker.name,
            asker.enterprise,
            answerer.member_id.label("answered_by"),
        )
        .outerjoin(asker, asker.id == MemberRequest.member_pk)
        .outerjoin(answerer, answerer.id == MemberRequest.answered_by)
        .order_by(MemberRequest.id),
        "requests",
        since,
        until,
    )
    result = await session.stream(stmt.execution_options(yield_per=1000))
    async for req, member_id, name, enterprise, answered_by in result:
        yield {
            "id": req.id,
            "code": f"YC{req.id}",
            "member_id": member_id,
            "name": name,
            "enterprise": enterprise,
            "chat_id": req.chat_id,
            "text": req.text,
            "status": req.status,
            "asked_at": req.asked_at,
            "answered_at": req.answered_at,
            "answer": req.answer,
            "answered_by": answered_by,
        }


async def _posts(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> AsyncIterator[dict[str, Any]]:
    """The propaganda calendar with each post's reads, answers and right answers."""
    counts = (
        select(
            PostResponse.post_pk,
            func.sum(case((PostResponse.kind == "read", 1), else_=0)).label("reads"),
            func.sum(case((PostResponse.kind == "answer", 1), else_=0)).label("answered"),
            func.sum(
                case(((PostResponse.kind == "answer") & PostResponse.correct.is_(True), 1), else_=0)
            ).label("correct"),
        )
        .group_by(PostResponse.post_pk)
        .subquery()
    )
    stmt = _window(
        select(Post, counts.c.reads, counts.c.answered, counts.c.correct)
        .outerjoin(counts, counts.c.post_pk == Post.id)
        .order_by(Post.at, Post.id),
        "posts",
        since,
        until,
    )
    for post, reads, answered, correct in (await session.execute(stmt)).all():
        yield {
            "id": post.id,
            "at": post.at,
            "groups": list(post.groups),
            "text": post.text,
            "image_url": post.image_url,
            "ack": post.ack,
            "question": post.question,
            "answers": list(post.answers),
            "published_at": post.published_at,
            "closed_at": post.closed_at,
            "reads": int(reads or 0),
            "answered": int(answered or 0),
            "correct": int(correct or 0),
        }


# --- commendations (/khen) -------------------------------------------------------------------


async def _commendations(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> AsyncIterator[dict[str, Any]]:
    """Each /khen with who was honoured, why, where and by whom (SPEC.md 2: `commendations`)."""
    honoured, giver = aliased(Member), aliased(Member)
    stmt = _window(
        select(
            Commendation.id,
            honoured.member_id,
            honoured.name,
            honoured.enterprise,
            Commendation.reason,
            Commendation.chat_id,
            giver.member_id.label("by_id"),
            giver.name.label("by_name"),
            Commendation.created_at,
        )
        .join(honoured, honoured.id == Commendation.member_pk)
        .outerjoin(giver, giver.id == Commendation.by_pk)
        .order_by(Commendation.created_at, Commendation.id),
        "commendations",
        since,
        until,
    )
    result = await session.stream(stmt.execution_options(yield_per=1000))
    async for rec in result.mappings():
        yield dict(rec)
