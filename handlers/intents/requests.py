"""Members' questions and requests (YCn): forwarded to the coordinators, answered, relayed back.

A question to the bot (parse type `question`) or a plea for help that is no incident becomes a
request; a coordinator answers with a quote-reply to the forward or `/traloi YCn ...`, and the
bot relays the answer to the chat where it was asked. See docs/requests.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.calendar import next_polite_time
from handlers.codes import incident_code, request_code, task_code
from handlers.context import Context
from handlers.councils import scope
from handlers.intents.basic import plain_message
from handlers.intents.directives import (
    ack_before_question,
    is_thanks,
    opened_notice,
    resend_owed_notice,
)
from handlers.intents.incidents.understanding import asked_about
from handlers.registry import hook, intent
from handlers.text import fold
from handlers.texts import core as core_texts
from handlers.texts import engagement as engagement_texts
from handlers.texts import people as people_texts
from handlers.texts import requests as texts
from models.incidents import urgent_under_way, woken_for
from models.outbox import cancel_pending, enqueue, find_quoted
from models.people import coordinators
from models.requests import (
    forwarded_chats,
    forwarded_to_member,
    get_request,
    open_requests,
    recent_open_request,
)
from models.tables import Incident, Member, MemberRequest, Task

if TYPE_CHECKING:
    from handlers.parse import ParsedMessage

DEFAULT_TITLE = "anh/chị"
MAX_TEXT = 2000
# Folded phrases that ask the council for help ("cần hỗ trợ", "nhờ ... hướng dẫn", "vướng mắc"),
# or for something only a coordinator holds ("cho em xin danh sách ...").
HELP_RE = re.compile(
    r"\b(ho tro|giup|xin hoi|cho hoi|vuong mac|kho khan|de nghi|kien nghi|xin y kien|tu van"
    r"|huong dan giup|huong dan cho|nho ban|nho hoi dong|nho anh|nho chi|nho bot"
    r"|cho (?:em |e |toi |minh |chung em |chung toi )?xin)\b"
)
# ... unless it tells of help already given ("đã hỗ trợ cty ABC xong", "cảm ơn đã giúp").
HELPED_RE = re.compile(r"\b(xong|da ho tro|da giup|cam on|thank|thanks|tks)\b")
# Report categories a help request is often mistaken for ("cần hỗ trợ tập huấn PCCC").
SOFT_CATEGORIES = ("inspection", "other")
FOLLOW_UP_MINUTES = 10  # more words within this of a question belong to it
THANKS_WORDS = 5  # "cảm ơn bot nhiều ạ": politeness; longer, it may add something after all
EMOTICON_RE = re.compile(r"/-\w+")
# A question held for the morning (quiet hours, a holiday, a rest day) that is about an urgent
# incident still open and reported within these hours goes at once: its coordinators are up.
UNDER_WAY_HOURS = 6
CODE_RE = re.compile(r"^\s*#?\s*(?:yc)?\s*-?\s*(\d{1,9})\b[\s:,.\-]*(.*)$", re.I | re.S)


def address(member: Member | None) -> str:
    """'anh/chị Bình': the one addressing helper (handlers/texts/people), None-safe."""
    return DEFAULT_TITLE if member is None else people_texts.address(member)


def wants_help(text: str) -> bool:
    folded = fold(text).lower()
    return HELP_RE.search(folded) is not None and HELPED_RE.search(folded) is None


async def addressed_to_bot(ctx: Context) -> bool:
    """In a group, only what is said to the bot is a request (an OA sees every message)."""
    if ctx.is_private or ctx.settings.platform.kind == "zalo_bot":
        return True  # Zalo bots see only messages addressed to them
    if ctx.text.strip() != ctx.event.text.strip():
        return True  # a leading @mention of the bot was stripped
    quoted = ctx.event.quote_message_id
    if not quoted:
        return False
    return await find_quoted(ctx.session, ctx.event.chat_id, quoted) is not None


@intent("question", "not_ack")
async def question(ctx: Context) -> None:
    """A member's question to the bot becomes a request; anything else stays a message.

    So does a "not received / not understood" ("chưa nhận được công văn, đề nghị gửi lại"):
    only a coordinator can resend or explain, and no other handler would tell one."""
    if ctx.is_coordinator or not ctx.text.strip() or not await addressed_to_bot(ctx):
        await plain_message(ctx)
        return
    if ctx.parsed is not None and ctx.parsed.type == "not_ack" and not _has_words(ctx.text):
        await plain_message(ctx)  # "/-weak", "👎": a frown, nothing to pass on
        return
    if not asks_something(ctx.text):
        # "?", "gì vậy ạ?": no question to pass on; a YC saying "?" would only puzzle the
        # coordinators, so the member is asked what she wants to know.
        words = people_texts.you_words(ctx.member)
        await ctx.reply(
            texts.ASK_WHAT.format(Name=people_texts.capitalized(address(ctx.member)), **words)
        )
        return
    if await ack_before_question(ctx):
        return  # "nhận rồi nhưng ... ở đâu vậy": acknowledged, and asked on as a request
    if await resend_owed_notice(ctx):
        return  # "thông báo gì vậy anh": the bot has it, no coordinator needed
    await open_request(ctx)


# Words that ask nothing by themselves: particles, greetings, how people address the bot.
# Folded: "hả", "gì vậy", "thế nào", "ơi", "ạ" ...
EMPTY_QUESTION_WORDS = frozenset(
    {"a", "ah", "ak", "alo", "ha", "ho", "gi", "vay", "the", "nao", "oi", "bot", "anh", "chi"}
    | {"em", "e", "ad", "admin", "u", "o"}
)


def asks_something(text: str) -> bool:
    """Whether a question has anything in it to pass on ("?", "gì vậy ạ?" do not)."""
    words = re.findall(r"[^\W\d_]+", EMOTICON_RE.sub(" ", text.lower()))
    return any(fold(w) not in EMPTY_QUESTION_WORDS for w in words)


def _has_words(text: str) -> bool:
    """At least two words, Zalo emoticon codes (/-weak) aside."""
    words = EMOTICON_RE.sub(" ", text).split()
    return sum(any(c.isalpha() for c in w) for w in words) >= 2


@hook(24, needs="private")
async def request_follow_up(ctx: Context) -> bool:
    """A few more words right after a question ('công nhân ở trọ ngoài KCN ạ') complete it,
    instead of being lost: added to the request and passed on where the question went."""
    parsed = ctx.parsed
    if parsed is None or parsed.type != "other" or not ctx.is_private or ctx.is_coordinator:
        return False
    words = len(ctx.text.split())
    if words < 2:
        return False  # "dạ", "ạ": nothing to add
    since = ctx.now - timedelta(minutes=FOLLOW_UP_MINUTES)
    req = await recent_open_request(ctx.session, ctx.member.id, ctx.event.chat_id, since)
    if req is None:
        return False
    if words <= THANKS_WORDS and is_thanks(ctx.text):
        return True  # "cảm ơn bot" adds nothing to the question and needs no answer
    when = await forward_time(ctx, req.text)  # the question's own: more words go as it went
    req.text = f"{req.text}\n{ctx.text.strip()}"[:MAX_TEXT]
    code = request_code(req.id)
    chats = await forwarded_chats(ctx.session, req.id)
    text = texts.FOLLOW_UP.format(
        code=code, who=address(ctx.member), text=texts.clip(ctx.text.strip(), 600)
    )
    for chat in chats:
        await ctx.say(
            chat,
            text,
            kind="request",
            key=f"request-more:{req.id}:{ctx.event.event_key}:{chat}",
            ref_type="request",
            ref_id=req.id,
            not_before=when.at,
        )
    added = texts.ADDED_FORWARDED if chats else texts.ADDED_KEPT
    await ctx.reply(added.format(code=code), ref_type="request", ref_id=req.id)
    return True


@hook(25)
async def help_request(ctx: Context) -> bool:
    """'Nhờ ban quản lý hướng dẫn...', 'cần hỗ trợ tập huấn': a request, not a report."""
    parsed = ctx.parsed
    if parsed is None:
        return False
    # The parse first: it rules out most messages without asking the member's role here.
    if not (parsed.type == "other" or soft_report(parsed)) or ctx.is_coordinator:
        return False
    if not wants_help(ctx.text):
        return False
    if not await addressed_to_bot(ctx):
        return False
    await open_request(ctx)
    return True


def soft_report(parsed: ParsedMessage) -> bool:
    """A report a plea for help is often mistaken for: an inspection or "other", not high."""
    return (
        parsed.type == "incident"
        and parsed.category in SOFT_CATEGORIES
        and parsed.severity != "high"
    )


@hook(24)
async def members_notice(ctx: Context) -> bool:
    """A member's "Thông báo: ..." said to the bot in a group (a notice relayed) is news for
    the group: kept as his message, not passed on as a question (docs/acks-and-budget.md).
    A coordinator's was posted as a directive (hook 7); a report stays a report."""
    parsed = ctx.parsed
    if ctx.is_private or ctx.event.quote_message_id or parsed is None:
        return False
    if parsed.type not in ("question", "other") and not (
        soft_report(parsed) and wants_help(ctx.text)
    ):
        # A report, a check-in, an absence: handled as what it says. A "not received" too:
        # only a coordinator can resend, so it still goes to one.
        return False
    if opened_notice(ctx.text) is None or ctx.is_coordinator:
        return False
    if not await addressed_to_bot(ctx):
        return False
    day = ctx.now.astimezone(ctx.tz).date().isoformat()
    await ctx.reply(
        engagement_texts.MEMBER_NOTICE_KEPT.format(name=address(ctx.member)),
        key=f"member-notice:{ctx.member.id}:{day}",
    )
    return True


async def open_request(ctx: Context) -> MemberRequest:
    """Record the request, forward it where someone can answer, and tell the asker where."""
    req = await _new_request(ctx)
    when = await forward_time(ctx, req.text)
    await _tell_asker(ctx, req, when, await forward(ctx, req, when))
    return req


async def open_task_request(ctx: Context, task: Task) -> MemberRequest:
    """A question or a request to change a task, said quoting it: to whoever gave the task,
    naming it, who answers it as any other (/traloi); to the coordinators as any question,
    still naming it, when he cannot be written to privately (docs/requests.md)."""
    req = await _new_request(ctx)
    when = await forward_time(ctx, req.text)
    when = ForwardTime(when.at)  # about the task: no incident's forward at night
    giver = await ctx.session.get(Member, task.assigned_by) if task.assigned_by else None
    chat = giver.private_chat_id if giver is not None and giver.id != ctx.member.id else None
    out = None
    if giver is not None and chat:
        out = await ctx.say(
            chat,
            forward_text(ctx, req, task=task),
            kind="request",
            key=f"request:{req.id}:{chat}",
            member_pk=giver.id,
            ref_type="request",
            ref_id=req.id,
            not_before=when.at,
        )
    if giver is None or out is None:
        await _tell_asker(ctx, req, when, await forward(ctx, req, when, task=task))
        return req
    req.forwarded_to = "private"
    code, name, about = request_code(req.id), address(ctx.member), task_code(task.id)
    if when.at is not None:
        text = texts.ASKED_GIVER_LATER.format(
            name=name, code=code, task=about, giver=address(giver), when=_local_when(ctx, when.at)
        )
    else:
        text = texts.ASKED_GIVER.format(name=name, code=code, task=about, giver=address(giver))
    await ctx.reply(text, ref_type="request", ref_id=req.id)
    return req


def _local_when(ctx: Context, at: datetime) -> str:
    """ "07:00 thứ Ba 01/12": when a held forward goes."""
    local = at.astimezone(ctx.tz)
    return f"{local.strftime('%H:%M')} {texts.weekday_date(local.date())}"


async def _new_request(ctx: Context) -> MemberRequest:
    """The sender's words recorded as an open request (YCn), forwarded nowhere yet."""
    req = MemberRequest(
        member_pk=ctx.member.id,
        message_pk=ctx.message.id if ctx.message else None,
        chat_id=ctx.event.chat_id,
        text=ctx.text.strip()[:MAX_TEXT],
        status="open",
        forwarded_to="none",
        asked_at=ctx.now,
    )
    ctx.session.add(req)
    await ctx.session.flush()
    return req


async def _tell_asker(
    ctx: Context, req: MemberRequest, when: ForwardTime, sent: tuple[str, str]
) -> None:
    """Record where the forward went (`sent`: where, the council group's name) and tell the
    asker exactly that."""
    where, group = sent
    req.forwarded_to = where
    code, name = request_code(req.id), address(ctx.member)
    if where == "none":
        text = texts.ASKED_NOBODY.format(name=name, code=code)
    elif when.about is not None:
        target = texts.AT_ONCE_TARGET[where].format(group=group)
        about = incident_code(when.about.id)
        text = texts.ASKED_AT_ONCE.format(name=name, code=code, incident=about, target=target)
    elif when.at is not None:
        target = texts.LATER_TARGET[where].format(group=group)
        at = _local_when(ctx, when.at)
        text = texts.ASKED_LATER.format(name=name, code=code, when=at, target=target)
    elif where == "private":
        text = texts.ASKED_PRIVATE.format(name=name, code=code)
    elif where == "coordinators":
        text = texts.ASKED_COORDINATORS_CHAT.format(name=name, code=code)
    else:
        text = texts.ASKED_COUNCIL.format(name=name, code=code, group=group)
    await ctx.reply(text, ref_type="request", ref_id=req.id)


@dataclass(frozen=True, slots=True)
class ForwardTime:
    """When a request's forward goes: `at` (None: now), and the urgent incident it is about
    when that is why it goes now rather than in the morning."""

    at: datetime | None
    about: Incident | None = None


async def forward_time(ctx: Context, text: str) -> ForwardTime:
    """Non-urgent: held to the end of quiet hours, holidays and rest days, unless it asks
    about the urgent incident under way (docs/requests.md "Not urgent")."""
    when = next_polite_time(ctx.settings, ctx.now)
    if when <= ctx.now + timedelta(minutes=1):
        return ForwardTime(None)
    about = await incident_asked_about(ctx, text)
    return ForwardTime(None, about) if about is not None else ForwardTime(when)


async def incident_asked_about(ctx: Context, text: str) -> Incident | None:
    """The open urgent incident reported within UNDER_WAY_HOURS that the question is about."""
    since = ctx.now - timedelta(hours=UNDER_WAY_HOURS)
    return asked_about(text, ctx.now, ctx.tz, await urgent_under_way(ctx.session, since))


async def forward(
    ctx: Context, req: MemberRequest, when: ForwardTime, task: Task | None = None
) -> tuple[str, str]:
    """Write the forward rows: coordinators privately, else their chat, else the council group.

    Returns (where it went, the council group's name); "none" when no row was written.
    Sent or held as `when` says."""
    members, chats = await coordinators(ctx.session, ctx.settings.coordinators, scope(ctx.settings))
    private: list[tuple[str, int | None]] = [
        (m.private_chat_id, m.id) for m in members if m.private_chat_id
    ]
    council = [g for g in ctx.settings.groups if g.kind == "council"]
    plans: list[tuple[str, list[tuple[str, int | None]]]] = [
        ("private", private),
        ("coordinators", [(c, None) for c in chats]),
        ("council", [(g.chat_id, None) for g in council]),
    ]
    text = forward_text(ctx, req, when.about, task)
    for where, targets in plans:
        written = 0
        for chat, member_pk in dict.fromkeys(targets):
            out = await ctx.say(
                chat,
                text,
                kind="request",
                key=f"request:{req.id}:{chat}",
                member_pk=member_pk,
                ref_type="request",
                ref_id=req.id,
                not_before=when.at,
            )
            written += out is not None
        if written:
            if when.about is not None:
                await tell_woken(ctx.session, ctx.now, req, when.about, text)
            return where, council[0].name if where == "council" and council else ""
    return "none", ""


def forward_text(
    ctx: Context, req: MemberRequest, about: Incident | None = None, task: Task | None = None
) -> str:
    """What the coordinators read; `about`: the urgent incident it asks about ("YC1 (về SV3)");
    `task`: the task it was said quoting ("YC1 về việc CV1 (trực cổng 2 ...)")."""
    group = None if ctx.is_private else ctx.group.name or "?"
    return forward_words(ctx.member, group, req, about, task)


def forward_words(
    m: Member | None,
    group: str | None,
    req: MemberRequest,
    about: Incident | None,
    task: Task | None = None,
) -> str:
    """The forward of `req`, asked by `m` in `group` (None: in private)."""
    details = ", ".join(
        x for x in ((m.enterprise if m else None) or texts.NO_ENTERPRISE, m.phone if m else "") if x
    )
    return texts.FORWARD.format(
        code=request_code(req.id),
        about=_about(about, task),
        who=address(m),
        enterprise=details,
        where="" if group is None else texts.WHERE_GROUP.format(group=group),
        text=texts.clip(req.text, 600),
    )


def _about(incident: Incident | None, task: Task | None) -> str:
    """What a forward is about, after its code: a task said quoting it, or an incident."""
    if task is not None:
        return texts.ABOUT_TASK.format(task=task_code(task.id), text=texts.clip(task.text, 80))
    return "" if incident is None else texts.ABOUT.format(incident=incident_code(incident.id))


async def tell_woken(
    session: AsyncSession, now: datetime, req: MemberRequest, about: Incident, text: str
) -> int:
    """The question also goes to those an escalation of `about` woke who are no coordinators
    (its security lead, the escalation chain, the chair): they are up for it and may answer
    it (docs/incidents.md, "Questions about it at night")."""
    sent = 0
    for person in await woken_for(session, about.id):
        chat = person.private_chat_id
        if not chat:
            continue  # a coordinator who already has it is skipped by the key below
        out = await enqueue(
            session,
            chat_id=chat,
            text=text,
            kind="request",
            now=now,
            key=f"request:{req.id}:{chat}",
            member_pk=person.id,
            ref_type="request",
            ref_id=req.id,
        )
        sent += out is not None
    return sent


# ---------------------------------------------------------------- answers


async def answer(ctx: Context, req: MemberRequest, body: str) -> None:
    """Close the request with the coordinator's answer and relay it where it was asked."""
    code = request_code(req.id)
    if req.status != "open":
        who = await ctx.session.get(Member, req.answered_by) if req.answered_by else None
        at = req.answered_at.astimezone(ctx.tz).strftime("%H:%M %d/%m") if req.answered_at else ""
        await ctx.reply(texts.ALREADY_ANSWERED.format(code=code, who=address(who), at=at))
        return
    asker = await ctx.session.get(Member, req.member_pk) if req.member_pk else None
    req.status = "answered"
    req.answered_at = ctx.now
    req.answer = body[:MAX_TEXT]
    req.answered_by = ctx.member.id
    # A forward still held for the morning would ask a question already answered.
    await cancel_pending(ctx.session, "request", req.id, ("request",), "answered before sent")
    # "điều phối viên" only when it is one: the escalation chain may answer too (tell_woken).
    said = texts.ANSWER if ctx.is_coordinator else texts.ANSWER_WOKEN
    await ctx.say(
        req.chat_id,
        said.format(code=code, name=address(asker), answer=body, who=address(ctx.member)),
        kind="reply",
        key=f"request-answer:{req.id}",
        member_pk=req.member_pk,
        ref_type="request",
        ref_id=req.id,
    )
    await ctx.reply(texts.ANSWER_SENT.format(code=code, name=address(asker)))


@intent("command:traloi")
async def traloi(ctx: Context) -> None:
    """A coordinator's answer, or that of someone the question was forwarded to (tell_woken)."""
    args = ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else ""
    match = CODE_RE.match(args)
    if not ctx.is_coordinator and (match is None or not await _forwarded(ctx, int(match[1]))):
        await ctx.reply(
            core_texts.COORDINATOR_ONLY.format(name="traloi", **people_texts.you_words(ctx.member))
        )
        return
    if match is None:
        await ctx.reply(texts.USAGE_TRALOI)
        return
    request_id, body = int(match[1]), match[2].strip()
    req = await get_request(ctx.session, request_id, lock=True)
    if req is None:
        await ctx.reply(texts.NOT_FOUND.format(code=request_code(request_id)))
        return
    if not body:
        await ctx.reply(texts.EMPTY_ANSWER.format(code=request_code(request_id)))
        return
    await answer(ctx, req, body)


async def _forwarded(ctx: Context, request_id: int) -> bool:
    """Was request `request_id` forwarded to the sender (woken for its incident)?"""
    return await forwarded_to_member(ctx.session, request_id, ctx.member.id)


@hook(21, needs="quote")
async def quote_reply_answer(ctx: Context) -> bool:
    """A coordinator's quote-reply to a forwarded request is the answer; so is that of
    someone it was forwarded to as woken for its incident."""
    quoted = ctx.event.quote_message_id
    if not quoted or not ctx.text.strip():
        return False
    if ctx.parsed is not None and ctx.parsed.type == "command":
        return False  # /traloi YC3 ... quoting the forward is routed as the command
    row = await find_quoted(ctx.session, ctx.event.chat_id, quoted)
    if row is None or row.ref_type != "request" or row.ref_id is None:
        return False
    if not ctx.is_coordinator and (row.kind != "request" or row.member_pk != ctx.member.id):
        return False  # only the forward the bot sent him makes a member's reply an answer
    req = await get_request(ctx.session, row.ref_id, lock=True)
    if req is None:
        return False
    await answer(ctx, req, ctx.text.strip())
    return True


@intent("command:yeucau")
async def yeucau(ctx: Context) -> None:
    """Coordinators: every open request; a member: their own."""
    today = ctx.now.astimezone(ctx.tz).date()
    if not ctx.is_coordinator:
        mine = await open_requests(ctx.session, member_pk=ctx.member.id, limit=20)
        name = address(ctx.member)
        if not mine:
            await ctx.reply(texts.MINE_NONE.format(name=name[:1].upper() + name[1:]))
            return
        lines = [texts.MINE_HEADER.format(name=name)]
        for req, _m in mine:
            asked = req.asked_at.astimezone(ctx.tz).date()
            lines.append(
                texts.MINE_LINE.format(
                    code=request_code(req.id),
                    age=texts.age(asked, today, "hỏi", "chờ"),
                    text=texts.clip(req.text, 80),
                )
            )
        await ctx.reply("\n".join(lines))
        return
    rows = await open_requests(ctx.session, limit=30)
    if not rows:
        await ctx.reply(texts.OPEN_NONE)
        return
    lines = [texts.OPEN_HEADER.format(n=len(rows))]
    lines += [request_line(req, member, today, ctx) for req, member in rows]
    lines.append(texts.OPEN_FOOTER)
    await ctx.reply("\n".join(lines))


def request_line(req: MemberRequest, member: Member | None, today: date, ctx: Context) -> str:
    asked = req.asked_at.astimezone(ctx.tz).date()
    return texts.OPEN_LINE.format(
        code=request_code(req.id),
        who=address(member),
        enterprise=(member.enterprise if member else None) or texts.NO_ENTERPRISE,
        age=texts.age(asked, today, "hỏi", "chờ"),
        text=texts.clip(req.text, 80),
    )
