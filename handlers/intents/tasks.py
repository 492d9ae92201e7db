"""Tasks: /giaoviec @name TASK han DATE assigns, /xong CV<id> closes (see incidents for /xong)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from handlers.codes import task_code
from handlers.context import Context
from handlers.deadlines import parse_deadline, split_deadline
from handlers.registry import hook, intent
from handlers.text import fold
from handlers.texts import core as core_texts
from handlers.texts import engagement as texts
from models.engagement import open_tasks
from models.outbox import cancel_pending
from models.tables import Conversation, Member, Task

PICK_KIND = "pick_member"


code = task_code


def _fmt(ctx: Context, at: datetime | None) -> str:
    return at.astimezone(ctx.tz).strftime("%H:%M %d/%m/%Y") if at else ""


async def resolve_name(ctx: Context, words: list[str]) -> tuple[list[Member], int]:
    """Members matching the longest leading run of words, accent-insensitively.

    Returns (matches, number of words used)."""
    roster = list(
        (
            await ctx.session.execute(
                select(Member).where(Member.active.is_(True), Member.status == "member")
            )
        ).scalars()
    )
    for k in range(min(5, len(words)), 0, -1):
        key = fold(" ".join(words[:k])).lower().lstrip("@").strip()
        if not key:
            continue
        exact = [m for m in roster if m.name_folded == key]
        tail = [m for m in roster if m.name_folded.endswith(" " + key)]
        inner = [m for m in roster if f" {key} " in f" {m.name_folded} "]
        hits = exact or tail or inner
        if hits:
            return hits, k
    return [], 0


@intent("command:giaoviec")
async def assign_task(ctx: Context) -> None:
    if not ctx.is_coordinator:
        await ctx.reply(core_texts.COORDINATOR_ONLY.format(name="giaoviec"))
        return
    args = (ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else "").strip()
    if not args:
        await ctx.reply(await task_status(ctx))
        return
    if not args.startswith("@"):
        await ctx.reply(texts.TASK_USAGE)
        return
    words = args.split()
    matches, used = await resolve_name(ctx, words)
    body, due_text = split_deadline(" ".join(words[used:]))
    if not matches:
        await ctx.reply(texts.TASK_WHO.format(name=words[0].lstrip("@")))
        return
    if not body:
        await ctx.reply(texts.TASK_USAGE)
        return
    due = parse_deadline(due_text, ctx.now, ctx.tz) if due_text else None
    if due_text and due is None:
        await ctx.reply(texts.TASK_USAGE)
        return
    if len(matches) > 1:
        options = "\n".join(
            f"{i}) {m.name} ({m.enterprise or '-'})" for i, m in enumerate(matches, 1)
        )
        ctx.session.add(
            Conversation(
                chat_id=ctx.event.chat_id,
                member_pk=ctx.member.id,
                kind=PICK_KIND,
                status="open",
                data={
                    "candidates": [m.id for m in matches],
                    "text": body,
                    "due": due.isoformat() if due else None,
                },
                created_at=ctx.now,
                expires_at=ctx.now + timedelta(minutes=30),
            )
        )
        await ctx.reply(
            texts.TASK_PICK.format(
                n=len(matches), name=" ".join(words[:used]).lstrip("@"), options=options
            )
        )
        return
    await create_task(ctx, matches[0], body, due)


async def create_task(ctx: Context, assignee: Member, body: str, due: datetime | None) -> Task:
    task = Task(
        assignee_pk=assignee.id,
        assigned_by=ctx.member.id,
        chat_id=ctx.event.chat_id,
        text=body,
        due_at=due,
        status="open",
        created_at=ctx.now,
    )
    ctx.session.add(task)
    await ctx.session.flush()
    due_part = texts.TASK_DUE.format(due=_fmt(ctx, due)) if due else ""
    await ctx.reply(
        texts.TASK_CREATED.format(code=code(task.id), name=assignee.name, text=body, due=due_part)
    )
    notice = texts.TASK_ASSIGNED.format(code=code(task.id), text=body, due=due_part)
    target = assignee.private_chat_id or (None if ctx.is_private else ctx.event.chat_id)
    if target and target != ctx.event.chat_id:
        await ctx.say(
            target,
            notice,
            kind="task",
            key=f"task-assigned:{task.id}",
            member_pk=assignee.id,
            ref_type="task",
            ref_id=task.id,
        )
    return task


@hook(11)
async def pick_member_answer(ctx: Context) -> bool:
    """The coordinator's number answering "which member?" completes the assignment."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*[.)]?\s*", ctx.text)
    if match is None or not ctx.is_coordinator:
        return False  # cheap checks first: most messages are not an answer to this
    convo = (
        (
            await ctx.session.execute(
                select(Conversation)
                .where(
                    Conversation.chat_id == ctx.event.chat_id,
                    Conversation.member_pk == ctx.member.id,
                    Conversation.kind == PICK_KIND,
                    Conversation.status == "open",
                    Conversation.expires_at > ctx.now,
                )
                .order_by(Conversation.id.desc())
            )
        )
        .scalars()
        .first()
    )
    if convo is None:
        return False
    candidates: list[int] = convo.data.get("candidates", [])
    index = int(match[1]) - 1
    if not 0 <= index < len(candidates):
        return False
    assignee = await ctx.session.get(Member, candidates[index])
    if assignee is None:
        return False
    convo.status = "done"
    due = datetime.fromisoformat(convo.data["due"]) if convo.data.get("due") else None
    await create_task(ctx, assignee, convo.data.get("text", ""), due)
    return True


async def complete_task(ctx: Context, task_id: int) -> None:
    """Close a task: its assignee or a coordinator may; the assigner is told."""
    task = await ctx.session.get(Task, task_id)
    if task is None:
        await ctx.reply(texts.TASK_NOT_FOUND.format(code=code(task_id)))
        return
    assignee = await ctx.session.get(Member, task.assignee_pk)
    name = assignee.name if assignee else "?"
    if task.status == "done":
        await ctx.reply(texts.TASK_ALREADY_DONE.format(code=code(task_id)))
        return
    if task.assignee_pk != ctx.member.id and not ctx.is_coordinator:
        await ctx.reply(texts.TASK_NOT_YOURS.format(code=code(task_id), name=name))
        return
    task.status = "done"
    task.done_at = ctx.now
    # Reminders or overdue notices held for the morning are no longer true.
    await cancel_pending(ctx.session, "task", task.id, ("task",), "task done before it was sent")
    await ctx.reply(texts.TASK_DONE.format(code=code(task_id), name=name))
    if task.assigned_by and task.assigned_by != ctx.member.id:
        assigner = await ctx.session.get(Member, task.assigned_by)
        if assigner is not None and assigner.private_chat_id:
            await ctx.say(
                assigner.private_chat_id,
                texts.TASK_DONE_NOTIFY.format(name=name, code=code(task_id), text=task.text),
                kind="task",
                key=f"task-done:{task.id}",
                ref_type="task",
                ref_id=task.id,
            )


def parse_task_code(args: str) -> int | None:
    match = re.match(r"\s*(?:cv|#)?\s*(\d{1,9})\b", args, flags=re.IGNORECASE)
    return int(match[1]) if match else None


async def task_status(ctx: Context) -> str:
    rows = await open_tasks(ctx.session)
    if not rows:
        return texts.TASK_STATUS_NONE
    lines = []
    for task, member in rows[:20]:
        late = task.due_at is not None and task.due_at < ctx.now
        state = (
            ("QUÁ HẠN " if late else "hạn ") + _fmt(ctx, task.due_at)
            if task.due_at
            else "không hạn"
        )
        lines.append(
            texts.TASK_STATUS_LINE.format(
                code=code(task.id), name=member.name, text=task.text[:80], state=state
            )
        )
    return "\n".join(lines)
