"""Details a reporter sends right after a report ("có 2 người bị bỏng", "ở phía sau xưởng A",
"lúc 14h15"): added to the incident's record; the alerted hear those that make it graver.
Responders arriving ("xe cứu hỏa tới nơi rồi", "điện lực đã tới"), said by anyone in the
group of an incident under way, is a note on its timeline; said by its reporter later, or
work done ("đã kéo xe ra"), it is her detail, and news to the one handling it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta

from handlers.context import Context
from handlers.intents.incidents.alerts import (
    is_held,
    raise_alert,
    reach_of,
    tell_alerted,
    tell_handler,
)
from handlers.intents.incidents.status import asks, clipped, on_rounds, says_false_alarm
from handlers.intents.incidents.understanding import (
    URGENT_REASONS,
    Understood,
    folded_words,
    has_phrase,
    is_urgent,
    local,
    name_of,
    occurred_at,
    people_trapped,
    place_keys,
    worse,
)
from handlers.parse.followups import people_inside, responders_coming, says_stuck
from handlers.registry import hook
from handlers.text import fold
from handlers.texts import incidents as texts
from handlers.texts.people import title_of
from models.digest import group_by_chat
from models.incidents import (
    OPEN,
    add_event,
    get_incident,
    join_key,
    last_word_on,
    latest_report_in_chat,
    open_incidents_in_chat,
    open_reports_since,
    reports_of,
)
from models.incidents import split_key as place_key_parts
from models.outbox import find_quoted
from models.tables import Incident, Member, Report

# A reporter sending details every few minutes keeps the window open: it closes DETAIL_MINUTES
# after their last word on the incident (the report, a detail, a photo...), and at the latest
# DETAIL_MAX_MINUTES after the report, when what they add is news of its own.
DETAIL_MINUTES = 10
DETAIL_MAX_MINUTES = 30
# The fire brigade or the police arriving joins the incident under way in the group: one with a
# report there in the last UPDATE_HOURS (a fire burns for hours; one left open since the
# morning is not what they came for). The fire brigade comes to a fire first.
UPDATE_HOURS = 6
# What was done or is still a danger, folded ("em đã rào lại", "đang sơ tán", "có nguy cơ đổ"),
# in a message of at least STANDS_MIN_WORDS words: "ok rồi" is no detail.
STANDS_RE = re.compile(r"\b(?:da|dang|xong|nguy co|de bi|sap)\b")
STANDS_MIN_WORDS = 4
# The incidents each service comes to, when several are open in the group: the power company
# to a pole or a line hit, fallen or burning; a tow truck to a crash; the water company to a
# flood or a burst pipe. An ambulance comes to someone hurt (MEDICAL), whatever the kind.
SERVICE_CATEGORIES = {
    "fire": ("fire",),
    "power": ("traffic", "accident", "equipment", "fire"),
    "tow": ("traffic",),
    "water": ("disaster", "equipment"),
}
MEDICAL = "medical"
# Work a reporter says was done or is under way on her incident, past the details window
# ("đã khắc phục", "đã dựng lại cột", "đã kéo xe ra", "đang sửa"), folded: her incident's news.
WORK_RE = re.compile(
    r"\b(?:da|dang|vua|moi) (?:khac phuc|sua|sua chua|dung lai|keo|cau|don|thay|cat dien"
    r"|ngat dien|dong van|khoa van|xu ly xong)\b"
    r"|\b(?:khac phuc|sua|sua chua|keo xe ra|don) xong\b"
    r"|\bda dua (?:\w+ )?(?:\w+ )?(?:di|vao|len|toi|den) (?:vien|benh vien|cap cuu)\b"
)


@dataclass(frozen=True, slots=True)
class Detail:
    """What a message adds to a report."""

    u: Understood
    trapped: bool  # someone said trapped
    inside: bool  # people said inside: trapped when the report is of something stuck
    responders: frozenset[str]  # services said coming or there ("fire", "police")


def detail_of(ctx: Context) -> Detail | None:
    """What the message adds when it is a detail a report could take: people, a place, a
    time, graver words, people inside, responders coming, and no kind of incident of its
    own; None otherwise."""
    parsed = ctx.parsed
    if parsed is None or parsed.type not in ("incident", "other"):
        return None
    if ctx.text.lstrip().startswith(("/", "#")) or says_false_alarm(ctx.text):
        return None
    u = Understood.of(parsed)
    words = folded_words(ctx.text)
    trapped = people_trapped(ctx.text, u.people)
    if not trapped and u.category not in (None, "other"):
        # A report in its own right ("cháy ở xưởng 2", "có trộm ở kho 5"): filed, and merged
        # by the usual rules or its own incident (a theft after a fire is its own).
        return None
    inside = people_inside(ctx.text)
    # The parser reads "xe cứu hỏa tới nơi rồi" as no incident (other): only then is it news;
    # "xe cấp cứu tới rồi" reads as someone hurt (an incident of no kind): news too.
    plain = parsed.type == "other" or u.category in (None, "other")
    responders = responders_coming(ctx.text) if plain else frozenset[str]()
    news = u.people or u.places or u.time or grave(u, trapped) or u.severity == "high"
    if not (news or inside or responders or _says_how_it_stands(ctx, words)):
        return None
    return Detail(u, trapped, inside, responders)


def _says_how_it_stands(ctx: Context, words: str) -> bool:
    """ "cột điện bị nghiêng, có nguy cơ đổ, em đã rào khu vực lại": what the parser reads
    as nothing, of a few words, saying what was done or is still a danger. Not a question,
    nor "dạ em biết rồi ạ" (an acknowledgement, not read as `other`)."""
    if ctx.parsed is None or ctx.parsed.type != "other" or asks(ctx):
        return False
    if len(words.split()) < STANDS_MIN_WORDS:
        return False
    text = ctx.text.lower()
    folded = fold(text)
    same_length = len(folded) == len(text)  # then a folded word's marks can be looked up
    for found in STANDS_RE.finditer(folded):
        if found.group() == "da":
            # "dạ" (yes) folds like "đã" (done): it counts typed "đã", or unaccented and
            # not the first word ("da em biet roi a" is "dạ").
            typed = text[found.start() : found.end()] if same_length else "da"
            if typed == "dạ" or not folded[: found.start()].strip():
                continue
        return True
    return False


def grave(u: Understood, trapped: bool) -> bool:
    """Someone hurt, trapped, dead; fire spreading, a weapon...: the alerted must know."""
    return trapped or bool(URGENT_REASONS.intersection(u.reasons))


@hook(23)
async def report_detail(ctx: Context) -> bool:
    """A detail from the reporter, in the chat of their report (or in private about a report
    made in a group) while the window is open and its incident too: added to it, and passed
    on to the alerted when it is grave."""
    found = detail_of(ctx)
    if found is None:
        return False
    target = await _report_added_to(ctx)
    late = target is None and _says_work(ctx, found)
    if late:
        # Past the window: "điện lực đã tới xử lý cột điện" 20 minutes on is still hers.
        target = await _late_report_of(ctx, found.responders)
    if target is None:
        return bool(found.responders) and await _update_under_way(ctx, found.responders)
    report, incident = target
    u = found.u
    # "bên trong có 2 người" after "thang máy nhà B bị kẹt": the people are trapped in it.
    trapped = found.trapped or (found.inside and says_stuck(report.text))
    complete(ctx, report, incident, u, trapped)
    answer = await detail_added(ctx, report, incident)
    told = await pass_on(ctx, report, incident, u, trapped)
    if not told and late:
        # In the window the alerted hear only what is grave; later, how it goes is news.
        told = await _tell_outcome(ctx, report, incident)
    await ctx.reply(answer + told, ref_type="report", ref_id=report.id)
    return True


# A quoted reply adds to the report when it has at least QUOTED_MIN_WORDS words and is not
# thanks ("cảm ơn bot", "dạ cảm ơn ạ"): the quote says which report, not that it is news.
QUOTED_MIN_WORDS = 3
THANKS_MOST_WORDS = 5


@hook(21, needs="quote")
async def receipt_reply(ctx: Context) -> bool:
    """A reply quoting the bot's receipt of a report ("có ảnh đây ạ, thiệt hại nhẹ 1 động cơ"),
    at any time while its incident is open: the reporter's detail (anyone else's: an update),
    whatever the details window. The alerted hear a grave one at once, other news (damage,
    how it went, people, a place, a time) as news."""
    parsed = ctx.parsed
    if parsed is None or parsed.type not in ("incident", "other", "all_clear"):
        return False
    text = ctx.text
    if text.lstrip().startswith(("/", "#")) or says_false_alarm(text) or asks(ctx):
        return False
    words = folded_words(text)
    count = len(words.split())
    if count < QUOTED_MIN_WORDS or (has_phrase(words, "cam on") and count <= THANKS_MOST_WORDS):
        return False
    quoted = ctx.event.quote_message_id
    row = await find_quoted(ctx.session, ctx.event.chat_id, quoted) if quoted else None
    if row is None or row.ref_type != "report" or row.ref_id is None:
        return False
    report = await ctx.session.get(Report, row.ref_id)
    if report is None or report.incident_pk is None:
        return False
    incident = await get_incident(ctx.session, report.incident_pk, lock=True)
    if incident is None or incident.status not in OPEN:
        return False
    u = Understood.of(parsed)
    trapped = people_trapped(text, u.people)
    if not trapped and u.category not in (None, "other", incident.category):
        return False  # another kind of event ("có trộm ở kho 5"): a report of its own
    if report.member_pk == ctx.member.id:
        complete(ctx, report, incident, u, trapped)
        answer = await detail_added(ctx, report, incident)
    else:
        add_event(ctx.session, incident, "update", ctx.now, ctx.member.id, text.strip())
        answer = texts.DETAIL_ADDED.format(
            code=texts.incident_code(incident.id), words=clipped(text), title=title_of(ctx.member)
        )
    told = await pass_on(ctx, report, incident, u, trapped)
    news = (
        u.people
        or u.places
        or u.time
        or any(r.search(words) is not None for r in (OUTCOME_RE, PUT_OUT_RE, WORK_RE, CROWD_RE))
    )
    if not told and news:
        told = await _tell_outcome(ctx, report, incident)
    await ctx.reply(answer + told, ref_type="report", ref_id=report.id)
    return True


def _says_work(ctx: Context, found: Detail) -> bool:
    """Responders there or at work, or work done or under way ("đã dựng lại cột")."""
    return bool(found.responders) or WORK_RE.search(folded_words(ctx.text)) is not None


async def _late_report_of(ctx: Context, services: frozenset[str]) -> tuple[Report, Incident] | None:
    """Past the details window, within LATE_OUTCOME_HOURS: the sender's newest report in this
    group, or in private her one open incident (none when two are open: which is not said);
    its incident open, and of a kind the `services` named come to (a tow truck is not for
    the theft she reported: it is news of the crash under way)."""
    since = ctx.now - timedelta(hours=LATE_OUTCOME_HOURS)
    if ctx.is_private:
        reports = await open_reports_since(ctx.session, ctx.member.id, since)
        if len({r.incident_pk for r in reports}) != 1:
            return None
        report: Report | None = reports[0]
    else:
        report = await latest_report_in_chat(ctx.session, ctx.member.id, ctx.event.chat_id, since)
    if report is None or report.incident_pk is None:
        return None
    incident = await get_incident(ctx.session, report.incident_pk, lock=True)
    if incident is None or incident.status not in OPEN:
        return None
    if not _may_come_to(services, incident):
        return None
    return report, incident


async def _update_under_way(ctx: Context, services: frozenset[str]) -> bool:
    """Responders arriving, said in a group by someone with no report taking details: a note
    ("update") on the incident under way there, if any; nobody else is told."""
    if ctx.is_private:
        return False
    since = ctx.now - timedelta(hours=UPDATE_HOURS)
    found = await open_incidents_in_chat(ctx.session, ctx.event.chat_id, since)
    # Read as a report ("xe cấp cứu tới rồi": someone is hurt), it joins only one with
    # someone hurt; else it is filed, and alerts, as before.
    fallback = found[0] if found and ctx.parsed and ctx.parsed.type == "other" else None
    chosen = next((i for i in found if _comes_to(services, i)), fallback)
    if chosen is None:
        return False
    incident = await get_incident(ctx.session, chosen.id, lock=True)
    if incident is None or incident.status not in OPEN:
        return False
    add_event(ctx.session, incident, "update", ctx.now, ctx.member.id, ctx.text.strip())
    answer = texts.DETAIL_ADDED.format(
        code=texts.incident_code(incident.id), words=clipped(ctx.text), title=title_of(ctx.member)
    )
    await ctx.reply(answer, ref_type="incident", ref_id=incident.id)
    return True


def _comes_to(services: frozenset[str], incident: Incident) -> bool:
    """Whether one of the services comes to this kind of incident: an ambulance to one with
    someone hurt (graver: "high"), the others by SERVICE_CATEGORIES."""
    if MEDICAL in services and incident.severity == "high":
        return True
    return any(incident.category in SERVICE_CATEGORIES.get(s, ()) for s in services)


def _may_come_to(services: frozenset[str], incident: Incident) -> bool:
    """Whether the services may be there for this incident: any kind for the police, who
    come to anything; the others by `_comes_to`."""
    return not services or "police" in services or _comes_to(services, incident)


# What a check-in's words say of the reporter's incident, folded: its people ("2 đối tượng",
# "bọn trộm") or how it went ("bỏ chạy", "đã bắt được", "không mất tài sản", "mất 2 cuộn vải").
OUTCOME_RE = re.compile(
    r"\b(?:doi tuong|bon trom|ke trom|ke gian|ten trom|thang trom|nghi pham|bo chay|bo tron"
    r"|tau thoat|chay mat|chay thoat|bat duoc|bat giu|khong mat|thiet hai|mat \d+)\b"
)


# How a fire or an accident ended, said by its reporter: "đã dập tắt", "3 công nhân ra ngoài
# an toàn". Past the details window too (LATE_OUTCOME_HOURS): the one handling it needs it.
PUT_OUT_RE = re.compile(
    r"\b(?:dap tat|khong che duoc|lua da tat|da tat lua|het chay|ra ngoai an toan"
    r"|deu an toan|da an toan|khong ai bi thuong|khong co ai bi thuong)\b"
)
LATE_OUTCOME_HOURS = 12
# How a crowd (a stoppage, a gathering) goes, said by its reporter, folded: "đa số đã giải
# tán, còn khoảng 10 người", "công nhân đã vào làm lại". News of her incident, never a patrol's
# all-clear. ALL_BACK_RE: all of them gone or back at work, the reminders stop.
CROWD_RE = re.compile(
    r"\b(?:giai tan|vao lam lai|lam lai|tro lai lam viec|quay lai lam viec|di lam lai"
    r"|con (?:khoang |tam |chung |hon )?\d+ (?:nguoi|cn|cong nhan))\b"
)
ALL_BACK_RE = re.compile(
    r"\b(?:giai tan het|da giai tan(?! mot)|vao lam lai|tro lai lam viec|quay lai lam viec"
    r"|di lam lai)\b"
)
STILL_THERE_RE = re.compile(r"\b(?:con (?:khoang |tam |chung |hon )?\d+|da so|phan lon|mot so)\b")
# The incidents a crowd's news is of: a stoppage, a fight, a gathering of no named kind.
CROWD_CATEGORIES = ("strike", "fight", "other")
# Someone caught or handed to the police ("bắt được", "đã giao cho công an phường"), folded.
CAUGHT_RE = re.compile(
    r"\b(?:bat duoc|bat giu|da bat|tom duoc|giao (?:cho )?cong an|ban giao (?:cho )?cong an)\b"
)
# The danger over, said by the reporter or someone with him at the scene, folded: the
# suspects fled or gone, caught or held, a fire out, nothing taken, nobody hurt, all calm.
# The urgent reminders stop (the incident stays open); STILL_RE's words keep them going
# ("đã bỏ chạy nhưng vẫn đang lảng vảng", "đã dập tắt một phần").
OVER_RE = re.compile(
    r"\b(?:bo chay|bo tron|bo di|tau thoat|chay mat|chay thoat|da di roi|di mat roi"
    r"|(?:no|ho|doi tuong|chung) di (?:roi|het|mat)|khong con ai"
    r"|khong che duoc|da khong che|dap tat|lua da tat|da tat lua|het chay"
    r"|(?:khong|chua) (?:bi )?mat (?:gi|tai san|do)|khong ai bi thuong|khong co ai bi thuong"
    r"|da on|on roi|da on dinh|da an toan|deu an toan|ra ngoai an toan)\b"
)
STILL_RE = re.compile(
    r"\b(?:van (?:dang|con|chay|o)|con dang|chua (?:di|bo di|chay|tat|dap tat|khong che)"
    r"|quay lai|mot phan|dang lan|chay lan|lan sang|con \d+ (?:doi tuong|ten|thang|nguoi)"
    r"|(?:chay|tron|nup) (?:vao|trong)|dang (?:tron|nup|an nap))\b"
)
# How recent an incident must be in a group for someone else there to say it is over: a
# guard who went out with the reporter speaks within the half hour.
SCENE_MINUTES = 30


def danger_over(words: str) -> bool:
    """Whether the folded words say the danger has passed and nothing says it goes on."""
    return OVER_RE.search(words) is not None and STILL_RE.search(words) is None


# What someone caught was up to ("là 1 thanh niên nghiện", "là kẻ trộm"). Anything else (a
# fire, a poisoning) is news of its own even in the window: "bắt được rồi, nhưng kho 2 cháy".
WHO_IT_WAS = ("drugs", "theft", "suspicious", "fight", "other", None)


@hook(23)
async def report_outcome(ctx: Context) -> bool:
    """What the parse reads as an all-clear but tells how the sender's own report went
    ("đã kiểm tra, 2 đối tượng bỏ chạy, không mất tài sản"), within its details window: a
    detail of it, passed on to the alerted; no patrol, no "tình hình bình thường"."""
    parsed = ctx.parsed
    if parsed is None or ctx.text.lstrip().startswith("/"):
        return False
    if parsed.type == "incident":
        return await _ended(ctx)
    words = folded_words(ctx.text)
    crowd = CROWD_RE.search(words) is not None and "?" not in ctx.text
    if crowd and parsed.type in ("all_clear", "other") and await _crowd_news(ctx, words):
        return True
    if parsed.type != "all_clear":
        return False
    told = any(r.search(words) is not None for r in (OUTCOME_RE, PUT_OUT_RE, WORK_RE))
    if not told and not has_phrase(words, "da kiem tra"):
        return False
    over = danger_over(words)
    target = await _report_added_to(ctx)
    if target is None and told:
        target = await _late_outcome_of(ctx)
    if target is None:
        return over and await _at_scene(ctx, words)
    report, incident = target
    # "đã kiểm tra" alone is the check her report said would come ("đã cho bảo vệ ra kiểm
    # tra"), unless it is a round or another place's ("tuần tra khu B, đã kiểm tra").
    checked = has_phrase(folded_words(report.text), "kiem tra") and not on_rounds(ctx, incident)
    if not (told or checked):
        return False
    complete(ctx, report, incident, Understood.of(parsed), False)
    calm = over and _calm(incident)
    answer = await detail_added(ctx, report, incident)
    answer += await _tell_outcome(ctx, report, incident, calm)
    await ctx.reply(answer, ref_type="report", ref_id=report.id)
    return True


def _calm(incident: Incident) -> bool:
    """Stop the urgent reminders of an incident nobody has taken yet ("chưa có ai nhận"
    every ten minutes); whether they were running. It stays open until someone closes it."""
    if incident.status != "reported" or incident.next_escalation_at is None:
        return False
    if is_held(incident):
        return False  # its first alert waits for the reporter's answer: that decides
    incident.next_escalation_at = None
    return True


async def _crowd_news(ctx: Context, words: str) -> bool:
    """ "đa số công nhân đã giải tán, còn khoảng 10 người đứng ở cổng" from the reporter of a
    stoppage (in its window, or her one open incident of the last LATE_OUTCOME_HOURS): how it
    goes, a detail passed on to the alerted and its handler. All gone or back at work ("đã
    vào làm lại"): the reminders stop; it stays open until someone closes it."""
    target = await _report_added_to(ctx) or await _late_report(ctx)
    if target is None or target[1].category not in CROWD_CATEGORIES:
        return False
    report, incident = target
    assert ctx.parsed is not None
    complete(ctx, report, incident, replace(Understood.of(ctx.parsed), severity=None), False)
    gone = ALL_BACK_RE.search(words) is not None and STILL_THERE_RE.search(words) is None
    calm = gone and _calm(incident)
    answer = await detail_added(ctx, report, incident)
    answer += await _tell_outcome(ctx, report, incident, calm)
    await ctx.reply(answer, ref_type="report", ref_id=report.id)
    return True


def _names(text: str, member: Member) -> bool:
    """Whether a report names the member as going out with its reporter ("em đang cùng anh
    Nam ra kiểm tra"): his given name after a title or "cùng"/"với" ("nam" alone is a word)."""
    given = (member.name_folded or fold(member.name.lower())).split()[-1:]
    if not given:
        return False
    pattern = rf"\b(?:anh|chi|em|chu|co|ban|cung|voi|va) {re.escape(given[0])}\b"
    return re.search(pattern, folded_words(text)) is not None


async def _late_report(ctx: Context) -> tuple[Report, Incident] | None:
    """The one open incident the sender reported in the last LATE_OUTCOME_HOURS, with the
    report; none when two are open."""
    since = ctx.now - timedelta(hours=LATE_OUTCOME_HOURS)
    reports = await open_reports_since(ctx.session, ctx.member.id, since)
    if len({r.incident_pk for r in reports}) != 1 or reports[0].incident_pk is None:
        return None
    incident = await get_incident(ctx.session, reports[0].incident_pk, lock=True)
    if incident is None or incident.status not in OPEN:
        return None
    return reports[0], incident


async def _ended(ctx: Context) -> bool:
    """ "bắt được rồi, là 1 thanh niên nghiện, đã giao cho công an phường" or "2 đối tượng đã
    bỏ chạy, chưa mất gì" a few minutes after "có người lạ trèo rào": how the report ended,
    said by the reporter in the window (or by someone at the scene), not a report of its own
    (a drugs incident, a second report merged). Nothing grave in it; the reminders stop."""
    assert ctx.parsed is not None
    words = folded_words(ctx.text)
    if CAUGHT_RE.search(words) is None and not danger_over(words):
        return False
    u = Understood.of(ctx.parsed)
    if grave(u, False) or u.severity == "high":
        return False
    target = await _report_added_to(ctx)
    if target is None:
        return u.category in WHO_IT_WAS and await _at_scene(ctx, words)
    report, incident = target
    if u.category not in (*WHO_IT_WAS, incident.category):
        return False
    complete(ctx, report, incident, replace(u, severity=None), False)
    calm = _calm(incident)
    answer = await detail_added(ctx, report, incident)
    answer += await _tell_outcome(ctx, report, incident, calm)
    await ctx.reply(answer, ref_type="report", ref_id=report.id)
    return True


async def _at_scene(ctx: Context, words: str) -> bool:
    """ "2 đối tượng bỏ chạy rồi, không mất gì" from anh Nam, who went out with the reporter:
    in the group of one open incident reported there in the last SCENE_MINUTES, and of its
    kind or none, the danger over is its update (his detail when he reported it too); the
    reminders stop. Not a round's "đã ổn" elsewhere, not in private, not a question."""
    if ctx.is_private or ctx.parsed is None or "?" in ctx.text or not danger_over(words):
        return False
    since = ctx.now - timedelta(minutes=SCENE_MINUTES)
    kind = ctx.parsed.category
    found = [
        i
        for i in await open_incidents_in_chat(ctx.session, ctx.event.chat_id, since)
        if kind in (None, "other", i.category)
    ]
    if len(found) != 1 or on_rounds(ctx, found[0]):
        return False
    incident = await get_incident(ctx.session, found[0].id, lock=True)
    if incident is None or incident.status not in OPEN:
        return False
    reports = await reports_of(ctx.session, incident.id)
    mine = next((r for r in reversed(reports) if r.member_pk == ctx.member.id), None)
    if mine is None and not any(_names(r.text, ctx.member) for r in reports):
        return False  # another guard's "đã kiểm tra, … bỏ chạy" is his round's check-in
    if mine is not None:
        complete(ctx, mine, incident, replace(Understood.of(ctx.parsed), severity=None), False)
    else:
        add_event(ctx.session, incident, "update", ctx.now, ctx.member.id, ctx.text.strip())
    calm = _calm(incident)
    answer = texts.DETAIL_ADDED.format(
        code=texts.incident_code(incident.id), words=clipped(ctx.text), title=title_of(ctx.member)
    )
    answer += await _tell_outcome(ctx, mine or reports[0], incident, calm)
    await ctx.reply(answer, ref_type="incident", ref_id=incident.id)
    return True


async def _late_outcome_of(ctx: Context) -> tuple[Report, Incident] | None:
    """Past the details window: the one open incident the sender reported in the last
    LATE_OUTCOME_HOURS ("da dap tat" an hour after "kho B bốc khói"); none when two are open
    (which one is not said) or the words are a round's ("tuần tra khu B, mọi người an toàn")."""
    found = await _late_report(ctx)
    if found is None or on_rounds(ctx, found[1]):
        return None
    return found


def news_for_alerted(template: str, ctx: Context, report: Report, incident: Incident) -> str:
    """ "Sự việc SV3 (cháy/nổ tại kho 3): chị Lan báo thêm "…"": what the reporter added, as
    the chats that got the alert read it (`template` says how grave)."""
    places = texts.places_text(report.places)
    return template.format(
        code=texts.incident_code(incident.id),
        category=texts.category_name(incident.category),
        where=f" tại {places}" if places else "",
        who=name_of(ctx.member),
        words=clipped(ctx.text),
    )


async def _tell_outcome(
    ctx: Context, report: Report, incident: Incident, calm: bool = False
) -> str:
    """The outcome to the chats that got the alert, once and as news, not an alarm (an
    incident never alerted tells no one); what the reporter is told of it. `calm`: its
    escalation stopped, which the alerted are told."""
    text = news_for_alerted(texts.OUTCOME_TO_ALERTED, ctx, report, incident)
    if calm:
        text += " " + texts.ESCALATION_STOPPED.format(code=texts.incident_code(incident.id))
    what = f"outcome-{ctx.message.id if ctx.message else ctx.event.event_key}"
    told = await tell_alerted(ctx.session, ctx.now, incident, what, text, {ctx.event.chat_id})
    told += await tell_handler(
        ctx.session, ctx.now, incident, ctx.member.id, what, text, {ctx.event.chat_id, *told}
    )
    return await passed_on_to(ctx, told)


async def detail_added(ctx: Context, report: Report, incident: Incident) -> str:
    """ "Đã bổ sung vào sự việc SV3: "…". Cảm ơn chị!", naming where the report was made when
    the detail comes in private."""
    code = texts.incident_code(incident.id)
    if report.chat_id != ctx.event.chat_id:
        code = await _reported_in_group(ctx, report, incident)
    return texts.DETAIL_ADDED.format(code=code, words=clipped(ctx.text), title=title_of(ctx.member))


async def _report_added_to(ctx: Context) -> tuple[Report, Incident] | None:
    """The report a detail joins: the sender's newest in this chat, or, in private, the one
    open incident they reported anywhere; while the window is open (DETAIL_MINUTES after
    their last word on it, DETAIL_MAX_MINUTES at most after the report)."""
    s, member = ctx.session, ctx.member
    since = ctx.now - timedelta(minutes=DETAIL_MAX_MINUTES)
    report = await latest_report_in_chat(s, member.id, ctx.event.chat_id, since)
    found = await _taking_details(ctx, report) if report is not None else None
    if found is None and ctx.is_private:
        # About a report made in a group: only when it cannot be another one.
        reports = await open_reports_since(s, member.id, since)
        if len({r.incident_pk for r in reports}) == 1:
            found = await _taking_details(ctx, reports[0])
    return found


async def _taking_details(ctx: Context, report: Report) -> tuple[Report, Incident] | None:
    """The report and its incident, when the incident is open and the window too."""
    if report.incident_pk is None:
        return None
    incident = await get_incident(ctx.session, report.incident_pk, lock=True)
    if incident is None or incident.status not in OPEN:
        return None
    last = await last_word_on(ctx.session, incident.id, ctx.member.id) or report.created_at
    if ctx.now - max(last, report.created_at) > timedelta(minutes=DETAIL_MINUTES):
        return None
    return report, incident


async def _reported_in_group(ctx: Context, report: Report, incident: Incident) -> str:
    """ "SV3 (cháy/nổ tại kho 3, chị báo trong nhóm Tổ bảo vệ May Việt lúc 14:20)": which
    incident a detail sent in private joined."""
    group = await group_by_chat(ctx.session, report.chat_id)
    places = texts.places_text(report.places)
    return texts.REPORTED_IN_GROUP.format(
        code=texts.incident_code(incident.id),
        category=texts.category_name(incident.category),
        where=f" tại {places}" if places else "",
        title=title_of(ctx.member),
        group=group.name if group is not None else report.chat_id,
        at=report.created_at.astimezone(ctx.tz).strftime("%H:%M"),
    )


def complete(
    ctx: Context, report: Report, incident: Incident, u: Understood, trapped: bool
) -> None:
    """The report and its incident take what the detail adds; the timeline keeps its words."""
    add_event(ctx.session, incident, "detail", ctx.now, ctx.member.id, ctx.text.strip())
    severity = "high" if trapped else u.severity
    if severity is not None:
        report.severity = worse(report.severity, severity)
        incident.severity = worse(incident.severity, severity)
    if u.people:
        report.people = max(report.people or 0, u.people)
    known = place_keys(report.places)
    kinds = {p.get("kind") for p in report.places}
    # "trong kho" after "cháy kho số 3" is that warehouse: a place with no code, of a kind
    # already named, adds nothing.
    new = [
        p
        for p in u.places
        if not place_keys([p]) <= known and (p.get("code") or p.get("kind") not in kinds)
    ]
    if new:
        report.places = [*report.places, *new]  # a new list: the JSON column sees the change
        incident.place_key = join_key(place_key_parts(incident.place_key) | place_keys(new))
    if u.time:
        report.occurred_at = occurred_at(u.time, ctx.event.sent_at, ctx.tz)


async def pass_on(
    ctx: Context,
    report: Report,
    incident: Incident,
    u: Understood,
    trapped: bool,
    reporter: Member | None = None,
) -> str:
    """Raise the alert the detail makes due, or tell the alerted a grave detail; what the
    sender is told of it (from the outbox rows queued, never assumed). `reporter`: who made
    `report`, when not the sender (an update from someone else, quoted as theirs)."""
    s, now = ctx.session, ctx.now
    reasons = (*u.reasons, "injury") if trapped else u.reasons
    due = is_urgent(ctx.settings, incident.category, incident.severity, reasons, now)
    if due and (not incident.urgent or is_held(incident)) and incident.status == "reported":
        when = local(report.occurred_at or report.created_at, ctx.tz)
        added = "bổ sung" if reporter is None else f"cập nhật của {name_of(ctx.member)}"
        content = f"{report.text} ({added}: {ctx.text.strip()})"
        reporter = reporter or ctx.member
        reach = await raise_alert(
            s,
            ctx.settings,
            now,
            incident,
            report,
            reporter,
            when,
            unconfirmed=report.status == "pending",
            content=content,
        )
        return " " + texts.reach_sentence(reach.people, reach.groups, title_of(ctx.member))
    if not grave(u, trapped):
        return ""
    text = news_for_alerted(texts.DETAIL_TO_ALERTED, ctx, report, incident)
    here = {ctx.event.chat_id}
    what = f"detail-{ctx.message.id if ctx.message else ctx.event.event_key}"
    told = await tell_alerted(s, now, incident, what, text, here, urgent=True)
    return await passed_on_to(ctx, told)


async def passed_on_to(ctx: Context, told: list[str]) -> str:
    """ "Bot đã báo thêm cho anh Quân.": from the chats queued for, never assumed."""
    if not told:
        return ""
    reach = await reach_of(ctx.session, told)
    names = reach.people + [f"nhóm {g}" for g in reach.groups]
    return texts.DETAIL_PASSED_ON.format(names=texts.names_text(names))
