"""Emergency numbers at once: "số điện thoại báo cháy là số nào", "sdt cấp cứu", "cho em xin
số công an KCN". The country's numbers (114, 113, 115) and the park's own (`contacts` in the
configuration) are answered by the bot at any hour, instead of waiting for a coordinator."""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.intents.incidents.understanding import folded_words
from handlers.registry import hook
from handlers.texts import hotlines as texts

# Folded words asking for a phone number: "số điện thoại", "sdt", "số cứu hỏa", "gọi số nào";
# not any "số" ("số người bị thương bao nhiêu, đã gọi cấp cứu chưa" is about a casualty).
_UNITS = r"bao chay|cuu hoa|chua chay|pccc|cnch|cong an|canh sat|cap cuu|cuu thuong|tram y te"
NUMBER_RE = re.compile(
    r"\b(?:so dien thoai|dien thoai|sdt|hotline|duong day nong)\b"
    rf"|\bso (?:cua )?(?:{_UNITS}|ban quan ly|bql|doi)\b"
    r"|\b(?:goi|xin|cho xin) so\b|\bso nao\b"
)
ASKS_RE = re.compile(
    r"\b(?:so nao|so gi|la so|bao nhieu|la gi|phai khong|xin so|cho xin|xin sdt|xin dt"
    r"|goi so|goi di|nho so)\b|\?"
)
SERVICE_RES = {
    "fire": re.compile(r"\b(?:bao chay|cuu hoa|chua chay|pccc|cnch|cuu nan|114)\b"),
    "police": re.compile(r"\b(?:cong an|canh sat|113)\b"),
    "ambulance": re.compile(r"\b(?:cap cuu|cuu thuong|xe cuu thuong|115)\b"),
}
# A service of the place rather than the country: "công an KCN", "đội PCCC khu công nghiệp".
LOCAL_RE = re.compile(
    r"\b(?:cong an|canh sat|pccc|cuu hoa|doi|ban quan ly|bql|tram y te|y te|bao ve)"
    r"(?: \w+)? (?:kcn|khu cong nghiep|phuong|xa|huyen|quan|thi xa|thi tran|bql|cong ty|cty)\b"
    r"|\b(?:ban quan ly|bql|tram y te)\b"
)
MAX_WORDS = 16


@hook(22)
async def emergency_number(ctx: Context) -> bool:
    """A question for a number the bot knows is answered here; one for a local unit it does
    not know also goes to the coordinators, with the country's numbers given meanwhile."""
    parsed = ctx.parsed
    if parsed is None or parsed.places or parsed.people or parsed.type in ("command", "ack"):
        return False
    words = folded_words(ctx.text)
    if len(words.split()) > MAX_WORDS or NUMBER_RE.search(words) is None:
        return False
    short = len(words.split()) <= 4  # "sdt cấp cứu", "số cứu hỏa"
    if not short and ASKS_RE.search(words) is None and "?" not in ctx.text:
        return False
    contacts = [c for c in ctx.settings.contacts if _names(words, c.name)]
    services = [key for key, pattern in SERVICE_RES.items() if pattern.search(words)]
    unknown_local = not contacts and LOCAL_RE.search(words) is not None
    if not contacts and not services and not unknown_local:
        return False
    lines = [texts.HEAD]
    lines += [texts.LINE.format(name=c.name, phone=c.phone) for c in contacts]
    lines += [texts.LINE.format(name=name, phone=phone) for _key, name, phone in texts.NATIONAL]
    await ctx.reply("\n".join(lines))
    if unknown_local:  # the country's numbers meanwhile; a coordinator knows the local one
        from handlers.intents.requests import open_request  # requests imports much of this

        await open_request(ctx)
    return True


def _names(words: str, name: str) -> bool:
    """Does the question name this contact ("cong an kcn" in "so cong an kcn la bao nhieu")?"""
    folded = folded_words(name)
    return bool(folded) and re.search(rf"\b{re.escape(folded)}\b", words) is not None
