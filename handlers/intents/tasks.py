"""Tasks: /giaoviec @name [@name2] TASK han DATE assigns, the assignee accepts ("nhận việc")
and closes them ("xong" in reply, or /xong CV<id> note); see incidents for /xong SV<id>."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update

from handlers.calendar import next_polite_time, polite_time
from handlers.codes import task_code
from handlers.context import Context
from handlers.deadlines import parse_deadline, split_deadline
from handlers.intents.incidents.understanding import yes_or_no
from handlers.intents.mine import my_tasks, reply_privately
from handlers.intents.requests import open_task_request
from handlers.registry import hook, intent
from handlers.text import fold, lower
from handlers.texts import core as core_texts
from handlers.texts import engagement as texts
from handlers.texts import tasks as task_texts
from handlers.texts.people import you_words
from models.engagement import open_directive_for, open_tasks
from models.outbox import cancel_pending, find_quoted
from models.people import (
    address,
    address_full,
    capitalized,
    fold_name,
    is_in_group,
    members_by_mention,
    reaching,
    title_of,
)
from models.questions import TASK_DONE, asked_since
from models.scoping import role_here
from models.tables import Conversation, Directive, Member, Task

PICK_KIND = "pick_member"
DONE_KIND = TASK_DONE  # "xong" unquoted with one open task: "did you finish CV3?"
QUESTION_MINUTES = 30  # an answer later than this is not taken for an answer

code = task_code

# Folded openings that close a task when quoting it: "xong rồi", "đã xong: ...", "em làm xong";
# "xong rồi anh, ..." too: a vocative before a pause is not the note.
DONE_RE = re.compile(
    r"^(?:(?:em|e|toi|minh)\s+)?(?:da\s+)?(?:lam\s+)?(?:xong|hoan thanh)\b"
    r"(?:\s+(?:roi|nhe|nha|a|viec|ca|cv\d+|(?:anh|chi|dong chi)(?=\s*[,.;:!]|\s*$|\s+a\b))\b)*"
    r"[\s:;,.!-]*",
)
# "xong rồi anh, đã thay camera mới": at most DONE_WORDS words; one that names the task's
# work ("xong việc kiểm tra bình chữa cháy rồi ạ") at most WORK_WORDS.
DONE_WORDS = 8
WORK_WORDS = 14
# Words of a task's text that say nothing of which work it is ("kiểm tra lại ... ở ...": most
# tasks are a check of something).
FILLER_WORDS = frozenset(
    {"kiem", "tra", "ra", "soat", "lai", "o", "cho", "va", "cua", "cac", "nhung", "tai", "trong"}
)
# Folded: the work said done, its verb first ("kiểm tra xong 12 bình, ..."): the verb before
# "xong" (the sender and đã/vừa/mới aside) is the task's own when the report is its end.
WORK_DONE_RE = re.compile(r"^(?:(?:em|e|toi|minh|da|vua|moi)\s+)*((?:\w+\s+){1,3}?)xong\b")
# "nhận việc" said without quoting: always the newest task waiting to be accepted.
ACCEPT_WORDS = re.compile(r"\bnhan (?:viec|nhiem vu|cv\d*)\b")
TASK_CODE = re.compile(r"\bcv\s*-?\s*(\d{1,9})\b")  # "CV2" named in "nhận việc CV2"
# Folded: asking to move a task or hand it on ("đổi sang mai", "lùi", "hoãn", "gia hạn",
# "không làm được", "giao người khác"). "đổi" alone folds like "đợi": a word after it tells.
CHANGE_RE = re.compile(
    r"\bdoi (?:sang|qua|lai|ngay|gio|ca|nguoi|viec)\b|\blui\b|\bhoan\b(?! thanh)|\bgia han\b"
    r"|\bxin them (?:thoi gian|gio|ngay)\b|\bkhong kip\b"
    r"|\bkhong (?:the )?(?:lam|truc|di|den|toi|nhan) (?:duoc|kip)\b"
    r"|\b(?:giao|nho|de|cho) (?:cho )?nguoi khac\b|\bnguoi khac (?:lam|truc|di)\b"
)
# A member's "/giaoviec" with at most this many words and no "@": his own tasks.
OWN_WORDS = 3
OTHER_TAKING = re.compile(r"\bxu ly\b|\bsv\s*-?\s*\d|\btb\s*-?\s*\d")


def _fmt(ctx: Context, at: datetime | None) -> str:
    return at.astimezone(ctx.tz).strftime("%H:%M %d/%m/%Y") if at else ""


def _folded(text: str) -> str:
    """Folded and lower-cased, the same length as `text` (so offsets carry over)."""
    return lower(fold(text))


async def resolve_mentions(
    ctx: Context, words: list[str]
) -> tuple[list[tuple[str, list[Member]]], int]:
    """Each leading "@name" with its candidates; returns them and the number of words used."""
    found: list[tuple[str, list[Member]]] = []
    i = 0
    while i < len(words) and words[i].startswith("@") and len(words[i]) > 1:
        end = i + 1
        while end < len(words) and not words[end].startswith("@"):
            end += 1
        matches, used = await members_by_mention(ctx.session, words[i:end])
        label = " ".join(words[i : i + max(used, 1)]).lstrip("@").rstrip(".,:;!?")
        found.append((label, matches))
        i += max(used, 1)
    return found, i


@intent("command:giaoviec")
async def assign_task(ctx: Context) -> None:
    args = (ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else "").strip()
    if not ctx.is_coordinator:
        if not args or ("@" not in args and len(args.split()) <= OWN_WORDS):
            # A member naming no one ("/giaoviec", "/giaoviec của em") wants the tasks he
            # has, not to give one.
            await reply_privately(ctx, await my_tasks(ctx))
            return
        await ctx.reply(
            core_texts.COORDINATOR_ONLY.format(name="giaoviec", **you_words(ctx.member))
        )
        return
    if not args:
        await ctx.reply(await task_status(ctx))
        return
    if not args.startswith("@"):
        await ctx.reply(texts.TASK_USAGE)
        return
    words = args.split()
    mentions, used = await resolve_mentions(ctx, words)
    body, due_text = split_deadline(" ".join(words[used:]))
    missing = next((label for label, hits in mentions if not hits), None)
    if missing is not None:
        await ctx.reply(texts.TASK_WHO.format(name=missing))
        return
    if not body:
        await ctx.reply(texts.TASK_USAGE)
        return
    due = parse_deadline(due_text, ctx.now, ctx.tz) if due_text else None
    if due_text and due is None:
        await ctx.reply(texts.TASK_USAGE)
        return
    if due is not None and due <= ctx.now:
        # A task due before it is given is a typo: made, it would be overdue at once.
        await ctx.reply(texts.TASK_DUE_PAST.format(due=_fmt(ctx, due), **you_words(ctx.member)))
        return
    chosen = [hits[0].id for _label, hits in mentions if len(hits) == 1]
    pending = [
        {"name": label, "candidates": [m.id for m in hits]}
        for label, hits in mentions
        if len(hits) > 1
    ]
    state = {"chosen": chosen, "pending": pending, "text": body, "due": due}
    await _assign_or_ask(ctx, state, first=True)


async def _assign_or_ask(ctx: Context, state: dict[str, Any], *, first: bool) -> None:
    """Create the tasks once every name is settled; else ask which member the next name is."""
    due = state["due"]
    if not state["pending"]:
        people = [
            m for pk in dict.fromkeys(state["chosen"]) if (m := await ctx.session.get(Member, pk))
        ]
        await create_tasks(ctx, people, state["text"], due)
        return
    ask = state["pending"][0]
    people = [m for pk in ask["candidates"] if (m := await ctx.session.get(Member, pk))]
    # Alphabetical, so the same question lists people the same way on every database.
    people.sort(key=lambda m: (fold_name(m.name or m.display_name or ""), m.id))
    ask["candidates"] = [m.id for m in people]  # the numbers shown are the numbers read
    options = "\n".join(
        f"{i}) {address_full(m)} ({m.enterprise or '-'})" for i, m in enumerate(people, 1)
    )
    data = {
        "chosen": state["chosen"],
        "pending": state["pending"],
        "text": state["text"],
        "due": due.isoformat() if due else None,
    }
    await _ask(ctx, PICK_KIND, None, data)
    template = texts.TASK_PICK if first else task_texts.TASK_PICK_NEXT
    await ctx.reply(template.format(n=len(people), name=ask["name"], options=options))


def notice_key(task_id: int) -> str:
    """The outbox key of the message that gives a task to its assignee."""
    return f"task-assigned:{task_id}"


async def _ask(ctx: Context, kind: str, ref_id: int | None, data: dict[str, Any]) -> None:
    """Open the bot's question of this kind to the sender in this chat."""
    # Only the latest question is open: a "1" must never complete an older assignment.
    await _drop_asked(ctx, kind)
    ctx.session.add(
        Conversation(
            chat_id=ctx.event.chat_id,
            member_pk=ctx.member.id,
            kind=kind,
            ref_id=ref_id,
            status="open",
            data=data,
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(minutes=QUESTION_MINUTES),
        )
    )


def _open_to_sender(ctx: Context, kind: str) -> tuple[ColumnElement[bool], ...]:
    """Where the sender's open questions of this kind in this chat are."""
    return (
        Conversation.chat_id == ctx.event.chat_id,
        Conversation.member_pk == ctx.member.id,
        Conversation.kind == kind,
        Conversation.status == "open",
    )


async def _drop_asked(ctx: Context, kind: str) -> None:
    """Expire the sender's open questions of this kind in this chat."""
    await ctx.session.execute(
        update(Conversation).where(*_open_to_sender(ctx, kind)).values(status="expired")
    )


async def _asked(ctx: Context, kind: str) -> Conversation | None:
    """The sender's newest open question of this kind in this chat, if still current."""
    found = await ctx.session.execute(
        select(Conversation)
        .where(*_open_to_sender(ctx, kind), Conversation.expires_at > ctx.now)
        .order_by(Conversation.id.desc())
    )
    return found.scalars().first()


async def create_tasks(
    ctx: Context, assignees: list[Member], body: str, due: datetime | None
) -> list[Task]:
    """One task per assignee (each has its own code to accept and close)."""
    tasks = []
    for assignee in assignees:
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
        tasks.append(task)
    await ctx.session.flush()
    due_part = texts.TASK_DUE.format(due=_fmt(ctx, due)) if due else ""
    routes = [await _task_route(ctx, m) for m in assignees]
    held = _held_for_morning(ctx, routes)
    where = "".join(_route_line(ctx, m, r) for m, r in zip(assignees, routes, strict=True))
    if len(tasks) == 1:
        # In a group this reply is what the assignee quotes to accept or finish.
        await ctx.reply(
            texts.TASK_CREATED.format(
                code=code(tasks[0].id), name=address_full(assignees[0]), text=body, due=due_part
            )
            + where
            + held,
            ref_type="task",
            ref_id=tasks[0].id,
        )
    else:
        who = ", ".join(
            task_texts.TASK_CREATED_ONE.format(name=address_full(m), code=code(t.id))
            for m, t in zip(assignees, tasks, strict=True)
        )
        await ctx.reply(
            task_texts.TASK_CREATED_MANY.format(n=len(tasks), who=who, text=body, due=due_part)
            + where
            + held,
            ref_type="task",
            ref_id=tasks[0].id,
        )
    for assignee, task, route in zip(assignees, tasks, routes, strict=True):
        if route.chat is None:
            continue
        you = title_of(assignee)
        # In a group he is named: "Anh Nam được giao việc ...", not a bare "Anh".
        opening = capitalized(address(assignee)) if route.group else capitalized(you)
        notice = task_texts.TASK_ASSIGNED.format(
            code=code(task.id), text=body, due=due_part, you=you, You=opening
        )
        await ctx.say(
            route.chat,
            notice,
            kind="task",
            key=notice_key(task.id),
            member_pk=assignee.id,
            ref_type="task",
            ref_id=task.id,
        )
    return tasks


@dataclass(frozen=True)
class _Route:
    """Where the assignee is told of a task: `chat` None when the reply here tells him (or
    when nothing can, `reached` False); `group` the group's name when it is not his private
    chat."""

    chat: str | None
    group: str | None = None
    reached: bool = True


async def _task_route(ctx: Context, assignee: Member) -> _Route:
    """His private chat; the group it is given in if he is there; else his home group (his
    enterprise's team first); else the group it is given in (the reply); else nowhere."""
    if assignee.private_chat_id:
        private = assignee.private_chat_id
        return _Route(None if private == ctx.event.chat_id else private)
    if not ctx.is_private and await is_in_group(ctx.session, assignee, ctx.event.chat_id):
        return _Route(None)
    chat, group = await reaching(ctx.session, assignee)
    if chat is not None and group is not None and chat != ctx.event.chat_id:
        return _Route(chat, group.name or group.chat_id)
    return _Route(None, reached=not ctx.is_private)


def _route_line(ctx: Context, assignee: Member, route: _Route) -> str:
    """What the giver is told of a notice that cannot go privately."""
    if route.group:
        return task_texts.TASK_SENT_TO_GROUP.format(group=route.group, name=address(assignee))
    if not route.reached:
        return task_texts.TASK_UNREACHED.format(name=address(assignee), **you_words(ctx.member))
    return ""


def _held_for_morning(ctx: Context, routes: list[_Route]) -> str:
    """A line for the coordinator when the task's message to an assignee waits for the
    morning (quiet hours, a holiday): he can phone if it cannot wait. Else nothing."""
    if polite_time(ctx.settings, ctx.now) or not any(r.chat for r in routes):
        return ""
    at = next_polite_time(ctx.settings, ctx.now).astimezone(ctx.tz)
    return task_texts.TASK_HELD_FOR_MORNING.format(at=f"{at:%H:%M %d/%m}", **you_words(ctx.member))


_PICK_RE = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


_PICK_NAME_RE = re.compile(r"\s*[^\W\d_]+(?:\s+[^\W\d_]+){1,4}\s*")  # "Trần Văn Tuấn"


@hook(11)
async def pick_member_answer(ctx: Context) -> bool:
    """The coordinator's number (or one listed person's full name) answering "which member?"
    settles that name; a number not on the list is asked again."""
    match = _PICK_RE.fullmatch(ctx.text)
    if match is None and _PICK_NAME_RE.fullmatch(ctx.text) is None:
        return False  # cheap checks first: most messages are not an answer to this
    if not ctx.is_coordinator:
        return False
    convo = await _asked(ctx, PICK_KIND)
    if convo is None:
        return False
    data = convo.data
    pending: list[dict[str, Any]] = list(data.get("pending", []))
    if not pending and data.get("candidates"):  # a question asked before several assignees
        pending = [{"name": "", "candidates": data["candidates"]}]
    if not pending:
        return False
    candidates: list[int] = pending[0]["candidates"]
    if match is None:
        typed = fold_name(ctx.text)
        people = [await ctx.session.get(Member, pk) for pk in candidates]
        named = [i for i, m in enumerate(people) if m is not None and fold_name(m.name) == typed]
        if len(named) != 1:
            return False  # some other words: routed as usual
        index = named[0]
    else:
        index = int(match[1]) - 1
    if not 0 <= index < len(candidates):
        # Silence here left the coordinator waiting for a task that was never given.
        await ctx.reply(texts.TASK_PICK_RANGE.format(n=len(candidates), **you_words(ctx.member)))
        return True
    convo.status = "done"
    state = {
        "chosen": [*data.get("chosen", []), candidates[index]],
        "pending": pending[1:],
        "text": data.get("text", ""),
        "due": datetime.fromisoformat(data["due"]) if data.get("due") else None,
    }
    await _assign_or_ask(ctx, state, first=False)
    return True


async def _quoted_task(ctx: Context) -> Task | None:
    """The sender's task behind a quoted bot message (one of several assigned together)."""
    quoted = ctx.event.quote_message_id
    if not quoted:
        return None
    row = await find_quoted(ctx.session, ctx.event.chat_id, quoted)
    if row is None or row.ref_type != "task" or row.ref_id is None:
        return None
    task = await ctx.session.get(Task, row.ref_id)
    if task is None or task.assignee_pk == ctx.member.id:
        return task
    sibling = select(Task).where(
        Task.assigned_by == task.assigned_by,
        Task.created_at == task.created_at,
        Task.chat_id == task.chat_id,
        Task.assignee_pk == ctx.member.id,
    )
    return (await ctx.session.execute(sibling)).scalars().first() or task


@hook(19, needs="quote")
async def reply_to_task(ctx: Context) -> bool:
    """Quoting a task: "xong ..." closes it with the rest as the note, anything else accepts."""
    task = await _quoted_task(ctx)
    if task is None:
        return False
    text = unicodedata.normalize("NFC", ctx.text)
    done = DONE_RE.match(_folded(text))
    if task.assignee_pk != ctx.member.id and not (done and ctx.is_coordinator):
        return False  # someone else quoting a task is talking about it, not taking it
    if done:
        await complete_task(ctx, task.id, note=text[done.end() :].strip())
        return True
    if task.assignee_pk == ctx.member.id and asks_about_task(ctx):
        await open_task_request(ctx, task)
        return True
    parsed = ctx.parsed
    if parsed is not None and parsed.type in ("question", "incident", "command", "not_ack"):
        return False
    if parsed is not None and parsed.type == "absent":
        return False  # "tối nay em xin nghỉ": a leave, recorded as one; no task taken by it
    await accept_task(ctx, task)
    return True


def asks_about_task(ctx: Context) -> bool:
    """Said quoting one's task: a question ("cho em đổi sang mai được không ạ"), a "not
    understood", or a request to move it or give it to someone else ("em xin lùi sang tối
    mai"): for whoever gave it, not the coordinators at large, and no "nhận việc"."""
    parsed = ctx.parsed
    if parsed is None or parsed.type == "command":
        return False
    if parsed.type in ("question", "not_ack"):
        return True
    if parsed.type == "incident" and (
        parsed.severity == "high" or tuple(parsed.reasons) != ("minor",)
    ):
        return False  # something happening is reported as such, task or not
    # "cho em doi sang mai" reads as a minor dispute ("đòi"): quoting his task, it is the task.
    return CHANGE_RE.search(_folded(ctx.text)) is not None


@hook(19, needs="private_unquoted")
async def accept_in_private(ctx: Context) -> bool:
    """Unquoted "nhận việc", or "vâng"/"ok" when a task came after any directive owed."""
    if not ctx.is_private or ctx.event.quote_message_id:
        return False
    words = _folded(ctx.text)
    if OTHER_TAKING.search(words):
        return False  # "nhận xử lý SV3" takes an incident (handlers/intents/incidents.py)
    said_task = ACCEPT_WORDS.search(words) is not None
    if not said_task and (ctx.parsed is None or ctx.parsed.type != "ack"):
        return False
    task = (
        (
            await ctx.session.execute(
                select(Task)
                .where(
                    Task.assignee_pk == ctx.member.id,
                    Task.status == "open",
                    Task.accepted_at.is_(None),
                )
                .order_by(Task.created_at.desc(), Task.id.desc())
            )
        )
        .scalars()
        .first()
    )
    if task is None:
        return False
    if not said_task:
        directive: Directive | None = await open_directive_for(
            ctx.session, ctx.member, ctx.now, None
        )
        if directive is not None and directive.created_at >= task.created_at:
            return False  # the newer question was the directive: "đã nhận" answers it
    await accept_task(ctx, task)
    return True


@hook(19)
async def accept_in_group(ctx: Context) -> bool:
    """ "@Bot nhận việc" in a group, unquoted, from someone with a task waiting: tasks are
    given in the group, and answered there. Only the words themselves: an "ok" in a group
    is anyone's, and a question ("ai nhận việc này?") takes nothing."""
    if ctx.is_private or ctx.event.quote_message_id:
        return False
    words = _folded(ctx.text)
    if ACCEPT_WORDS.search(words) is None or OTHER_TAKING.search(words):
        return False
    if ctx.parsed is not None and ctx.parsed.type in ("question", "incident", "command"):
        return False
    waiting = select(Task).where(
        Task.assignee_pk == ctx.member.id, Task.status == "open", Task.accepted_at.is_(None)
    )
    named = TASK_CODE.search(words)
    if named is not None:
        waiting = waiting.where(Task.id == int(named.group(1)))
    newest = waiting.order_by(Task.created_at.desc(), Task.id.desc())
    task = (await ctx.session.execute(newest)).scalars().first()
    if task is None:
        return False
    await accept_task(ctx, task)
    return True


@hook(19, needs="private_unquoted")
async def done_in_private(ctx: Context) -> bool:
    """Unquoted "xong rồi" from someone with open tasks: with one, the bot asks whether it is
    that one ("đúng" closes it); with several, it lists their codes."""
    if not ctx.is_private or ctx.event.quote_message_id:
        return False
    text = unicodedata.normalize("NFC", ctx.text).strip()
    words = _folded(text)
    done = DONE_RE.match(words)
    if done is None or len(words.split()) > WORK_WORDS:
        return False
    note = text[done.end() :].strip()
    reading = ctx.parsed.type if ctx.parsed is not None else "other"
    if reading in ("other", "ack"):
        if len(words.split()) > DONE_WORDS:
            return False
    elif not _may_name_work(ctx, note):
        return False  # "xong ca rồi" is a shift's end, "xong chưa?" a question
    rows = await ctx.session.execute(
        select(Task.id, Task.text)
        .where(Task.assignee_pk == ctx.member.id, Task.status == "open")
        .order_by(Task.id)
        .limit(6)
    )
    open_tasks = rows.all()
    if reading not in ("other", "ack"):
        # "xong việc kiểm tra bình chữa cháy rồi ạ" reads as an inspection report: it is the
        # end of the task whose work it names, if one does.
        open_tasks = [t for t in open_tasks if names_the_work(note, t.text)]
    if not open_tasks:
        return False
    if len(open_tasks) == 1:
        task_id, task_text = open_tasks[0]
        await _ask(ctx, DONE_KIND, task_id, {"note": note})
        await ctx.reply(
            task_texts.TASK_DONE_ASK.format(
                Name=capitalized(address(ctx.member)),
                code=code(task_id),
                text=task_text,
                note=task_texts.TASK_DONE_ASK_NOTE.format(note=note) if note else "",
            )
        )
    else:
        await _drop_asked(ctx, DONE_KIND)  # a "đúng" now could mean any of them
        codes = ", ".join(code(task_id) for task_id, _text in open_tasks)
        await ctx.reply(task_texts.TASK_DONE_WHICH.format(codes=codes, **you_words(ctx.member)))
    return True


@hook(19)
async def work_done(ctx: Context) -> bool:
    """ "kiểm tra xong 12 bình, 2 bình hết hạn cần thay", unquoted, in the group or in
    private, from someone whose open task it names (its verb before "xong", one thing of its
    work after): that task's end, his words its result, told to whoever gave it. Its findings
    go to the giver with it; no report is filed besides (docs/people.md)."""
    if ctx.event.quote_message_id or ctx.parsed is None:
        return False
    text = unicodedata.normalize("NFC", ctx.text).strip()
    words = _folded(text)
    said = WORK_DONE_RE.match(words)  # cheap first: most messages are no work said done
    if said is None or len(words.split()) > WORK_WORDS:
        return False
    parsed = ctx.parsed
    if parsed.type in ("question", "command") or parsed.severity == "high":
        return False
    if parsed.category == "fire":
        return False  # a fire is never a task's result
    verb = set(said.group(1).split())
    rest = set(re.findall(r"\w+", words[said.end() :]))
    rows = await ctx.session.execute(
        select(Task.id, Task.text)
        .where(Task.assignee_pk == ctx.member.id, Task.status == "open")
        .order_by(Task.id)
        .limit(6)
    )
    named = [
        task_id
        for task_id, task_text in rows.all()
        if verb <= set(_folded(task_text).split())
        and rest & (set(_folded(task_text).split()) - FILLER_WORDS)
    ]
    if len(named) != 1:
        return False  # none, or two that fit: which one is not for the bot to guess
    await complete_task(ctx, named[0], note=text)
    return True


def _may_name_work(ctx: Context, note: str) -> bool:
    """Read as a report, the words after "xong" may still name a task's work ("kiểm tra bình
    chữa cháy"): a low or medium reading with nothing urgent in it. A fire is never a task."""
    parsed = ctx.parsed
    if parsed is None or parsed.type != "incident" or not note:
        return False
    return parsed.severity != "high" and not parsed.reasons and parsed.category != "fire"


def names_the_work(note: str, task_text: str) -> bool:
    """Two words or more of the task's text in the note, marks aside ("kiem tra binh chua
    chay roi a" names "kiểm tra lại bình chữa cháy xưởng 3")."""
    said = set(_folded(note).split())
    work = set(_folded(task_text).split()) - FILLER_WORDS
    return len(said & work) >= 2


@hook(12, needs="private")
async def done_answer(ctx: Context) -> bool:
    """ "đúng" to "did you finish CV3?" closes it with the note given; "sai" leaves it open."""
    said = yes_or_no(ctx.text) if ctx.is_private else None
    if said is None:
        return False  # cheap first: most messages are not an answer
    convo = await _asked(ctx, DONE_KIND)
    if convo is None or convo.ref_id is None:
        return False
    if await asked_since(ctx.session, convo, ctx.now):
        return False  # the bot asked something else since: "đúng" answers that (hook 10)
    convo.status = "done"
    if said == "yes":
        await complete_task(ctx, convo.ref_id, note=str(convo.data.get("note", "")))
    else:
        await ctx.reply(
            task_texts.TASK_DONE_ASK_NO.format(code=code(convo.ref_id), **you_words(ctx.member))
        )
    return True


async def accept_task(ctx: Context, task: Task) -> None:
    if task.status != "open":
        await ctx.reply(_closed_text(task))
        return
    if task.accepted_at is not None:
        you = title_of(ctx.member)
        await ctx.reply(
            task_texts.TASK_ACCEPTED_ALREADY.format(
                code=code(task.id), you=you, You=capitalized(you)
            )
        )
        return
    task.accepted_at = ctx.now
    name, you = address(ctx.member), title_of(ctx.member)
    # Accepted before the task message went out (held for the morning, told by phone): that
    # message would ask for "nhận việc" again, so it is withdrawn and this reply says the task.
    why = "task accepted before it was sent"
    if await cancel_pending(ctx.session, "task", task.id, ("task",), why, key=notice_key(task.id)):
        due = texts.TASK_DUE.format(due=_fmt(ctx, task.due_at)) if task.due_at else ""
        await ctx.reply(
            task_texts.TASK_ACCEPTED_UNSENT.format(
                name=name, code=code(task.id), text=task.text, due=due, you=you
            ),
            ref_type="task",
            ref_id=task.id,
        )
        return
    await ctx.reply(task_texts.TASK_ACCEPTED.format(name=name, code=code(task.id), you=you))


def _closed_text(task: Task) -> str:
    if task.status == "cancelled":
        return task_texts.TASK_CANCELLED.format(code=code(task.id))
    return texts.TASK_ALREADY_DONE.format(code=code(task.id))


def _command_note(ctx: Context) -> str:
    """The note after the code in "/xong CV3 đã thay bóng đèn"."""
    args = ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else ""
    match = re.match(r"\s*(?:cv|#)?\s*\d{1,9}\b[\s:;,.-]*", args, flags=re.IGNORECASE)
    return args[match.end() :].strip() if match else ""


async def complete_task(ctx: Context, task_id: int, note: str | None = None) -> None:
    """Close a task with its note: its assignee or a coordinator may; the assigner is told."""
    task = await ctx.session.get(Task, task_id)
    if task is None:
        await ctx.reply(texts.TASK_NOT_FOUND.format(code=code(task_id)))
        return
    assignee = await ctx.session.get(Member, task.assignee_pk)
    name = address(assignee) if assignee else "?"
    full = address_full(assignee) if assignee else "?"
    if task.status != "open":
        await ctx.reply(_closed_text(task))
        return
    if task.assignee_pk != ctx.member.id and not ctx.is_coordinator:
        await ctx.reply(texts.TASK_NOT_YOURS.format(code=code(task_id), name=full))
        return
    note = _command_note(ctx) if note is None else note
    task.status = "done"  # late or not: a finished task is never overdue again
    task.done_at = ctx.now
    task.note = note[:2000]
    late = task.due_at is not None and ctx.now > task.due_at
    # Reminders or overdue notices held for the morning are no longer true.
    await cancel_pending(ctx.session, "task", task.id, ("task",), "task done before it was sent")
    if late:
        await ctx.reply(
            task_texts.TASK_DONE_LATE.format(
                code=code(task_id), name=name, due=_fmt(ctx, task.due_at)
            )
        )
    else:
        await ctx.reply(texts.TASK_DONE.format(code=code(task_id), name=name))
    if not task.assigned_by or task.assigned_by == ctx.member.id:
        return
    assigner = await ctx.session.get(Member, task.assigned_by)
    target = assigner.private_chat_id if assigner is not None else None
    target = target or task.chat_id
    if target == ctx.event.chat_id:
        return  # the assigner reads the reply above in this chat
    await ctx.say(
        target,
        task_texts.TASK_DONE_NOTIFY.format(
            name=capitalized(full),
            code=code(task_id),
            text=task.text,
            late=task_texts.TASK_DONE_NOTIFY_LATE.format(due=_fmt(ctx, task.due_at))
            if late
            else "",
            note=task_texts.TASK_DONE_NOTIFY_NOTE.format(note=task.note) if task.note else "",
        ),
        kind="task",
        key=f"task-done:{task.id}",
        ref_type="task",
        ref_id=task.id,
    )


async def cancel_task(ctx: Context, task_id: int) -> None:
    """/huy CV3: its author or an admin withdraws it; the assignee is told."""
    task = await ctx.session.get(Task, task_id)
    if task is None:
        await ctx.reply(texts.TASK_NOT_FOUND.format(code=code(task_id)))
        return
    if task.assigned_by != ctx.member.id and role_here(ctx.member) != "admin":
        await ctx.reply(task_texts.CANCEL_NOT_ALLOWED.format(code=code(task_id)))
        return
    if task.status == "done":
        await ctx.reply(task_texts.TASK_CANCEL_CLOSED.format(code=code(task_id)))
        return
    if task.status == "cancelled":
        await ctx.reply(task_texts.TASK_CANCELLED.format(code=code(task_id)))
        return
    task.status = "cancelled"
    # Given at night and cancelled before the morning: the assignee never heard of it, and a
    # notice that it is cancelled would only puzzle him.
    withdrawn = await cancel_pending(
        ctx.session, "task", task.id, ("task",), "task cancelled", key=notice_key(task.id)
    )
    never_told = bool(withdrawn) and task.accepted_at is None
    await cancel_pending(ctx.session, "task", task.id, ("task",), "task cancelled")
    assignee = await ctx.session.get(Member, task.assignee_pk)
    name = address_full(assignee) if assignee else "?"
    done = task_texts.TASK_CANCEL_DONE.format(code=code(task_id), name=name)
    await ctx.reply(done + (task_texts.TASK_CANCEL_UNSENT if never_told else ""))
    target = (await reaching(ctx.session, assignee, task.chat_id))[0] if assignee else None
    if target is not None and target != ctx.event.chat_id and not never_told:
        await ctx.say(
            target,
            task_texts.TASK_CANCEL_NOTICE.format(
                code=code(task_id),
                text=task.text,
                Name=capitalized(address(assignee)) if assignee else "Anh/chị",
                you=title_of(assignee) if assignee else "anh/chị",
            ),
            kind="task",
            key=f"task-cancelled:{task.id}",
            member_pk=task.assignee_pk,
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
        if task.accepted_at is not None:
            state += ", đã nhận"
        lines.append(
            texts.TASK_STATUS_LINE.format(
                code=code(task.id), name=address_full(member), text=task.text[:80], state=state
            )
        )
    return "\n".join(lines)
