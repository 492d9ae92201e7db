"""The propaganda calendar: CSV import, queries, reads and quiz answers (callers commit)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.text import fold_key
from models.scoping import session_council
from models.tables import AuditLog, Member, Post, PostResponse

COLUMNS = ("at", "groups", "text", "image_url", "ack", "question", "answers")
REQUIRED = ("at", "text")
MAX_TEXT = 4000
MAX_LINK = 1000  # the column's width
_WORDS_RE = re.compile(r"[^0-9a-z]+")
# Control characters a post can never carry (PostgreSQL refuses NUL); tabs and new lines are
# part of a post's text.
_UNSAFE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


@dataclass
class PostImport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def answer_key(text: str) -> str:
    """Accent-, case- and punctuation-insensitive words: 'Một trăm mười bốn!' -> 'mot tram ...'."""
    return " ".join(_WORDS_RE.sub(" ", fold_key(text)).split())


def is_right(reply: str, accepted: list[str]) -> bool:
    """The reply is, or contains as whole words, one of the accepted answers."""
    said = f" {answer_key(reply)} "
    return any(key and f" {key} " in said for key in map(answer_key, accepted))


class PostFieldError(ValueError):
    """A post's field the calendar refuses: which column, and why (in Vietnamese)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def in_this_park(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    """Slots are unique across parks: with several, a park's slot starts with its council id
    (the same hour in two parks is two posts)."""
    if (council := session_council(session)) is not None:
        values["slot"] = f"{council}|{values['slot']}"
    return values


def post_values(row: dict[str, str], tz: ZoneInfo, known_groups: set[str]) -> dict[str, Any]:
    """One post (a CSV row or the dashboard's form) as Post fields; the one validator both use.
    PostFieldError names the bad column."""
    for column in COLUMNS:
        if _UNSAFE_RE.search(row.get(column) or ""):
            raise PostFieldError(column, "có ký tự điều khiển không hợp lệ, vui lòng nhập lại")
    raw_at = (row.get("at") or "").strip()
    try:
        at = datetime.strptime(raw_at, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    except ValueError:
        raise PostFieldError("at", f"{raw_at!r} không đúng dạng YYYY-MM-DD HH:MM") from None
    text = (row.get("text") or "").strip()
    if not text:
        raise PostFieldError("text", "chưa có nội dung bài đăng")
    if len(text) > MAX_TEXT:
        raise PostFieldError("text", f"dài quá {MAX_TEXT} ký tự")
    image = (row.get("image_url") or "").strip() or None
    if image is not None and not image.startswith(("https://", "http://")):
        raise PostFieldError("image_url", f"{image!r} không phải đường dẫn http(s)")
    if image is not None and len(image) > MAX_LINK:
        raise PostFieldError("image_url", f"dài quá {MAX_LINK} ký tự")
    ack_raw = (row.get("ack") or "").strip().lower()
    if ack_raw not in ("", "x"):
        raise PostFieldError("ack", f"{ack_raw!r}: ghi x hoặc để trống")
    question = (row.get("question") or "").strip() or None
    answers = [a.strip() for a in (row.get("answers") or "").split(";") if a.strip()]
    if question and not answers:
        raise PostFieldError("answers", "câu hỏi cần ít nhất một đáp án được chấp nhận")
    if answers and not question:
        raise PostFieldError("question", "có đáp án nhưng chưa có câu hỏi")
    groups = sorted({g.strip() for g in (row.get("groups") or "").split(";") if g.strip()})
    bad = [g for g in groups if g not in known_groups]
    if bad:
        raise PostFieldError("groups", f"{', '.join(bad)} không có trong các nhóm đã cấu hình")
    return {
        "slot": f"{raw_at}|{';'.join(groups)}",
        "at": at,
        "groups": groups,
        "text": text,
        "image_url": image,
        "ack": ack_raw == "x",
        "question": question,
        "answers": answers,
    }


async def import_posts_csv(
    session: AsyncSession, text: str, tz: ZoneInfo, known_groups: set[str], now: datetime
) -> PostImport:
    """Create or update posts keyed by (at, groups); published posts are left as they are."""
    result = PostImport()
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        result.errors.append(f"header: missing {', '.join(missing)}")
        return result
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        result.errors.append(f"header: unknown column(s) {', '.join(unknown)} ignored")
    for row in reader:
        line = reader.line_num
        row = {(k or "").strip(): (v or "") for k, v in row.items() if isinstance(v, str)}
        try:
            values = in_this_park(session, post_values(row, tz, known_groups))
        except PostFieldError as exc:
            result.rejected += 1
            result.errors.append(f"line {line}: {exc}")
            continue
        post = (
            await session.execute(select(Post).where(Post.slot == values["slot"]))
        ).scalar_one_or_none()
        if post is None:
            session.add(Post(**values, created_at=now, updated_at=now))
            await session.flush()
            result.created += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(post, k) != v}
        if not changed:
            result.unchanged += 1
        elif post.published_at is not None:
            result.rejected += 1
            result.errors.append(f"line {line}: already published, not changed")
        else:
            for k, v in changed.items():
                setattr(post, k, v)
            post.updated_at = now
            result.updated += 1
    return result


async def all_posts(session: AsyncSession, since: datetime | None = None) -> list[Post]:
    stmt = select(Post).order_by(Post.at, Post.id)
    if since is not None:
        stmt = stmt.where(Post.at >= since)
    return list((await session.execute(stmt)).scalars())


async def due_posts(session: AsyncSession, now: datetime, not_before: datetime) -> list[Post]:
    """Unpublished posts whose time has come (and is not older than `not_before`)."""
    stmt = (
        select(Post)
        .where(Post.published_at.is_(None), Post.at <= now, Post.at >= not_before)
        .order_by(Post.at, Post.id)
    )
    return list((await session.execute(stmt)).scalars())


async def open_quizzes(session: AsyncSession) -> list[Post]:
    stmt = (
        select(Post)
        .where(Post.published_at.is_not(None), Post.question.is_not(None), Post.closed_at.is_(None))
        .order_by(Post.published_at, Post.id)
    )
    return list((await session.execute(stmt)).scalars())


async def response_of(
    session: AsyncSession, post_pk: int, member_pk: int, kind: str
) -> PostResponse | None:
    stmt = select(PostResponse).where(
        PostResponse.post_pk == post_pk,
        PostResponse.member_pk == member_pk,
        PostResponse.kind == kind,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def week_posts(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[Post, list[tuple[PostResponse, Member]]]]:
    """Posts published in [start, end) with every response and who gave it."""
    posts = list(
        (
            await session.execute(
                select(Post)
                .where(Post.published_at >= start, Post.published_at < end)
                .order_by(Post.published_at, Post.id)
            )
        ).scalars()
    )
    out = []
    for post in posts:
        rows = (
            await session.execute(
                select(PostResponse, Member)
                .join(Member, Member.id == PostResponse.member_pk)
                .where(PostResponse.post_pk == post.id)
                .order_by(PostResponse.id)
            )
        ).all()
        out.append((post, [(r, m) for r, m in rows]))
    return out


async def week_figures(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    chat_ids: set[str] | None = None,
    council_id: str | None = None,
) -> dict[str, Any]:
    """The digest's `posts` section: posts published in the week, their reach (members who
    read or answered) and correct answers, overall and per enterprise."""
    items = []
    reach_all: set[int] = set()
    right_all = 0
    by_ent: dict[str, dict[str, Any]] = {}
    for post, responses in await week_posts(session, start, end):
        if chat_ids is not None and post.groups and not chat_ids & set(post.groups):
            continue
        if council_id is not None and post.council_id != council_id:
            continue  # another park's calendar
        members = {m.id for _r, m in responses}
        right = sum(1 for r, _m in responses if r.kind == "answer" and r.correct)
        reach_all |= members
        right_all += right
        for r, m in responses:
            ent = by_ent.setdefault(m.enterprise or "", {"members": set(), "correct": 0})
            ent["members"].add(m.id)
            ent["correct"] += int(r.kind == "answer" and bool(r.correct))
        items.append(
            {
                "id": post.id,
                "at": post.published_at,
                "text": post.text,
                "question": post.question,
                "reach": len(members),
                "answers": sum(1 for r, _m in responses if r.kind == "answer"),
                "correct": right,
            }
        )
    return {
        "published": len(items),
        "reach": len(reach_all),
        "correct": right_all,
        "by_enterprise": [
            {"name": name or None, "reach": len(v["members"]), "correct": v["correct"]}
            for name, v in sorted(by_ent.items(), key=lambda kv: (-len(kv[1]["members"]), kv[0]))
        ],
        "items": items,
    }


# --- the dashboard's form: add, edit and cancel one post (audit-logged) ----------------------


async def save_post(
    session: AsyncSession,
    values: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    post: Post | None = None,
) -> Post:
    """Create a post, or change one not yet published; one audit row with what changed.
    PostFieldError when the slot is taken or the post went out already."""
    if post is not None and post.published_at is not None:
        raise PostFieldError("at", "bài đã đăng, không sửa được nữa")
    values = in_this_park(session, dict(values))
    taken = await session.scalar(select(Post.id).where(Post.slot == values["slot"]))
    if taken is not None and (post is None or taken != post.id):
        raise PostFieldError("at", "đã có bài khác đăng vào giờ này cho các nhóm này")
    if post is None:
        post = Post(**values, created_at=now, updated_at=now)
        session.add(post)
        await session.flush()
        detail: dict[str, Any] = {"post_pk": post.id, "slot": post.slot}
        session.add(AuditLog(at=now, actor=actor, action="post.create", detail=detail))
        return post
    changed = {k: v for k, v in values.items() if getattr(post, k) != v}
    if changed:
        diff = {k: [_plain(getattr(post, k)), _plain(v)] for k, v in changed.items()}
        for k, v in changed.items():
            setattr(post, k, v)
        post.updated_at = now
        session.add(
            AuditLog(
                at=now,
                actor=actor,
                action="post.update",
                detail={"post_pk": post.id, "changes": diff},
            )
        )
    return post


async def cancel_post(session: AsyncSession, post: Post, *, actor: str, now: datetime) -> None:
    """Take a planned post off the calendar; one already published stays (members saw it)."""
    if post.published_at is not None:
        raise PostFieldError("at", "bài đã đăng, không huỷ được nữa")
    session.add(
        AuditLog(
            at=now,
            actor=actor,
            action="post.cancel",
            detail={"post_pk": post.id, "slot": post.slot, "text": post.text[:200]},
        )
    )
    await session.delete(post)


def _plain(value: Any) -> Any:
    """An audit detail must be JSON: times as ISO text."""
    return value.isoformat() if isinstance(value, datetime) else value
