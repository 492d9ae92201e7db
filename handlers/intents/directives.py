"""Directives (/thongbao) that members must acknowledge, and their acknowledgements."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from handlers.calendar import next_polite_time
from handlers.chat import chat_reply
from handlers.codes import directive_code
from handlers.context import Context
from handlers.councils import own
from handlers.intents.checkins import NOW_MINUTES, check_in, checked_in, scheduled
from handlers.intents.incidents.alerts import is_held
from handlers.intents.incidents.status import may_manage
from handlers.intents.incidents.understanding import SV_RE, TAKE_OVER, folded_words, has_phrase
from handlers.leave import on_leave_for
from handlers.parse import parse
from handlers.registry import hook, intent
from handlers.text import fold, normalize
from handlers.texts import core as core_texts
from handlers.texts import engagement as texts
from handlers.texts import incidents as incident_texts
from handlers.texts.people import address, capitalized, labels, register_of, title_of, you_words
from models.engagement import ackers, addressed_directive, expected_ackers, open_directive_for
from models.incidents import reports_of, unacknowledged_urgent
from models.inserts import insert_new
from models.outbox import find_quoted
from models.scoping import role_here
from models.tables import Ack, Directive, DirectiveTarget, Group, Member, Outbox

CODE = re.compile(r"^\s*(?:#|tb)?\s*(\d{1,9})\b", re.IGNORECASE)


code = directive_code


def fmt_time(ctx: Context, at: datetime) -> str:
    return at.astimezone(ctx.tz).strftime("%H:%M %d/%m")


async def _target_groups(ctx: Context, args: str) -> tuple[list[Group], str] | str:
    """Groups named in a leading [a, b] list, else this group, else every configured group."""
    groups = list(
        (
            await ctx.session.execute(
                select(Group)
                .where(Group.kind != "private", *own(Group, ctx.settings))
                .order_by(Group.id)
            )
        ).scalars()
    )
    match = re.match(r"\s*\[([^\]]*)\]\s*(.*)", args, flags=re.DOTALL)
    if match:
        chosen: list[Group] = []
        for name in (n.strip() for n in match[1].split(",") if n.strip()):
            key = fold(name).lower()
            hits = [g for g in groups if g.chat_id == name or fold(g.name).lower().startswith(key)]
            if not hits:
                return texts.DIRECTIVE_UNKNOWN_GROUP.format(
                    name=name, groups=", ".join(g.name for g in groups) or "-"
                )
            chosen.extend(h for h in hits if h not in chosen)
        return chosen, match[2].strip()
    if not ctx.is_private:
        return [ctx.group], args.strip()
    return groups, args.strip()


@intent("command:thongbao")
async def issue_directive(ctx: Context) -> None:
    """A coordinator's directive is posted to the groups with a request to acknowledge."""
    if not ctx.is_coordinator:
        await ctx.reply(
            core_texts.COORDINATOR_ONLY.format(name="thongbao", **you_words(ctx.member))
        )
        return
    await post_directive(ctx, ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else "")


# How coordinators post without a command: "Thông báo: ...", "TB: ...", "thong bao khan:"
# opening the message (after the @mention), a colon or a line break after it. Matched on the
# folded, lower-cased copy, whose length is the text's (handlers/text.normalize).
OPENER_RE = re.compile(r"\s*(?:thong\s+bao(?:\s+khan)?|tb)[ \t]*(?::|\n)")


def opened_notice(text: str) -> str | None:
    """The words after a notice opener at the start of `text`; None without one (or none)."""
    n = normalize(text)
    m = OPENER_RE.match(n.lower_folded)
    rest = n.text[m.end() :].strip() if m else ""
    return rest or None


@hook(7)
async def notice_opener(ctx: Context) -> bool:
    """A coordinator's "Thông báo: ..." in a group is posted as /thongbao posts it; in private
    (perhaps a forwarded text) it is not sent to every group: he is told how to send one."""
    if not ctx.is_coordinator:
        return False
    rest = opened_notice(ctx.text)
    if rest is None:
        return False
    if ctx.is_private:
        await ctx.reply(texts.DIRECTIVE_HOW.format(you=title_of(ctx.member)))
    else:
        # "TB: chiều nay 16h …" is posted as a notice's first line: "Chiều nay 16h …".
        await post_directive(ctx, rest[:1].upper() + rest[1:])
    return True


async def post_directive(ctx: Context, args: str) -> None:
    """Post `args` ("[group, ...] text") as a directive; no text: the open ones' tally."""
    if not args.strip():
        await ctx.reply(await directive_status(ctx))
        return
    target = await _target_groups(ctx, args)
    if isinstance(target, str):
        await ctx.reply(target)
        return
    groups, text = target
    if not text:
        await ctx.reply(texts.DIRECTIVE_NO_TEXT.format(You=capitalized(title_of(ctx.member))))
        return
    if not groups:
        await ctx.reply(texts.DIRECTIVE_NO_GROUP)
        return
    now = ctx.now
    deadline = now + timedelta(hours=ctx.settings.engagement.directive_deadline_hours)
    directive = Directive(
        issued_by=ctx.member.id,
        origin_chat_id=ctx.event.chat_id,
        text=text,
        created_at=now,
        deadline_at=deadline,
        status="open",
    )
    ctx.session.add(directive)
    await ctx.session.flush()
    for g in groups:
        ctx.session.add(DirectiveTarget(directive_pk=directive.id, chat_id=g.chat_id))
    await ctx.session.flush()
    for g in groups:
        body = texts.DIRECTIVE_POST.format(
            code=code(directive.id),
            text=text,
            id=directive.id,
            deadline=fmt_time(ctx, deadline),
            ask=register_of(g.kind).ask,
        )
        await ctx.say(
            g.chat_id,
            body,
            kind="directive",
            key=f"directive:{directive.id}:{g.chat_id}",
            ref_type="directive",
            ref_id=directive.id,
        )
    owing = await expected_ackers(ctx.session, directive.id)
    away = await on_leave_for(ctx.session, ctx.settings, directive, owing)
    await ctx.reply(
        texts.DIRECTIVE_SENT.format(
            code=code(directive.id),
            groups=", ".join(g.name for g in groups),
            expected=len(owing) - len(away),
            note=texts.tally_note(0, len(owing) - len(away), len(away), rate=False),
            deadline=fmt_time(ctx, deadline),
        )
    )


async def directive_status(ctx: Context) -> str:
    """Open directives with who has and has not acknowledged (for coordinators)."""
    rows = list(
        (
            await ctx.session.execute(
                select(Directive)
                .where(Directive.status == "open")
                .order_by(Directive.id.desc())
                .limit(5)
            )
        ).scalars()
    )
    if not rows:
        return texts.DIRECTIVE_STATUS_NONE
    lines = []
    for d in rows:
        expected = await expected_ackers(ctx.session, d.id)
        done = await ackers(ctx.session, d.id)
        owing = [m for m in expected if m.id not in done]
        away = await on_leave_for(ctx.session, ctx.settings, d, owing)
        missing = labels([m for m in owing if m.id not in away], among=expected)
        acked = len(expected) - len(owing)
        line = texts.DIRECTIVE_STATUS_LINE.format(
            code=code(d.id),
            created=fmt_time(ctx, d.created_at),
            acked=acked,
            expected=len(expected) - len(away),
            note=texts.tally_note(acked, len(expected) - len(away), len(away), rate=False),
            missing=", ".join(missing[:15]) + (" …" if len(missing) > 15 else "") or "không",
        )
        on_leave = [m for m in owing if m.id in away]
        if on_leave:
            line += texts.DIRECTIVE_STATUS_LEAVE.format(
                people=", ".join(labels(on_leave, among=expected))
            )
        lines.append(line)
    return "\n".join(lines)


async def record_ack(ctx: Context, directive: Directive, *, quiet: bool = False) -> bool:
    """Store the member's acknowledgement once; True if it is new.

    After the deadline it is still recorded (late: the acks export says so) and thanked;
    a reminder still waiting for this member is withdrawn. A cancelled directive is owed
    by nobody: the member is told so and nothing is recorded. Nor is anything recorded for a
    coordinator or an admin, who owe none.
    """
    if role_here(ctx.member) != "member":
        # Coordinators and admins owe no acknowledgement (however they answer: a quote-reply
        # too): their "đã nhận" is conversation, and in a group needs no answer.
        if ctx.is_private and not quiet:
            await ctx.reply(texts.ACK_NOTHING.format(you=title_of(ctx.member)))
        return False
    if directive.status == "cancelled":
        if not quiet:
            await chat_reply(
                ctx, texts.ACK_CANCELLED.format(code=code(directive.id), name=address(ctx.member))
            )
        return False
    row = {
        "directive_pk": directive.id,
        "member_pk": ctx.member.id,
        "message_pk": ctx.message.id if ctx.message else None,
        "chat_id": ctx.event.chat_id,
        "at": ctx.event.sent_at,
    }
    new = await insert_new(
        ctx.session, Ack, [row], conflict=["directive_pk", "member_pk"], returning=["id"]
    )
    is_new = bool(new)
    if is_new:
        await ctx.session.execute(
            update(Outbox)
            .where(
                Outbox.ref_type == "directive",
                Outbox.ref_id == directive.id,
                Outbox.kind == "reminder",
                Outbox.member_pk == ctx.member.id,
                Outbox.status == "pending",
            )
            .values(status="cancelled", last_error="acknowledged before sending")
        )
    if not quiet:
        late = directive.status != "open" or ctx.event.sent_at > directive.deadline_at
        template = (core_texts.ACK_LATE if late else texts.ACK_OK) if is_new else texts.ACK_ALREADY
        name, you = address(ctx.member), title_of(ctx.member)
        await chat_reply(
            ctx, template.format(name=name, code=code(directive.id), you=you, You=capitalized(you))
        )
    return is_new


@intent("command:danhan")
async def ack_command(ctx: Context) -> None:
    """/danhan N: N's acknowledgement, late if N has closed; /danhan alone: as "đã nhận"."""
    args = ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else ""
    match = CODE.match(args)
    if match:
        directive = await ctx.session.get(Directive, int(match[1]))
        if directive is None:
            await ctx.reply(texts.ACK_UNKNOWN.format(code=f"TB{match[1]}"))
            return
        if directive.status == "cancelled":
            await record_ack(ctx, directive)  # says it was cancelled, records nothing
            return
        if await addressed_directive(ctx.session, ctx.member, directive.id) is None:
            await ctx.reply(core_texts.ACK_NOT_ADDRESSED.format(code=code(directive.id)))
            return
        await record_ack(ctx, directive)
        return
    await ack_message(ctx)


@intent("ack")
async def ack_message(ctx: Context) -> None:
    """'đã nhận' privately, or @bot 'đã nhận' in a group: the latest open directive, else
    the latest one (closed) the member still owes: a late acknowledgement."""
    if takes_incident(ctx.text):
        # "nhận xử lý (SV3)" is about an incident, never a directive's acknowledgement.
        if ctx.is_private and not may_manage(ctx.settings, ctx.member):
            you = title_of(ctx.member)
            await ctx.reply(incident_texts.UPDATES_FOR_COORDINATORS.format(you=you))
        return
    here = present_now(ctx)
    if role_here(ctx.member) != "member":
        # Coordinators and admins owe no acknowledgement: their "ok" is conversation.
        if here is not None:
            await check_in(here)
        elif ctx.is_private:
            await ctx.reply(await _coordinator_ok(ctx))
        return
    chat = None if ctx.is_private else ctx.event.chat_id
    directive = await open_directive_for(ctx.session, ctx.member, ctx.now, chat)
    if directive is None:
        directive = await addressed_directive(ctx.session, ctx.member)
    if directive is None:
        if here is not None:
            await check_in(here)
        elif ctx.is_private:
            await ctx.reply(texts.ACK_NOTHING.format(you=title_of(ctx.member)))
        return
    await record_ack(ctx, directive)
    if here is not None:
        await checked_in(here, answered=True)  # a repeat needs no word: the ack was answered
    await ask_too(ctx)


# "e chua doc thong bao, thong bao gi vay a", "thông báo nào vậy anh", "em chưa thấy tin thông
# báo": a member asking which notice, or saying he has not seen it (folded).
WHICH_NOTICE_RE = re.compile(
    r"\b(?:thong bao|tb)\b[^.?!]*\b(?:gi|nao)\b"
    r"|\bchua (?:doc|xem|thay|doc duoc|xem duoc)\b[^.?!]*\b(?:thong bao|tb|tin)\b"
)
# A document he cannot open or did not get is the coordinator's to resend (a request).
DOCUMENT_WORDS = re.compile(r"\b(?:cong van|van ban|file|dinh kem|tai lieu|ban scan)\b")


async def resend_owed_notice(ctx: Context) -> bool:
    """A member who owes a notice and asks which one it is ("thông báo gì vậy anh") hears it
    again with how to acknowledge it, instead of a question passed to a coordinator."""
    if role_here(ctx.member) != "member":
        return False
    words = folded_words(ctx.text)
    if WHICH_NOTICE_RE.search(words) is None or DOCUMENT_WORDS.search(words):
        return False
    directive = await open_directive_for(ctx.session, ctx.member, ctx.now, None)
    if directive is None:
        return False
    issuer = await ctx.session.get(Member, directive.issued_by) if directive.issued_by else None
    sent = directive.created_at.astimezone(ctx.tz).strftime("%H:%M %d/%m")
    await ctx.reply(
        texts.NOTICE_AGAIN.format(
            code=directive_code(directive.id),
            who=f"{address(issuer)} gửi " if issuer is not None else "",
            at=sent,
            text=directive.text,
            id=directive.id,
            deadline=directive.deadline_at.astimezone(ctx.tz).strftime("%H:%M %d/%m"),
            you=title_of(ctx.member),
        ),
        ref_type="directive",
        ref_id=directive.id,
    )
    return True


async def _coordinator_ok(ctx: Context) -> str:
    """A coordinator's "ok em, viết biên bản sáng mai gửi anh" in private owes nothing. While
    an urgent incident waits for someone to take it, it is most likely his answer to its
    alert, written as if to the reporter: how to take it, and that nobody got his words."""
    you = title_of(ctx.member)
    waiting = [i for i in await unacknowledged_urgent(ctx.session) if not is_held(i)]
    if not waiting:
        return texts.ACK_NOTHING.format(you=you)
    said = addressed_to_someone(ctx.text)
    if len(waiting) > 1:
        codes = ", ".join(incident_texts.incident_code(i.id) for i in waiting[:10])
        answer = incident_texts.WHICH_INCIDENT.format(
            n=len(waiting), codes=codes, **incident_texts.addressed(you)
        )
    else:
        incident = waiting[0]
        reports = await reports_of(ctx.session, incident.id)
        places = incident_texts.places_text(reports[0].places) if reports else ""
        answer = incident_texts.TAKE_HOW.format(
            code=incident_texts.incident_code(incident.id),
            category=incident_texts.category_name(incident.category),
            where=f" tại {places}" if places else "",
            **incident_texts.addressed(you),
        )
    return f"{answer} {incident_texts.NOT_PASSED_ON}" if said else answer


def addressed_to_someone(text: str) -> bool:
    """More than an "ok": words meant for someone ("ok em, viết biên bản gửi anh")."""
    return len(folded_words(text).split()) >= 4


def present_now(ctx: Context) -> Context | None:
    """ "đã có mặt, đã nhận thông báo": read as an acknowledgement as a whole, yet one clause
    says the member is here now. The context of that clause read alone, to record the
    check-in too; None when no clause does, or only at another time ("7h tối em có mặt",
    "tuần này em trực ca đêm")."""
    clauses = [c.strip() for c in CLAUSE_END.split(ctx.text)]
    if len(clauses) < 2:
        return None
    for clause in clauses:
        parsed = parse(clause, ctx.event.sent_at, ctx.tz) if clause else None
        if parsed is None or parsed.type != "check_in" or elsewhen(ctx, parsed.time):
            continue
        if not scheduled(clause, ctx.event.sent_at, ctx.tz):  # "tuần này em trực ca đêm"
            return replace(ctx, parsed=parsed)
    return None


def elsewhen(ctx: Context, when: datetime | date | None) -> bool:
    """A stated time other than now: a clock time more than NOW_MINUTES away, another day."""
    if isinstance(when, datetime):
        return abs(when - ctx.event.sent_at) > timedelta(minutes=NOW_MINUTES)
    if isinstance(when, date):
        return when != ctx.event.sent_at.astimezone(ctx.tz).date()
    return False


THANKS = ("cam on", "thank", "tks", "thanks")


def takes_incident(text: str) -> bool:
    """ "nhận xử lý", "đã nhận SV3": words about an incident (handlers/intents/incidents)."""
    return has_phrase(folded_words(text), TAKE_OVER) or SV_RE.search(text) is not None


def is_thanks(text: str) -> bool:
    """ "cảm ơn", "cám ơn bot", "thanks": politeness, not an acknowledgement."""
    folded = " ".join(fold(text).lower().replace("cám", "cam").split())
    return folded.startswith(THANKS)


# Where a reply's first clause ends: "Nhận rồi nhưng ...", "đã nhận, cho em hỏi ...".
CLAUSE_END = re.compile(r"[,.;!?\n]|\s(?:nhưng|nhung|mà)\s", re.IGNORECASE)


def first_clause(text: str) -> tuple[str, str]:
    """The text up to its first clause break, and the rest ("" when there is none)."""
    match = CLAUSE_END.search(text)
    if match is None:
        return text, ""
    return text[: match.start()], text[match.end() :].strip()


def opens_with_ack(ctx: Context) -> bool:
    """ "Nhận rồi nhưng xưởng 2 ở đâu vậy": read whole as a question, yet its first clause
    acknowledges (the parser reads the clause alone)."""
    head, rest = first_clause(ctx.text)
    return bool(rest) and parse(head, ctx.event.sent_at, ctx.tz).type == "ack"


def asks_after_ack(ctx: Context) -> bool:
    """A question follows the acknowledgement: a "?", or a clause after it that reads as
    one ("đã nhận, cho em hỏi mấy giờ tập trung": phones drop question marks)."""
    if "?" in ctx.text:
        return True
    _head, rest = first_clause(ctx.text)
    return bool(rest) and parse(rest, ctx.event.sent_at, ctx.tz).type == "question"


@hook(20, needs="quote")
async def reply_to_directive(ctx: Context) -> bool:
    """A quote-reply to the bot's directive acknowledges it, unless it says otherwise."""
    quoted = ctx.event.quote_message_id
    if not quoted:
        return False
    row = await find_quoted(ctx.session, ctx.event.chat_id, quoted)
    if row is None or row.ref_type != "directive" or row.ref_id is None:
        return False
    parsed = ctx.parsed
    if parsed is not None and parsed.type == "question" and opens_with_ack(ctx):
        if role_here(ctx.member) != "member":
            return False  # coordinators owe nothing; their question is routed as before
        directive = await ctx.session.get(Directive, row.ref_id)
        if directive is None:
            return False
        await ack_and_ask(ctx, directive)
        return True
    if parsed is not None and parsed.type in ("not_ack", "question", "incident", "command"):
        return False  # a question or a report in reply is routed as what it is
    if (parsed is None or parsed.type != "ack") and is_thanks(ctx.text):
        return True  # "cảm ơn" under a directive acknowledges nothing, and needs no answer
    directive = await ctx.session.get(Directive, row.ref_id)
    if directive is None:
        return False
    author = await _author_to_tell(ctx, directive)
    if author is not None and says_something(ctx):
        await ack_and_pass_on(ctx, directive, author)
        return True
    await record_ack(ctx, directive)
    await ask_too(ctx)
    return True


# Words (folded) that carry no content in a reply ("dạ em biết rồi ạ"): it only acknowledges.
FILLERS = frozenset(
    ("a", "ah", "da", "vang", "ok", "oke", "okay", "em", "e", "roi", "biet", "nhe", "nha")
)
CONTENT_WORDS = 3
REPLY_LIMIT = 600  # a reply passed on is read whole; only a pasted wall of text is cut


def says_something(ctx: Context) -> bool:
    """A reply the author must read: "em không đi được vì trực ca" (an absence), "bên em chỉ
    cử được 1 người thôi ạ" (a few words of content); not "dạ em biết rồi", not "ok"."""
    kind = ctx.parsed.type if ctx.parsed is not None else None
    if kind == "absent":
        return True
    if kind not in (None, "other"):
        return False
    words = [w for w in folded_words(ctx.text).split() if w not in FILLERS]
    return len(words) >= CONTENT_WORDS


async def _author_to_tell(ctx: Context, directive: Directive) -> Member | None:
    """The directive's author when a member's reply can reach them privately, else None."""
    if role_here(ctx.member) != "member" or directive.status == "cancelled":
        return None
    author = await ctx.session.get(Member, directive.issued_by) if directive.issued_by else None
    return author if author is not None and author.private_chat_id else None


async def ack_and_pass_on(ctx: Context, directive: Directive, author: Member) -> None:
    """The reply acknowledges the directive (the member has read it) and goes to its author
    word for word, as the member is told (docs/acks-and-budget.md)."""
    is_new = await record_ack(ctx, directive, quiet=True)
    m = ctx.member
    details = ", ".join(x for x in (m.enterprise, m.phone) if x)
    where = "" if ctx.is_private else texts.REPLY_WHERE_GROUP.format(group=ctx.group.name or "?")
    await ctx.say(
        author.private_chat_id or directive.origin_chat_id,
        texts.DIRECTIVE_REPLY.format(
            who=f"{address(m)} ({details})" if details else address(m),
            code=code(directive.id),
            where=where,
            text=texts.quoted(ctx.text, REPLY_LIMIT),
        ),
        ref_type="directive",
        ref_id=directive.id,
        not_before=next_polite_time(ctx.settings, ctx.now),  # it can wait for the morning
    )
    you = title_of(m)
    template = texts.ACK_PASSED_ON if is_new else texts.REPLY_PASSED_ON
    await chat_reply(
        ctx,
        template.format(name=address(m), code=code(directive.id), you=you, author=address(author)),
    )


async def ack_before_question(ctx: Context) -> bool:
    """A question that opens with an acknowledgement ("nhận rồi nhưng xưởng 2 ở đâu vậy",
    privately or to @Bot): the directive the member owes is acknowledged, and the question
    still goes on as a request. False (nothing done) when there is no such opening or
    nothing is owed: the question is handled as before."""
    directive = await owed_and_acked_first(ctx)
    if directive is None:
        return False
    await ack_and_ask(ctx, directive)
    return True


async def owed_and_acked_first(ctx: Context) -> Directive | None:
    """The directive the member owes, when the message's first clause acknowledges it and
    more follows ("em nhận được rồi ạ, nhưng …"); else None."""
    if role_here(ctx.member) != "member" or not opens_with_ack(ctx):
        return None
    chat = None if ctx.is_private else ctx.event.chat_id
    directive = await open_directive_for(ctx.session, ctx.member, ctx.now, chat)
    if directive is None:
        directive = await addressed_directive(ctx.session, ctx.member)
    return directive


async def ack_opening(ctx: Context) -> str | None:
    """ "em nhận được rồi ạ, nhưng em xin vắng vì đang trực": the opening acknowledges the
    directive owed (recorded here, quietly); returns the line that says so, or None."""
    directive = await owed_and_acked_first(ctx)
    if directive is None or directive.status == "cancelled":
        return None
    await record_ack(ctx, directive, quiet=True)
    return texts.ACK_NOTED.format(name=address(ctx.member), code=code(directive.id))


async def ack_and_ask(ctx: Context, directive: Directive) -> None:
    """Acknowledge `directive`, and pass the message on to the coordinators as a request:
    it was read as a question as a whole, whatever its clauses say."""
    from handlers.intents.requests import open_request  # requests imports this module

    await record_ack(ctx, directive)
    await open_request(ctx)


async def ask_too(ctx: Context) -> None:
    """ "em nhận ạ, mà hạn báo cáo là khi nào ạ?": the acknowledgement is recorded, and the
    question goes to the coordinators like any other (it used to be dropped)."""
    if role_here(ctx.member) != "member" or not asks_after_ack(ctx):
        return
    from handlers.intents.requests import open_request  # requests imports this module

    await open_request(ctx)
