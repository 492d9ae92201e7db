"""Status: taking, handling, closing and false alarms, by quote-reply, by words or by command."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import select

from handlers.config import Settings
from handlers.context import Context
from handlers.intents.incidents.alerts import tell_alerted, tell_handler
from handlers.intents.incidents.understanding import (
    REPLY_ACTIONS,
    SV_RE,
    TAKE_OVER,
    folded_words,
    has_phrase,
    name_of,
    place_keys,
)
from handlers.registry import hook
from handlers.texts import incidents as texts
from handlers.texts.people import title_of
from models.incidents import (
    CLOSED,
    add_event,
    alerted_chats,
    doubts_for_reports,
    get_incident,
    reports_of,
    split_key,
    unacknowledged_urgent,
)
from models.outbox import cancel_pending, enqueue, find_quoted
from models.people import DEFAULT_TITLE
from models.scoping import role_here
from models.tables import Incident, Member, Report


def may_manage(settings: Settings, member: Member, incident: Incident | None = None) -> bool:
    """Coordinators, people in the escalation chain, and whoever took the incident."""
    return (
        role_here(member) in ("coordinator", "admin")
        or (
            member.member_id is not None
            and (
                member.member_id in settings.coordinators
                or member.member_id in settings.alerts.escalation_chain
            )
        )
        or (incident is not None and incident.handler_pk == member.id)
    )


async def set_status(ctx: Context, incident: Incident, status: str, note: str = "") -> str:
    """Move an incident along reported -> acknowledged -> handling -> resolved | settled |
    false_alarm.

    Records the step, stops escalation, tells reporters and the other alerted chats;
    returns the answer for the person who asked. Settled: the alerted read the sender's
    words (`note`), not a verdict the sender did not give.
    """
    s, now, actor = ctx.session, ctx.now, ctx.member
    code, you = texts.incident_code(incident.id), title_of(actor)
    if incident.status in CLOSED:
        return texts.ALREADY_CLOSED.format(code=code, status=texts.STATUS[incident.status])
    if status == "acknowledged" and incident.status != "reported":
        handler = await s.get(Member, incident.handler_pk) if incident.handler_pk else None
        if handler is not None and handler.id != actor.id:
            return texts.ALREADY_TAKEN.format(code=code, who=name_of(handler), you=you)
        return texts.STATUS_CHANGED["acknowledged"].format(who=name_of(actor), code=code, you=you)
    first_take = incident.status == "reported"
    # Whoever takes it, or closes it as handled, is its handler. A false alarm or an "it is
    # fine" closed before anyone took it was handled by nobody: the reporter who withdrew it
    # is no "Người xử lý" in the digest and its sheet (the timeline keeps who closed it).
    if status in ("acknowledged", "handling") or (
        incident.handler_pk is None and status == "resolved"
    ):
        incident.handler_pk = actor.id
    incident.acknowledged_at = incident.acknowledged_at or now
    incident.next_escalation_at = None
    incident.status = status
    if status in CLOSED:
        incident.resolved_at = now
        # A reminder held for the morning must not say "still open" about a closed incident.
        await cancel_pending(
            s,
            "incident",
            incident.id,
            ("alert", "reminder"),
            f"incident {status} before it was sent",
        )
    add_event(s, incident, status, now, actor.id, note)
    who = name_of(actor)
    here = {ctx.event.chat_id}
    if actor.private_chat_id:
        here.add(actor.private_chat_id)
    # Reporters hear about every step once, in the chat they reported from.
    category = texts.category_name(incident.category)
    by_chat: dict[str, list[Report]] = {}
    for r in await reports_of(s, incident.id):
        by_chat.setdefault(r.chat_id, []).append(r)
    for chat, reports_here in by_chat.items():
        if chat in here:
            continue
        reporters = await reporters_title(ctx, reports_here)
        await enqueue(
            s,
            chat_id=chat,
            kind="reply",
            now=now,
            ref_type="incident",
            ref_id=incident.id,
            key=f"incident-status:{incident.id}:{status}:{chat}",
            text=_to_reporters(status, note).format(
                code=code, category=category, who=who, you=reporters, words=clipped(note)
            ),
        )
    # The alerted hear the first take and the end: closed as handled too, or they would
    # think it still under way ("đã nhận xử lý" was the last they read).
    if first_take or status in ("false_alarm", "settled", "resolved"):
        what = status if status in ("false_alarm", "settled", "resolved") else "acknowledged"
        told = texts.TO_ALERTED[what].format(code=code, who=who)
        # Only "báo nhầm" is passed on as "báo nhầm"; other words are quoted as they were.
        if (what == "settled" and note.strip()) or (what == "false_alarm" and _own_verdict(note)):
            told = texts.SETTLED_IN_WORDS.format(code=code, who=who, words=clipped(note))
        elif what == "resolved" and note.strip():
            told = texts.RESOLVED_TO_ALERTED.format(code=code, who=who, words=clipped(note))
        reached = await tell_alerted(s, now, incident, what, told, here)
        if what != "acknowledged":
            # A theft never alerted, taken with /xuly: the one handling it hears it is over.
            await tell_handler(s, now, incident, actor.id, what, told, here | set(reached))
    if status in CLOSED:
        reports = await reports_of(s, incident.id)
        for conv in await doubts_for_reports(s, [r.id for r in reports]):
            conv.status = "done"
    return texts.STATUS_CHANGED[status].format(who=who, code=code, you=you)


def _no_fire(note: str) -> bool:
    """The words say it was no fire ("... không phải cháy") without calling it "báo nhầm"."""
    words = folded_words(note)
    return not says_mistaken(note) and any(has_phrase(words, p) for p in SAYS_NO_FIRE)


def _own_verdict(note: str) -> bool:
    """A false alarm said in other words than "báo nhầm" ("không phải cháy", "tìm thấy xe,
    do công nhân khác dắt nhầm"): passed on as said."""
    return _no_fire(note) or (not says_mistaken(note) and says_found(note))


# The thing missing is found ("đã tìm thấy xe", "xe đã tìm được", "tim thay roi"), folded.
FOUND_RE = re.compile(r"\btim (?:thay|duoc|ra)\b")
# ... unless not yet ("vẫn chưa tìm thấy") or what was found is the thief, not the thing.
NOT_FOUND_BEFORE = frozenset({"chua", "khong", "ko", "k", "kg", "hok", "chang"})
THIEF_RE = re.compile(
    r"\b(?:doi tuong|ke trom|ke gian|ten trom|thang trom|bon trom|nghi pham|thu pham)\b"
)
# Taken by mistake ("dắt nhầm", "lấy nhầm", "nhầm xe"): nothing was stolen.
MISTAKE_RE = re.compile(r"\bnham\b")


def says_found(text: str) -> bool:
    """ "đã tìm thấy xe, do công nhân khác dắt nhầm": what was reported missing is found."""
    if text.lstrip().startswith(("/", "#")):
        return False
    words = folded_words(text)
    if len(words.split()) > MOST_WORDS_NO_FIRE or THIEF_RE.search(words):
        return False
    for m in FOUND_RE.finditer(words):
        before = words[: m.start()].split()
        if not before or before[-1] not in NOT_FOUND_BEFORE:
            return True
    return False


# Words that only say it is done ("đã xử lý xong rồi nhé"): no note worth passing on.
CLOSING_WORDS = frozenset(
    w for phrase in dict(REPLY_ACTIONS)["resolved"] for w in phrase.split()
) | {"roi", "nhe", "nha", "a", "ha", "sv", "dong", "ket", "thuc"}


def _to_reporters(status: str, note: str) -> str:
    """What the reporters hear of a step: a close carries the note it came with
    ("/xong SV1 đã hòa giải"), unless the note only says it is done."""
    if status == "resolved" and _has_note(note):
        return texts.RESOLVED_IN_WORDS
    return texts.TO_REPORTERS[status]


def _has_note(note: str) -> bool:
    """More than "xong", "đã xử lý xong rồi" (and an SV code) in the words."""
    words = [w for w in folded_words(SV_RE.sub(" ", note)).split() if not w.isdigit()]
    return len([w for w in words if w not in CLOSING_WORDS]) >= 2


async def reporters_title(ctx: Context, reports: list[Report]) -> str:
    """How the reporters of these reports (one chat's) are addressed: by their title when
    they share one ("chị"), else "anh/chị"."""
    titles = set()
    for r in reports:
        member = await ctx.session.get(Member, r.member_pk) if r.member_pk else None
        titles.add(title_of(member) if member is not None else DEFAULT_TITLE)
    return titles.pop() if len(titles) == 1 else DEFAULT_TITLE


def reply_action(text: str) -> str | None:
    words = folded_words(text)
    for status, phrases in REPLY_ACTIONS:
        if any(has_phrase(words, p) for p in phrases):
            return status
    return None


@hook(20, needs="quote")
async def alert_reply(ctx: Context) -> bool:
    """A quote-reply to one of the bot's alerts: acknowledge, or change the status it names."""
    quoted_id = ctx.event.quote_message_id
    if not quoted_id:
        return False
    row = await find_quoted(ctx.session, ctx.event.chat_id, quoted_id)
    if row is not None and row.ref_type == "report" and row.ref_id is not None:
        return await receipt_take_over(ctx, row.ref_id)
    if row is None or row.ref_type != "incident" or row.ref_id is None or row.kind != "alert":
        return False
    incident = await get_incident(ctx.session, row.ref_id, lock=True)
    if incident is None:
        return False
    action = reply_action(ctx.text)
    if action is None and ctx.parsed is not None and ctx.parsed.type == "ack":
        action = "acknowledged"
    manager = may_manage(ctx.settings, ctx.member, incident)
    if not manager and action != "acknowledged":
        return False  # someone else's remark in the coordinators' chat: routed as usual
    if action is None and says_false_alarm(ctx.text) and not asks(ctx):
        # "không sao" from whoever may manage it: it is fine, nobody needs to go (not "I'm on
        # it"); closed as settled, and the alerted read the words themselves.
        action = closing_status(ctx.text)
    if action is None:
        # Any other reply from a coordinator to an alert means they have it in hand.
        action = "acknowledged"
    await ctx.reply(await set_status(ctx, incident, action, ctx.text))
    return True


def asks(ctx: Context) -> bool:
    """A question ("không sao chứ?") asks about the event; it says nothing of its end."""
    return "?" in ctx.text or (ctx.parsed is not None and ctx.parsed.type == "question")


async def receipt_take_over(ctx: Context, report_id: int) -> bool:
    """ "nhận xử lý" quoting the bot's receipt of a report (in the group it was reported in):
    someone who may manage the incident takes it. Anything else is routed as usual."""
    words = folded_words(ctx.text)
    if not has_phrase(words, TAKE_OVER) and reply_action(ctx.text) != "handling":
        return False
    report = await ctx.session.get(Report, report_id)
    if report is None or report.incident_pk is None:
        return False
    incident = await get_incident(ctx.session, report.incident_pk, lock=True)
    if incident is None or not may_manage(ctx.settings, ctx.member, incident):
        return False
    action = "handling" if reply_action(ctx.text) == "handling" else "acknowledged"
    await ctx.reply(await set_status(ctx, incident, action, ctx.text))
    return True


@hook(22, needs="private_unquoted")
async def private_take_over(ctx: Context) -> bool:
    """ "nhận xử lý" in private (no quote): takes the one urgent incident nobody has taken."""
    if not ctx.is_private or ctx.event.quote_message_id or not ctx.text.strip():
        return False
    words = folded_words(ctx.text)
    if not has_phrase(words, TAKE_OVER) or len(words.split()) > 8:
        return False
    if not may_manage(ctx.settings, ctx.member):
        return False
    named = SV_RE.search(ctx.text)
    if named:
        incident = await get_incident(ctx.session, int(named.group(1)), lock=True)
        if incident is None:
            await ctx.reply(texts.NOT_FOUND.format(code=f"SV{named.group(1)}"))
            return True
    else:
        waiting = await unacknowledged_urgent(ctx.session)
        if not waiting:
            return False
        if len(waiting) > 1:
            codes = ", ".join(texts.incident_code(i.id) for i in waiting[:10])
            you = texts.addressed(title_of(ctx.member))
            await ctx.reply(texts.WHICH_INCIDENT.format(n=len(waiting), codes=codes, **you))
            return True
        incident = waiting[0]
    await ctx.reply(await set_status(ctx, incident, "acknowledged", ctx.text))
    return True


# Closing an incident by its code in free text, folded: "đóng SV1", "kết thúc SV1" ("SV1 xong
# rồi", "sv1 da xu ly xong" say "xong": `reply_action`).
CLOSE_NAMED_RE = re.compile(r"\b(?:dong|ket thuc)\s+(?:su viec\s+)?sv\s*-?\s*\d+\b")
# "xong" about the code: the message opens with it ("SV1 xong rồi", "sv1 da xu ly xong") or
# it follows "xong" ("đã xử lý xong SV1"); "kiểm tra xong báo lại SV1" is an order, not a close.
DONE_NAMED_RE = re.compile(
    r"^(?:su viec\s+)?sv\s*-?\s*\d+\b|\bxong\s+(?:su viec\s+)?sv\s*-?\s*\d+\b"
)
# "đóng SV1, công nhân đã vào làm lại": the words after the closing part are the note.
NOTE_AFTER_RE = re.compile(r"^([^,.;:!\n]{1,40})[,.;:!\n]+\s*(.+)$", re.DOTALL)
MOST_WORDS_CLOSING_PART = 5


@hook(22)
async def named_close(ctx: Context) -> bool:
    """ "đóng SV1, công nhân đã vào làm lại bình thường", "SV1 xong rồi", "kết thúc SV1" from a
    coordinator or SV1's handler: closes SV1 as `/xong SV1 <note>` does, whatever incident he
    is handling (his progress on that one comes later, hook 23)."""
    text = ctx.text
    if text.lstrip().startswith(("/", "#")) or asks(ctx) or says_false_alarm(text):
        return False
    codes = {int(n) for n in SV_RE.findall(text)}
    if len(codes) != 1:
        return False
    words = folded_words(text)
    done = (
        has_phrase(words, "xong")
        and reply_action(text) == "resolved"
        and DONE_NAMED_RE.search(words) is not None
    )
    if not (done or CLOSE_NAMED_RE.search(words)):
        return False
    incident = await get_incident(ctx.session, codes.pop(), lock=True)
    if incident is None or not may_manage(ctx.settings, ctx.member, incident):
        return False
    await ctx.reply(await set_status(ctx, incident, "resolved", closing_note(text)))
    return True


def closing_note(text: str) -> str:
    """What a close in free text says beyond closing: the words after "đóng SV1," (as the
    note of `/xong SV1 <note>`); the whole text when nothing follows."""
    m = NOTE_AFTER_RE.match(text.strip())
    head = m.group(1) if m is not None else ""
    if m is not None and SV_RE.search(head) and len(head.split()) <= MOST_WORDS_CLOSING_PART:
        return m.group(2).strip()
    return text.strip()


SAYS_MISTAKEN = ("bao nham", "nham roi")  # a false alarm
# It is over, it happened ("không sao rồi", "ko sao"): settled. Members type "ko" or "k" for
# "không". Not "đã ổn": patrols and shifts report "ca 3 đã ổn", "khu B ổn rồi" all day, and
# a reporter's patrol would close the incident he reported this morning.
SAYS_SETTLED = ("khong sao", "ko sao", "k sao")
# The reporter found it was no fire ("chỉ là hơi nước, không phải cháy"): a false alarm, told
# in his words (he did not say "báo nhầm"), and not from a patrol ("không có cháy nổ").
SAYS_NO_FIRE = tuple(
    f"{no} {verb} {what}"
    for no in ("khong", "ko", "k")
    for verb in ("phai", "phai la", "co")
    for what in ("chay", "chay no")
)
# "không phải (là) cháy": a verdict on an alarm, never a round's words.
SAYS_NOT_A_FIRE = tuple(p for p in SAYS_NO_FIRE if " phai " in p)
FALSE_ALARM_WORDS = SAYS_MISTAKEN + SAYS_SETTLED
MOST_WORDS = 10  # "báo nhầm" in a longer message is part of something else
MOST_WORDS_NO_FIRE = 25  # the reporter explains what it was before saying it was no fire
FALSE_ALARM_HOURS = 6  # "báo nhầm" without a code refers to the sender's report this recent


@lru_cache(maxsize=4096)
def says_false_alarm(text: str) -> bool:
    """A short message, not a command, with a false-alarm phrase. Asked of every message
    with text and a pure function of it: kept for the texts seen lately ("có mặt" recurs)."""
    if text.lstrip().startswith(("/", "#")):
        return False  # a command (/bao_nham SVn note) is handled as one, with its own note
    words = folded_words(text)
    count = len(words.split())
    if not words or count > MOST_WORDS_NO_FIRE:
        return False
    if any(has_phrase(words, p) for p in SAYS_NO_FIRE):
        return True
    return count <= MOST_WORDS and any(has_phrase(words, p) for p in FALSE_ALARM_WORDS)


def clipped(words: str) -> str:
    """Someone's words passed on: one line, at most 200 characters."""
    return " ".join(words.split())[:200]


@hook(23)
async def false_alarm_message(ctx: Context) -> bool:
    """ "báo nhầm" from the reporter (or a coordinator) withdraws the alarm (false_alarm);
    "không sao" alone says it is over (settled: it happened, so it is no false alarm).
    Pending escalations are withdrawn and the alerted hear."""
    found = says_found(ctx.text) and not says_false_alarm(ctx.text)
    if not (found or says_false_alarm(ctx.text)):
        return False
    if "?" in ctx.text or (asks(ctx) and not _no_fire(ctx.text)):
        # A question ("không sao chứ?") says nothing of how it ended; "không phải cháy đâu ạ"
        # is no question ("đâu" stresses the "không").
        return False
    named = SV_RE.search(ctx.text)
    if named:
        incident = await get_incident(ctx.session, int(named.group(1)), lock=True)
    else:
        incident = await _own_recent_incident(ctx)
        if incident is None and ctx.is_private and may_manage(ctx.settings, ctx.member):
            waiting = await unacknowledged_urgent(ctx.session)
            incident = waiting[0] if len(waiting) == 1 else None
    if incident is None or incident.status in CLOSED:
        return False
    if not named and not says_mistaken(ctx.text) and on_rounds(ctx, incident):
        return False  # "tuần tra khu B, không sao": a check-in, recorded as one
    if _no_fire(ctx.text) and incident.category != "fire":
        return False  # "không phải cháy" says nothing of a theft or a fight
    if found and incident.category != "theft":
        return False  # "tìm thấy rồi" ends what went missing, not a fire
    if not may_manage(ctx.settings, ctx.member, incident) and not await sole_reporter(
        ctx, incident
    ):
        if named or not await reported_by(ctx, incident):
            return False
        # Their own report, which others made too: it stays open, and saying nothing here let
        # "báo nhầm" be read as an all-clear (a patrol recorded, the alerted never told).
        await ctx.reply(await disputed(ctx, incident))
        return True
    await ctx.reply(await set_status(ctx, incident, closing_status(ctx.text), ctx.text))
    return True


# Rounds and shifts saying all is well ("tuần tra khu B, không sao", "ca 3 không sao"), folded.
ROUNDS_RE = re.compile(
    r"\b(?:tuan tra|truc(?! tiep)|vao ca|nhan ca|ca \d+|ca (?:sang|chieu|toi|dem))\b"
)


def on_rounds(ctx: Context, incident: Incident) -> bool:
    """A patrol's or a shift's "không sao", or one about another place than the incident's:
    the reporter's check-in, not the end of what he reported this morning."""
    words = folded_words(ctx.text)
    if ROUNDS_RE.search(words):
        return True
    if any(has_phrase(words, p) for p in SAYS_NOT_A_FIRE):
        # "do công nhân đốt rác sau kho, không phải cháy": a verdict on the alarm, where the
        # smell came from; a round says "không có cháy nổ", not "không phải cháy".
        return False
    places = ctx.parsed.places if ctx.parsed is not None else ()
    keys = place_keys([{"kind": p.kind, "code": p.code, "text": p.text} for p in places])
    return bool(keys) and not keys <= split_key(incident.place_key or "")


def says_mistaken(text: str) -> bool:
    """ "báo nhầm" / "nhầm rồi" in so many words."""
    words = folded_words(text)
    return any(has_phrase(words, p) for p in SAYS_MISTAKEN)


def closing_status(text: str) -> str:
    """ "báo nhầm" / "nhầm rồi" or "không phải cháy": false_alarm; so is a thing found that
    was taken by mistake ("dắt nhầm"); "không sao" alone or a thing found: settled (it was
    missing, it is over; whether it was stolen the words do not say)."""
    words = folded_words(text)
    if says_mistaken(text) or any(has_phrase(words, p) for p in SAYS_NO_FIRE):
        return "false_alarm"
    if says_found(text) and MISTAKE_RE.search(words):
        return "false_alarm"
    return "settled"


async def reported_by(ctx: Context, incident: Incident) -> bool:
    return any(r.member_pk == ctx.member.id for r in await reports_of(ctx.session, incident.id))


async def disputed(ctx: Context, incident: Incident) -> str:
    """Tell the alerted that one reporter calls it a false alarm; the answer for the sender."""
    code, who = texts.incident_code(incident.id), name_of(ctx.member)
    add_event(ctx.session, incident, "disputed", ctx.now, ctx.member.id, ctx.text)
    here = {ctx.event.chat_id}
    answer = texts.FALSE_ALARM_DISPUTED.format(code=code)
    if set(await alerted_chats(ctx.session, incident.id)) - here:
        text = texts.TO_ALERTED["disputed"].format(code=code, who=who)
        if closing_status(ctx.text) == "settled":  # "không sao": her words, not "báo nhầm"
            text = texts.SETTLED_DISPUTED.format(code=code, who=who, words=clipped(ctx.text))
        what = f"disputed-{ctx.member.id}"  # each reporter's word is passed on (the key)
        await tell_alerted(ctx.session, ctx.now, incident, what, text, here)
        answer += texts.FALSE_ALARM_DISPUTED_TOLD.format(who=who)
    return answer


async def _own_recent_incident(ctx: Context) -> Incident | None:
    """The open incident the sender reported last, within FALSE_ALARM_HOURS."""
    since = ctx.now - timedelta(hours=FALSE_ALARM_HOURS)
    row = (
        await ctx.session.execute(
            select(Report.incident_pk)
            .join(Incident, Incident.id == Report.incident_pk)
            .where(
                Report.member_pk == ctx.member.id,
                Report.created_at >= since,
                Incident.status.not_in(CLOSED),
            )
            .order_by(Report.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return await get_incident(ctx.session, row, lock=True) if row is not None else None


async def sole_reporter(ctx: Context, incident: Incident) -> bool:
    """The only person who reported it may call it a false alarm themselves."""
    reporters = {r.member_pk for r in await reports_of(ctx.session, incident.id)}
    return reporters == {ctx.member.id}
