"""/huy CVn cancels a task, /huy TBn a directive (author or admin); /huy SVn is /bao_nham SVn."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.codes import directive_code
from handlers.context import Context
from handlers.intents.incidents import false_alarm
from handlers.intents.tasks import cancel_task
from handlers.registry import intent
from handlers.texts import tasks as texts
from models.outbox import cancel_pending
from models.scoping import role_here
from models.tables import Directive, DirectiveTarget, Group

CODE_RE = re.compile(r"^\s*#?\s*(cv|tb|sv)\s*-?\s*(\d{1,9})\b", re.IGNORECASE)


@intent("command:huy")
async def cancel(ctx: Context) -> None:
    args = ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else ""
    match = CODE_RE.match(args)
    if match is None:
        await ctx.reply(texts.CANCEL_USAGE)
        return
    kind, number = match[1].lower(), int(match[2])
    if kind == "cv":
        await cancel_task(ctx, number)
    elif kind == "tb":
        await cancel_directive(ctx, number)
    else:
        await false_alarm(ctx)  # its own rules: who may, and telling those alerted


async def cancel_directive(ctx: Context, directive_id: int) -> None:
    """The directive stops asking for acknowledgements; its groups hear it is withdrawn."""
    code = directive_code(directive_id)
    directive = await ctx.session.get(Directive, directive_id)
    if directive is None:
        await ctx.reply(texts.DIRECTIVE_NOT_FOUND.format(code=code))
        return
    if directive.issued_by != ctx.member.id and role_here(ctx.member) != "admin":
        await ctx.reply(texts.CANCEL_NOT_ALLOWED.format(code=code))
        return
    if directive.status != "open":
        await ctx.reply(texts.DIRECTIVE_CANCEL_CLOSED.format(code=code))
        return
    directive.status = "cancelled"
    await cancel_pending(
        ctx.session, "directive", directive.id, ("directive", "reminder"), "directive cancelled"
    )
    rows = (
        await ctx.session.execute(
            select(DirectiveTarget.chat_id, Group.name)
            .outerjoin(Group, Group.chat_id == DirectiveTarget.chat_id)
            .where(DirectiveTarget.directive_pk == directive.id)
            .order_by(DirectiveTarget.id)
        )
    ).all()
    for chat_id, _name in rows:
        await ctx.say(
            chat_id,
            texts.DIRECTIVE_CANCEL_POST.format(code=code),
            kind="directive",
            key=f"directive-cancelled:{directive.id}:{chat_id}",
        )  # no ref: "đã nhận" quoting this must not acknowledge the withdrawn directive
    groups = ", ".join(name or chat_id for chat_id, name in rows) or "-"
    await ctx.reply(texts.DIRECTIVE_CANCEL_DONE.format(code=code, groups=groups))
