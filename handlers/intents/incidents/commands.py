"""Commands: /xuly, /bao_nham, /xong (and its delegation to tasks), /baocao and listings."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re

from sqlalchemy import func, select

from handlers.context import Context
from handlers.intents.incidents.reports import file_report
from handlers.intents.incidents.status import (
    may_manage,
    reported_by,
    set_status,
    sole_reporter,
)
from handlers.intents.incidents.understanding import (
    ID_RE,
    Understood,
    local,
    name_of,
)
from handlers.parse import parse
from handlers.registry import HANDLERS, intent
from handlers.texts import incidents as texts
from handlers.texts.people import title_of
from models.incidents import (
    CLOSED,
    get_incident,
    open_incidents,
    reports_of,
    timeline,
)
from models.tables import Member, Task


def parse_id(args: str) -> tuple[str, int, str] | None:
    """ "SV12 ghi chú" -> ("incident", 12, "ghi chú"); "CV7" -> task; "12"/"#12" -> number."""
    match = ID_RE.match(args or "")
    if match is None:
        return None
    prefix = (match.group(1) or "").lower()
    kind = {"sv": "incident", "cv": "task"}.get(prefix, "number")
    return kind, int(match.group(2)), match.group(3).strip(" :,-")


def command_args(ctx: Context) -> str:
    cmd = ctx.parsed.command if ctx.parsed is not None else None
    return (cmd.args if cmd is not None else "") or ""


async def _incident_command(ctx: Context, status: str, usage: str) -> None:
    ident = parse_id(command_args(ctx))
    if ident is None or ident[0] == "task":
        await ctx.reply(usage)
        return
    _kind, number, note = ident
    incident = await get_incident(ctx.session, number, lock=True)
    if incident is None:
        await ctx.reply(texts.NOT_FOUND.format(code=texts.incident_code(number)))
        return
    if not may_manage(ctx.settings, ctx.member, incident) and not (
        status == "false_alarm" and await sole_reporter(ctx, incident)
    ):
        await ctx.reply(texts.UPDATES_FOR_COORDINATORS.format(you=title_of(ctx.member)))
        return
    await ctx.reply(await set_status(ctx, incident, status, note))


@intent("command:xuly")
async def take_incident(ctx: Context) -> None:
    """/xuly SV12: the sender is handling it (acknowledges it too, stops escalation)."""
    await _incident_command(ctx, "handling", texts.USAGE_XULY)


@intent("command:bao_nham")
async def false_alarm(ctx: Context) -> None:
    """/bao_nham SV12: not a real incident; reporters and alerted chats are told."""
    await _incident_command(ctx, "false_alarm", texts.USAGE_BAO_NHAM)


@intent("command:xong")
async def done(ctx: Context) -> None:
    """/xong SV12 closes an incident; /xong CV7 (or a bare task number) completes a task.

    A bare number is the sender's own open task if there is one, else an open incident the
    sender may close, else it is passed to the tasks feature.
    """
    ident = parse_id(command_args(ctx))
    if ident is None:
        await ctx.reply(texts.USAGE_XONG)
        return
    kind, number, _note = ident
    if kind == "number":
        own_task = (
            await ctx.session.execute(
                select(func.count())
                .select_from(Task)
                .where(Task.id == number, Task.assignee_pk == ctx.member.id, Task.status == "open")
            )
        ).scalar_one()
        incident = None if own_task else await get_incident(ctx.session, number)
        openable = (
            incident is not None
            and incident.status not in CLOSED
            and may_manage(ctx.settings, ctx.member, incident)
        )
        kind = "incident" if openable else "task"
    if kind == "task":
        await complete_task(ctx, number)
        return
    await _incident_command(ctx, "resolved", texts.USAGE_XONG)


async def complete_task(ctx: Context, task_id: int) -> None:
    """Hand /xong CV7 to the tasks feature (handlers.intents.tasks), when it is installed."""
    try:
        module = importlib.import_module("handlers.intents.tasks")
    except ModuleNotFoundError as exc:
        if exc.name != "handlers.intents.tasks":
            raise
        module = None
    fn = getattr(module, "complete_task", None)
    if fn is None:
        await ctx.reply(texts.TASKS_UNAVAILABLE.format(you=title_of(ctx.member)))
        return
    result = fn(ctx, task_id)
    if inspect.isawaitable(result):
        await result


@intent("command:baocao")
async def report_command(ctx: Context) -> None:
    """/baocao TEXT files a report; /baocao alone lists open incidents (coordinators)."""
    args = command_args(ctx).strip()
    if not args:
        if may_manage(ctx.settings, ctx.member):
            await ctx.reply(await open_list(ctx))
        else:
            await ctx.reply(texts.REPORT_PROMPT.format(you=title_of(ctx.member)))
        return
    named = re.fullmatch(r"#?\s*sv\s*-?\s*(\d{1,12})", args, flags=re.IGNORECASE)
    if named:
        # A member asking after an incident is no new report ("SV1", category other): its
        # reporters see it, others are told it is for coordinators.
        incident_id = int(named.group(1))
        incident = await get_incident(ctx.session, incident_id)
        if may_manage(ctx.settings, ctx.member) or (
            incident is not None and await reported_by(ctx, incident)
        ):
            await ctx.reply(await details(ctx, incident_id))
        else:
            await ctx.reply(texts.DETAILS_NOT_ALLOWED.format(code=texts.incident_code(incident_id)))
        return
    parsed = parse(args, ctx.event.sent_at, ctx.tz)
    if getattr(parsed, "type", None) == "all_clear" and "all_clear" in HANDLERS:
        # "/baocao ca 3 bình thường" is a patrol's all-clear, not an incident.
        await HANDLERS["all_clear"](dataclasses.replace(ctx, parsed=parsed, text=args))
        return
    u = Understood.of(parsed)
    if ctx.message is not None:
        ctx.message.category = u.category or "other"
    await file_report(ctx, u, args)


async def open_list(ctx: Context, limit: int = 20) -> str:
    incidents = await open_incidents(ctx.session, limit=limit + 1)
    if not incidents:
        return texts.NO_OPEN_INCIDENTS.format(you=title_of(ctx.member))
    lines = [texts.OPEN_INCIDENTS_HEADER.format(n=len(incidents[:limit]))]
    for inc in incidents[:limit]:
        reports = await reports_of(ctx.session, inc.id)
        places = texts.places_text(reports[0].places) if reports else ""
        unconfirmed = bool(reports) and all(r.status in ("pending", "unconfirmed") for r in reports)
        lines.append(
            texts.open_line(
                inc.id,
                inc.category,
                places,
                local(inc.first_reported_at, ctx.tz),
                inc.status,
                unconfirmed,
            )
        )
    if len(incidents) > limit:
        lines.append(texts.MORE_INCIDENTS.format(n=len(incidents) - limit))
    return "\n".join(lines)


async def details(ctx: Context, incident_id: int) -> str:
    """One incident with its timeline, for coordinators (/baocao SV12)."""
    incident = await get_incident(ctx.session, incident_id)
    if incident is None:
        return texts.NOT_FOUND.format(code=texts.incident_code(incident_id))
    reports = await reports_of(ctx.session, incident.id)
    places = texts.places_text(reports[0].places) if reports else ""
    lines = [
        texts.open_line(
            incident.id,
            incident.category,
            places,
            local(incident.first_reported_at, ctx.tz),
            incident.status,
            False,
        )
    ]
    members: dict[int, Member] = {}
    for ev in await timeline(ctx.session, incident.id):
        if ev.member_pk and ev.member_pk not in members:
            m = await ctx.session.get(Member, ev.member_pk)
            if m is not None:
                members[ev.member_pk] = m
        who = name_of(members.get(ev.member_pk)) if ev.member_pk else ""
        lines.append(texts.timeline_line(local(ev.at, ctx.tz), ev.kind, who, ev.note))
    return "\n".join(lines)
