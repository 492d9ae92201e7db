"""A sender named like an unlinked coordinator or admin proves it by phone or a coordinator's word.

Until then the sender is a guest: no coordinator commands, no alerts, no digests (SPEC.md 4).
"""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.context import Context
from handlers.councils import council_settings, is_multi, member_councils, scope
from handlers.registry import hook, intent
from handlers.text import fold
from handlers.texts import core as core_texts
from handlers.texts import identity as texts
from handlers.texts.people import you_words
from models.identity import (
    PHONE_TRIES,
    claim_by_id,
    link_account,
    open_claim,
    open_claims,
    privileged_row_named,
    start_claim,
)
from models.outbox import find_quoted
from models.people import address_full, capitalized, coordinators
from models.roster import normalize_phone
from models.scoping import members_here
from models.tables import Conversation, Member

REF_TYPE = "identity"
# Whole leading words ("co " is not "cong an"), folded: typed with or without diacritics.
YES = ("dong y ", "dung ", "dung roi ", "xac nhan ", "phai ", "chinh xac ", "ok ", "oke ", "co ")
NO = ("khong ", "sai ", "tu choi ")


def role_word(member: Member) -> str:
    return texts.ROLE_WORDS.get(member.role, member.role)


@hook(4)
async def identity_claim(ctx: Context) -> bool:
    """Open a claim the first time a guest carries a privileged row's name; take its phone."""
    if ctx.member.status != "guest":
        return False  # every roster member's message stops here: one attribute read
    claim = await open_claim(ctx.session, ctx.member.id, ctx.now)
    if claim is None:
        row = await privileged_row_named(ctx.session, ctx.member.display_name)
        if row is None:
            return False
        claim = await start_claim(ctx.session, ctx.member, row, ctx.event.chat_id, ctx.now)
        asked = await _ask_coordinators(ctx, claim, row)
        await _ask_claimant(ctx, row, asked)
        # A greeting is answered by the question; a report or a command goes on as a guest's.
        return ctx.parsed is None or ctx.parsed.type == "other"
    if not ctx.is_private:
        return False  # a phone typed in a group is not asked for and not accepted
    phones = _phones(ctx)
    if not phones:
        return False
    row = await ctx.session.get(Member, claim.ref_id)
    if row is None or row.member_id is not None or not row.active or not row.phone:
        return False
    tries = int(claim.data.get("tries", 0))
    if tries >= PHONE_TRIES:
        await ctx.reply(texts.PHONE_LOCKED)
        return True
    if row.phone in phones:
        if not await link_account(
            ctx.session, ctx.member, row, via="phone", actor=ctx.member.display_name, now=ctx.now
        ):
            return False
        ctx.member = row
        await ctx.reply(texts.LINKED.format(name=row.name, role=role_word(row)))
        return True
    tries += 1
    claim.data = {**claim.data, "tries": tries}
    left = PHONE_TRIES - tries
    await ctx.reply(texts.PHONE_WRONG.format(left=left) if left else texts.PHONE_LOCKED)
    return True


def _phones(ctx: Context) -> set[str]:
    found = set(ctx.parsed.phones) if ctx.parsed else set()
    whole = (
        normalize_phone(ctx.text) if re.fullmatch(r"[\d\s.+()-]{9,20}", ctx.text.strip()) else None
    )
    return found | ({whole} if whole else set())


async def _ask_claimant(ctx: Context, row: Member, asked: bool) -> None:
    role = role_word(row)
    if row.phone:
        text = texts.ASK_PHONE.format(role=role) if ctx.is_private else texts.ASK_PHONE_GROUP
    elif asked:
        text = texts.WAIT_COORDINATOR.format(role=role)
    else:
        text = texts.WAIT_NOBODY.format(role=role)
    await ctx.reply(text, key=f"identity-ask:{ctx.member.id}:{row.id}")


async def _ask_coordinators(ctx: Context, claim: Conversation, row: Member) -> bool:
    """Every linked coordinator (and coordinators' chat) is asked once; False if nobody is.
    With several parks, those of the parks the claimed row sits on, never another park's."""
    asked: list[tuple[tuple[str, ...], str | None]]
    if is_multi(ctx.settings):
        asked = [
            (council_settings(ctx.settings, c).coordinators, c)
            for c in await member_councils(ctx.session, ctx.settings, row.id)
        ]
    else:
        asked = [(ctx.settings.coordinators, scope(ctx.settings))]
    targets: list[str] = []
    for configured, council in asked:
        members, chats = await coordinators(ctx.session, configured, council)
        targets += [m.private_chat_id for m in members if m.member_id and m.private_chat_id]
        targets += chats
    text = texts.CONFIRM_ASK.format(
        display=ctx.member.display_name, role=role_word(row), name=row.name, n=claim.id
    )
    for chat in dict.fromkeys(targets):
        await ctx.say(
            chat,
            text,
            kind="reply",
            key=f"identity-confirm:{claim.id}:{chat}",
            ref_type=REF_TYPE,
            ref_id=claim.id,
        )
    return bool(targets)


@intent("command:xacnhan")
async def confirm_command(ctx: Context) -> None:
    """/xacnhan N: a linked coordinator vouches for claim N; bare /xacnhan lists open claims."""
    if not ctx.is_coordinator:
        await ctx.reply(core_texts.COORDINATOR_ONLY.format(name="xacnhan", **you_words(ctx.member)))
        return
    args = ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else ""
    match = re.match(r"\s*#?(\d{1,9})\b", args)
    if match is None:
        await ctx.reply(await _claims_text(ctx))
        return
    claim = await _claim_here(ctx, int(match[1]))
    if claim is None:
        await ctx.reply(texts.CONFIRM_UNKNOWN.format(n=match[1]))
        return
    await _settle(ctx, claim, accept=True)


async def _claim_here(ctx: Context, claim_id: int) -> Conversation | None:
    """The open claim, if its roster row is of the coordinator's park: another park's claim
    is answered like an unknown number (it is not for him to settle, nor to know of)."""
    claim = await claim_by_id(ctx.session, claim_id, ctx.now)
    if claim is None or claim.ref_id is None or not members_here(ctx.session):
        return claim
    here = select(Member.id).where(Member.id == claim.ref_id, *members_here(ctx.session))
    return claim if (await ctx.session.execute(here)).first() is not None else None


@hook(21, needs="quote")
async def confirm_by_reply(ctx: Context) -> bool:
    """A coordinator's "đồng ý" / "không" quoting the bot's question settles the claim."""
    quoted = ctx.event.quote_message_id
    if not quoted or not ctx.is_coordinator:
        return False
    row = await find_quoted(ctx.session, ctx.event.chat_id, quoted)
    if row is None or row.ref_type != REF_TYPE or row.ref_id is None:
        return False
    words = " ".join(re.findall(r"\w+", fold(ctx.text).lower())) + " "
    if words.startswith(NO):
        accept = False
    elif words.startswith(YES):
        accept = True
    else:
        return False
    claim = await _claim_here(ctx, row.ref_id)
    if claim is None:
        await ctx.reply(texts.CONFIRM_UNKNOWN.format(n=row.ref_id))
        return True
    await _settle(ctx, claim, accept=accept)
    return True


async def _settle(ctx: Context, claim: Conversation, *, accept: bool) -> None:
    guest = await ctx.session.get(Member, claim.member_pk)
    row = await ctx.session.get(Member, claim.ref_id) if claim.ref_id else None
    if guest is None or row is None or row.member_id is not None or not row.active:
        claim.status = "expired"
        await ctx.reply(texts.CONFIRM_UNKNOWN.format(n=claim.id))
        return
    display = guest.display_name or guest.member_id or "?"
    if not accept:
        claim.status = "done"
        claim.data = {**claim.data, "refused_by": ctx.member.id}
        await ctx.reply(texts.CONFIRM_REFUSED.format(display=display, name=row.name))
        return
    if guest.status != "guest" or not await link_account(
        ctx.session, guest, row, via="coordinator", actor=ctx.member.name, now=ctx.now
    ):
        claim.status = "expired"
        await ctx.reply(texts.CONFIRM_UNKNOWN.format(n=claim.id))
        return
    await ctx.reply(texts.CONFIRM_DONE.format(display=display, name=row.name))
    if row.private_chat_id and row.private_chat_id != ctx.event.chat_id:
        await ctx.say(
            row.private_chat_id,
            texts.LINKED_BY.format(
                by=capitalized(address_full(ctx.member)), name=row.name, role=role_word(row)
            ),
            key=f"identity-linked:{claim.id}",
            member_pk=row.id,
        )


async def _claims_text(ctx: Context) -> str:
    claims = await open_claims(ctx.session, ctx.now)
    lines = []
    for claim in claims[:20]:
        row = await ctx.session.get(Member, claim.ref_id) if claim.ref_id else None
        if row is None or row.member_id is not None:
            continue
        if await _claim_here(ctx, claim.id) is None:
            continue  # another park's coordinator to confirm
        display = str(claim.data.get("display_name") or "?")
        lines.append(texts.CONFIRM_LINE.format(n=claim.id, display=display, name=row.name))
    if not lines:
        return texts.CONFIRM_NONE
    return texts.CONFIRM_LIST.format(lines="\n".join(lines))
