"""Questions about using the bot ("làm sao để báo sự cố", "điểm danh kiểu gì") answered at once
with the help's line, instead of waiting for a coordinator as a request. See docs/requests.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.context import Context
from handlers.intents.requests import addressed_to_bot
from handlers.parse import parse
from handlers.registry import hook
from handlers.text import fold
from handlers.texts import core as texts
from models.people import address, capitalized, title_of

# Before the task, directive and incident hooks (11-25): "nhận việc thế nào" must not take the
# task waiting, nor "đã nhận thì nhắn ở đâu" acknowledge. After answers to the bot's questions.
ORDER = 12
MAX_WORDS = 18  # a how-to is short; a long message says more than that and goes on as usual

# How a question about doing something is asked, after the thing ("báo sự việc thế nào").
# "thế nào rồi" asks how something went: a question for people.
_HOW_AFTER = (
    r"(?:lam sao|lam the nao|nhu the nao|the nao|ra sao|kieu gi|kieu nao|bang cach nao"
    r"|cach nao|(?:nhan|go|bam|viet|gui|bao|lam|ghi) (?:gi|sao|o dau)|o dau"
    r"|sao (?:vay|a|nhi|day|ha)|sao$)(?! roi)"
)
# ... or before it ("làm sao để báo sự cố", "cách điểm danh").
_HOW_BEFORE = (
    r"(?:lam sao|lam the nao|bang cach nao|cach|huong dan(?: cach)?)"
    r"(?: (?:de|ma|minh|em|toi|co the|muon|phai))*"
)
# The things the help tells how to do, folded; keys are handlers/texts/core HELP_LINES'.
_TOPICS = {
    "task": r"nhan viec|xong viec|bao xong|lam xong|hoan thanh(?: cong)? viec|viec duoc giao",
    "ack": r"xac nhan(?: (?:thong bao|tb|van ban|cong van|da nhan))?|da nhan(?: roi)? thi"
    r"|bao da nhan",
    "check_in": r"diem danh",
    "report": r"bao (?:cao )?(?:su co|su viec|vu viec)|bao (?:chay|tai nan|trom|mat trom|mat cap)",
}
TOPIC_RES = {
    topic: re.compile(rf"\b(?:{_HOW_BEFORE} (?:{words})\b|(?:{words})(?: \w+){{0,3}} {_HOW_AFTER})")
    for topic, words in _TOPICS.items()
}
# "Bot làm được gì", "bot này dùng sao", "dùng bot thế nào".
ABOUT_RE = re.compile(
    r"\bbot(?: nay)? (?:lam duoc gi|co the lam gi|lam gi|ho tro (?:duoc )?gi|giup duoc gi"
    r"|(?:su )?dung (?:sao|the nao|nhu the nao|ra sao))"
    r"|\b(?:su dung|dung|xai) bot(?: nay)? (?:sao|the nao|nhu the nao|ra sao)"
    r"|\b(?:huong dan|cach) (?:su dung|dung) bot\b"
)
# "Chuông báo cháy kêu thì làm sao": the fire alarm, a question for people.
FIRE_ALARM_RE = re.compile(
    r"\b(?:he thong|chuong|dau|tu|thiet bi|coi|den|may|trung tam|nut) bao chay\b"
)
# "Báo cháy gấp làm sao đây": something is happening; it goes on as a report would.
URGENT_RE = re.compile(r"\b(?:gap|khan cap|cuu|nguy hiem|sos)\b")
_PUNCT_RE = re.compile(r"[^\w\s/]")


@dataclass(frozen=True, slots=True)
class HowTo:
    """What a how-to question asks about, and its words outside the how-to phrase."""

    topic: str  # a key of texts.HELP_LINES, or "about" (what the bot does)
    rest: str


def folded_words(text: str) -> str:
    """Lower-case, diacritics and punctuation removed, single spaces."""
    return " ".join(_PUNCT_RE.sub(" ", fold(text).lower()).split())


def howto_question_in(text: str) -> HowTo | None:
    """The help line a question about using the bot asks for, if it is one."""
    words = folded_words(text)
    if not words or len(words.split()) > MAX_WORDS:
        return None
    if FIRE_ALARM_RE.search(words) or URGENT_RE.search(words):
        return None
    found = [(t, m) for t, r in TOPIC_RES.items() if (m := r.search(words))]
    if not found and (about := ABOUT_RE.search(words)):
        found = [("about", about)]
    if not found:
        return None
    topic, match = found[0]
    return HowTo(topic, " ".join(f"{words[: match.start()]} {words[match.end() :]}".split()))


def tells_of_an_event(ctx: Context, howto: HowTo) -> bool:
    """A report that also asks ("cháy xưởng 2 rồi, làm sao đây", "có trộm, báo trộm thế nào")
    stays a report: a place is named, or the words besides the question report something."""
    parsed = ctx.parsed
    if parsed is not None and (parsed.places or parsed.severity == "high"):
        return True
    if not howto.rest:
        return False
    return parse(howto.rest, ctx.event.sent_at, ctx.settings.tz).type == "incident"


def howto_answer(topic: str, ctx: Context) -> str:
    """The one line of the help, in the reader's title, offering /huongdan for the rest."""
    you = title_of(ctx.member)
    about = texts.HOWTO_ABOUT.format(you=you)
    line = about if topic == "about" else texts.HELP_LINES[topic]
    return texts.HOWTO_ANSWER.format(
        name=address(ctx.member),
        line=line,
        extra=texts.HOWTO_FIRE if topic == "report" else "",
        You=capitalized(you),
    )


@hook(ORDER)
async def howto_question(ctx: Context) -> bool:
    """ "Bot ơi làm sao để báo sự cố": the bot knows the answer, so it gives it now."""
    parsed = ctx.parsed
    if parsed is None or parsed.type == "command" or ctx.event.kind != "text":
        return False
    howto = howto_question_in(ctx.text)  # cheap first: most messages are no how-to
    if howto is None or tells_of_an_event(ctx, howto):
        return False
    if not await addressed_to_bot(ctx):
        return False  # members asking each other in a group: not the bot's to answer
    await ctx.reply(howto_answer(howto.topic, ctx))
    return True
