"""Rows for `antt-bot export KIND` (SPEC.md 2): one dict per record, in a stable order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from handlers.codes import incident_code
from models.digest import FINAL_STEPS, STATUS_STEPS
from models.scoping import members_here, session_council
from models.tables import (
    Ack,
    CheckIn,
    Commendation,
    CouncilMember,
    Directive,
    Group,
    Incident,
    IncidentEvent,
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
    "incidents",
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
    # One row per incident (SVn), however many reports were merged into it.
    "incidents": (
        "id",
        "code",
        "category",
        "severity",
        "urgent",
        "status",
        "places",
        "first_reported_at",
        "last_reported_at",
        "reports",
        "reporters",
        "handler",
        "acknowledged_at",
        "resolved_at",
        "outcome",
        "escalation_level",
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
    "incidents": Incident.first_reported_at,
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
    "incidents": "Sự việc",  # the incidents page's menu label
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
    # The incidents' columns, as the digest's sheet "Sự việc" names them.
    "urgent": "Khẩn",
    "first_reported_at": "Báo lúc",
    "last_reported_at": "Báo lần cuối lúc",
    "reports": "Số báo cáo",
    "reporters": "Người báo",
    "handler": "Người xử lý",
    "acknowledged_at": "Nhận lúc",
    "resolved_at": "Xong lúc",
    "outcome": "Kết quả",
    "escalation_level": "Số lần chuyển cấp",
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
    if kind == "incidents":
        async for row in _incidents(session, since, until):
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


# --- incidents (SVn) -------------------------------------------------------------------------

# Incidents read per query, and the reports and steps of that many per IN list.
INCIDENT_CHUNK = 500
# The IncidentEvent kinds that set an incident's status ("reported": opened again).
STATUS_EVENTS = (*STATUS_STEPS, "reported")


async def _incidents(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> AsyncIterator[dict[str, Any]]:
    """Each incident once, oldest first, with its reports summed up and how it ended
    (SPEC.md 2: `incidents`). Read a chunk at a time: a year of a park is thousands."""
    handler = aliased(Member)
    base = _window(
        select(Incident, handler.name, handler.member_id)
        .outerjoin(handler, handler.id == Incident.handler_pk)
        .order_by(Incident.first_reported_at, Incident.id)
        .limit(INCIDENT_CHUNK),
        "incidents",
        since,
        until,
    )
    after: tuple[datetime, int] | None = None
    while True:
        stmt = base if after is None else base.where(_after(*after))
        found = list((await session.execute(stmt)).tuples())
        if not found:
            return
        ids = [i.id for i, _n, _m in found]
        reports = await _incident_reports(session, ids)
        closing = await _closing_notes(session, ids)
        for incident, name, member_id in found:
            yield _incident_row(incident, name or member_id, reports.get(incident.id), closing)
        last = found[-1][0]
        after = (last.first_reported_at, last.id)


def _after(at: datetime, pk: int) -> Any:
    """Past the last incident read, in the export's order (first reported, then id)."""
    return (Incident.first_reported_at > at) | (
        (Incident.first_reported_at == at) & (Incident.id > pk)
    )


class _Reports:
    """One incident's reports summed up: how many, who (once each), where (once each)."""

    def __init__(self) -> None:
        self.count = 0
        self.reporters: list[str] = []
        self.places: list[dict[str, Any]] = []

    def add(self, who: str, places: list[Any]) -> None:
        self.count += 1
        if who not in self.reporters:
            self.reporters.append(who)
        seen = {str(p.get("text", "")).casefold() for p in self.places}
        for place in places or []:
            item = place if isinstance(place, dict) else {"text": str(place)}
            text = str(item.get("text") or "")
            if text and text.casefold() not in seen:  # "xưởng 2" and "Xưởng 2" are one place
                seen.add(text.casefold())
                self.places.append(item)


async def _incident_reports(session: AsyncSession, ids: list[int]) -> dict[int, _Reports]:
    stmt = (
        select(Report.incident_pk, Report.places, Member.name, Member.member_id)
        .outerjoin(Member, Member.id == Report.member_pk)
        .where(Report.incident_pk.in_(ids))
        .order_by(Report.created_at, Report.id)
    )
    found: dict[int, _Reports] = {}
    for pk, places, name, member_id in await session.execute(stmt):
        found.setdefault(pk, _Reports()).add(name or member_id or "?", places)
    return found


async def _closing_notes(session: AsyncSession, ids: list[int]) -> dict[int, tuple[str, str]]:
    """Each incident's last status step and its note ("/xong SV1 <note>")."""
    stmt = (
        select(IncidentEvent.incident_pk, IncidentEvent.kind, IncidentEvent.note)
        .where(IncidentEvent.incident_pk.in_(ids), IncidentEvent.kind.in_(STATUS_EVENTS))
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    return {pk: (kind, note) for pk, kind, note in await session.execute(stmt)}


def _incident_row(
    i: Incident, handler: str | None, reports: _Reports | None, closing: dict[int, tuple[str, str]]
) -> dict[str, Any]:
    reports = reports or _Reports()
    kind, note = closing.get(i.id, ("", ""))
    # The note of the step that closed it; none while open (a reopened incident's old note).
    outcome = note.strip() or None if kind in FINAL_STEPS and kind == i.status else None
    return {
        "id": i.id,
        "code": incident_code(i.id),
        "category": i.category,
        "severity": i.severity,
        "urgent": i.urgent,
        "status": i.status,
        "places": reports.places,
        "first_reported_at": i.first_reported_at,
        "last_reported_at": i.last_reported_at,
        "reports": reports.count,
        "reporters": reports.reporters,
        "handler": handler,
        # Closing also stamps acknowledged_at; "taken at" only when someone took it.
        "acknowledged_at": i.acknowledged_at if i.handler_pk is not None else None,
        "resolved_at": i.resolved_at,
        "outcome": outcome,
        "escalation_level": max(0, i.escalation_level),  # -1: a first alert held, none sent
    }
