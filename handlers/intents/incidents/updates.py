"""A member's update on an incident under way ("Cập nhật vụ xe container ở cổng 2: tài xế bị
thương, đã đưa đi viện"): it joins the open incident it names, as a detail; the alerted hear
a casualty at once. Read as a report, it opened a second incident ("khác") and a new alarm."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from handlers.context import Context
from handlers.intents.incidents.alerts import tell_alerted
from handlers.intents.incidents.details import (
    UPDATE_HOURS,
    complete,
    detail_added,
    news_for_alerted,
    pass_on,
    passed_on_to,
)
from handlers.intents.incidents.status import asks, clipped, says_false_alarm
from handlers.intents.incidents.understanding import (
    SEVERITY_RANK,
    SV_RE,
    Understood,
    asked_about,
    folded_words,
    people_trapped,
    place_keys,
    worse,
)
from handlers.parse.followups import categories_named, responders_coming
from handlers.parse.spelling import _SYLLABLE_RE
from handlers.registry import hook
from handlers.text import fold
from handlers.texts import incidents as texts
from handlers.texts.people import title_of
from models.incidents import (
    OPEN,
    add_event,
    get_incident,
    join_key,
    open_under_way,
    reports_of,
    split_key,
)
from models.outbox import enqueue
from models.tables import Group, Incident, Member, Report

# Words that say the message is an update, folded: "cập nhật", "tình hình vụ …", and "vụ … giờ"
# (now) opening the message ("vụ xe container ở cổng 2 giờ tài xế đã đưa đi viện").
UPDATE_RE = re.compile(
    r"\b(?:cap nhat|update)\b|\btinh hinh (?:vu|sv|su viec)\b"
    r"|^(?:ve )?vu\b.*\b(?:gio|bay gio|hien gio|hien tai|hien dang)\b"
    r"|" + r"\bve vu\b|\b(?:da|dang|vua) (?:tiep nhan|dieu tra|xac minh|lap bien ban|bat duoc|"
    r"bat giu|tam giu|thu hoi|tim thay|khoi to|lam viec voi)\b.*\bvu\b"
)
# How far back a case named by its kind ("vụ mất trộm dây điện") may be: the police take a
# theft up the next day or later, while it is still open.
CASE_HOURS = 72


@hook(23)
async def incident_update(ctx: Context) -> bool:
    """An update naming an open incident (its code, its places or its kind of event): a
    detail of that incident from whoever sends it, never a report of its own."""
    parsed = ctx.parsed
    # Words naming an incident's code ("SV1: công an đã tới làm việc") are its update: the
    # code says which, whatever the words (an all-clear's too: "SV1 đã ổn định").
    named = SV_RE.search(ctx.text) is not None
    if parsed is None or parsed.type not in (
        "incident",
        "other",
        *(("all_clear",) if named else ()),
    ):
        return False
    if ctx.text.lstrip().startswith(("/", "#")) or says_false_alarm(ctx.text) or asks(ctx):
        return False
    if not named and UPDATE_RE.search(folded_words(ctx.text)) is None:
        return False
    if named and await responders_bound(ctx):
        return True  # "công an đang tới SV1" from another group: the reporters hear it too
    u = Understood.of(parsed)
    incident = await _named(ctx, u)
    if incident is None:
        return False
    mine = await _own_report(ctx, incident)
    trapped = people_trapped(ctx.text, u.people)
    if mine is not None:  # one of its reporters: his detail, as within his window
        report = mine
        complete(ctx, report, incident, u, trapped)
        answer = await detail_added(ctx, report, incident)
        answer += await pass_on(ctx, report, incident, u, trapped)
    else:
        report = await _first_report(ctx, incident)
        _note(ctx, incident, u, trapped)
        answer = texts.DETAIL_ADDED.format(
            code=texts.incident_code(incident.id),
            words=clipped(ctx.text),
            title=title_of(ctx.member),
        )
        reporter = await ctx.session.get(Member, report.member_pk) if report.member_pk else None
        answer += await pass_on(ctx, report, incident, u, trapped, reporter=reporter)
    await ctx.reply(answer, ref_type="incident", ref_id=incident.id)
    return True


async def _named(ctx: Context, u: Understood) -> Incident | None:
    """The open incident the update names: by its code at any age, else by its places or kind
    among those reported in the last UPDATE_HOURS; None for another kind of danger ("cập
    nhật: cháy ở kho 3" while a crash is open is a fire of its own)."""
    codes = [int(n) for n in SV_RE.findall(ctx.text)]
    if codes:
        found = await get_incident(ctx.session, codes[0], lock=True)
    else:
        since = ctx.now - timedelta(hours=UPDATE_HOURS)
        under_way = await open_under_way(ctx.session, since)
        about = asked_about(ctx.text, ctx.now, ctx.tz, under_way) or await _case_named(ctx)
        found = await get_incident(ctx.session, about.id, lock=True) if about else None
    if found is None or found.status not in OPEN:
        return None
    other = u.category not in (None, "other", found.category)
    danger = u.category in ctx.settings.alerts.urgent_categories
    if other and danger and found.category not in categories_named(ctx.text):
        return None
    return found


async def _case_named(ctx: Context) -> Incident | None:
    """The one open incident of the kind a "vụ …" names ("đã tiếp nhận vụ mất trộm dây
    điện"), reported in the last CASE_HOURS; None when none or several fit."""
    if re.search(r"\bvu\b", folded_words(ctx.text)) is None:
        return None
    named = categories_named(ctx.text)
    if not named:
        return None
    since = ctx.now - timedelta(hours=CASE_HOURS)
    fits = [i for i in await open_under_way(ctx.session, since) if i.category in named]
    return fits[0] if len(fits) == 1 else None


async def _own_report(ctx: Context, incident: Incident) -> Report | None:
    """The sender's newest report on the incident, if he reported it."""
    reports = await _reports(ctx, incident)
    return next((r for r in reversed(reports) if r.member_pk == ctx.member.id), None)


async def _first_report(ctx: Context, incident: Incident) -> Report:
    """The report the incident was opened by: what an alert raised by the update quotes."""
    return (await _reports(ctx, incident))[0]


async def _reports(ctx: Context, incident: Incident) -> list[Report]:
    return await reports_of(ctx.session, incident.id)


def _note(ctx: Context, incident: Incident, u: Understood, trapped: bool) -> None:
    """The update on the timeline ("Tin cập nhật", with the sender); the incident takes its
    severity (trapped is high) and new places. Nobody's report is changed."""
    add_event(ctx.session, incident, "update", ctx.now, ctx.member.id, ctx.text.strip())
    severity = "high" if trapped else u.severity
    if severity is not None:
        incident.severity = worse(incident.severity, severity)
    keys = place_keys(u.places)
    if keys:
        incident.place_key = join_key(split_key(incident.place_key) | keys)


# Two incidents alike at the place the responders name: the newer is the one they come to
# when reported at least NEWER_MINUTES after the other (else they are asked which); the
# question lists at most WHICH_MOST.
NEWER_MINUTES = 30
WHICH_MOST = 4
# Words opening an enterprise's name that say only what it is ("Cty TNHH Hansol"), folded.
COMPANY_WORDS = frozenset({"cty", "cong", "ty", "tnhh", "mtv", "cp", "co", "phan"})


@hook(23)
async def responders_bound(ctx: Context) -> bool:
    """ "đã nhận tin, tổ tuần tra công an KCN đang tới Hansol" in the council's group: the
    police (or another service) on their way to an incident open at the place or enterprise
    they name, reported in another group. Its progress ("update"), a short answer, and the
    reporter's group and the alerted hear someone is coming. Said in the incident's own group,
    report_detail has it."""
    parsed = ctx.parsed
    if parsed is None or parsed.type not in ("ack", "other") or ctx.is_private:
        return False
    if ctx.text.lstrip().startswith(("/", "#")) or "?" in ctx.text:
        return False
    # The code says where, not who: "công an đang tới SV1" reads as "công an đang tới".
    if not responders_coming(SV_RE.sub(" ", ctx.text)):
        return False
    fits = await _bound_fits(ctx)
    if not fits:
        return False
    chosen = _most_pressing(fits)
    if chosen is None and parsed.type == "other" and await _reported_here(ctx, fits):
        return False  # chat in the group of one of them: report_detail has it, as before
    if chosen is None:
        # Which one the words do not say: ask, never leave the police in silence.
        await ctx.reply(await _which_question(ctx, fits))
        return True
    found = await get_incident(ctx.session, chosen.id, lock=True)
    if found is None or found.status not in OPEN:
        return False
    incident, report = found, await _first_report(ctx, found)
    if report.chat_id == ctx.event.chat_id and parsed.type == "other":
        return False  # in its own group: a detail or an update there (report_detail)
    add_event(ctx.session, incident, "update", ctx.now, ctx.member.id, ctx.text.strip())
    text = news_for_alerted(texts.OUTCOME_TO_ALERTED, ctx, report, incident)
    here = ctx.event.chat_id
    what = f"coming-{ctx.message.id if ctx.message else ctx.event.event_key}"
    told: list[str] = []
    if report.chat_id and report.chat_id != here:
        await enqueue(
            ctx.session,
            chat_id=report.chat_id,
            text=text,
            kind="reply",
            now=ctx.now,
            key=f"incident-{what}:{incident.id}:{report.chat_id}",
            ref_type="incident",
            ref_id=incident.id,
        )
        told.append(report.chat_id)
    told += await tell_alerted(ctx.session, ctx.now, incident, what, text, {here, *told})
    answer = texts.DETAIL_ADDED.format(
        code=texts.incident_code(incident.id), words=clipped(ctx.text), title=title_of(ctx.member)
    )
    await ctx.reply(answer + await passed_on_to(ctx, told), ref_type="incident", ref_id=incident.id)
    return True


async def _bound_fits(ctx: Context) -> list[Incident]:
    """The open incidents, reported in the last UPDATE_HOURS, that the message names by its
    code or by the enterprise of the group they were reported in ("đang tới Hansol"), newest
    first. Not by their kind alone: a fire truck seen in Hansol's group is not coming to May
    Việt's fire."""
    since = ctx.now - timedelta(hours=UPDATE_HOURS)
    under_way = await open_under_way(ctx.session, since)
    codes = {int(n) for n in SV_RE.findall(ctx.text)}
    if codes:
        return [i for i in under_way if i.id in codes]
    words = f" {folded_words(ctx.text)} "
    return [i for i in under_way if any(f" {n} " in words for n in await _names_of(ctx, i))]


def _most_pressing(fits: list[Incident]) -> Incident | None:
    """The one the responders come to among `fits` (newest first): the alerted, then the
    gravest; among equals the newest, when reported NEWER_MINUTES after the next (the news
    they just got). None when that leaves a tie: the sender is asked."""

    def weight(i: Incident) -> tuple[bool, int]:
        return bool(i.urgent), SEVERITY_RANK.get(i.severity or "", 1)

    top = max(weight(i) for i in fits)
    first = [i for i in fits if weight(i) == top]
    if len(first) == 1:
        return first[0]
    newest, runner_up = first[0], first[1]
    if newest.last_reported_at - runner_up.last_reported_at >= timedelta(minutes=NEWER_MINUTES):
        return newest
    return None


async def _which_question(ctx: Context, fits: list[Incident]) -> str:
    """ "Ở Hansol đang mở 2 sự việc: SV2 (…), SV1 (…). Đồng chí đang tới sự việc nào? …":
    the incidents by code and a few words, newest first, and how to answer."""
    items = []
    enterprises = set()
    for incident in fits[:WHICH_MOST]:
        report = await _first_report(ctx, incident)
        places = texts.places_text(report.places)
        where = f" tại {places}" if places else ""
        code = texts.incident_code(incident.id)
        items.append(f"{code} ({texts.category_name(incident.category)}{where})")
        enterprises.add(await _enterprise_of(ctx, report))
    place = enterprises.pop() if len(enterprises) == 1 else None
    return texts.RESPONDERS_WHICH.format(
        where=f"Ở {place} đang" if place else "Đang",
        n=len(fits),
        items=", ".join(items),
        code=texts.incident_code(fits[0].id),
        **texts.addressed(title_of(ctx.member)),
    )


async def _reported_here(ctx: Context, fits: list[Incident]) -> bool:
    """Whether one of the incidents was first reported in this chat."""
    for incident in fits:
        if (await _first_report(ctx, incident)).chat_id == ctx.event.chat_id:
            return True
    return False


async def _enterprise_of(ctx: Context, report: Report) -> str | None:
    """The enterprise of the group a report was made in, as the roster names it."""
    group = (
        await ctx.session.execute(select(Group).where(Group.chat_id == report.chat_id))
    ).scalar_one_or_none()
    return group.enterprise if group is not None and group.enterprise else None


async def _names_of(ctx: Context, incident: Incident) -> list[str]:
    """How members name the enterprise an incident was reported in, folded: its name's last
    words ("hansol", "may viet"); one word only when it is no Vietnamese syllable ("viet"
    alone names nothing)."""
    enterprise = await _enterprise_of(ctx, await _first_report(ctx, incident))
    if enterprise is None:
        return []
    words = fold(enterprise.lower()).split()
    while words and words[0] in COMPANY_WORDS:
        words.pop(0)
    names = [" ".join(words[k:]) for k in range(len(words) - 1)]
    if words and _SYLLABLE_RE.fullmatch(words[-1]) is None:
        names.append(words[-1])
    return names
