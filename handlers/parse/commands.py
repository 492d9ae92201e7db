"""Slash and hashtag commands, and the spans (URLs, mentions, emoticons) read as no words."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from handlers.parse.result import Command
from handlers.text import fold, lower

# Canonical command name -> its aliases. Add a command here and the dispatcher sees its
# canonical name whatever alias was typed.
_COMMANDS: Final[dict[str, tuple[str, ...]]] = {
    "baocao": ("report",),
    "diemdanh": ("checkin",),
    "danhan": ("ack",),
    "thongbao": ("announce",),
    "giaoviec": ("assign",),
    "xong": ("done",),
    "thongke": ("stats",),
    "tonghop": ("summary", "tinhhinh"),
    "chuahoatdong": ("inactive",),
    "huongdan": ("help",),
    "xuly": (),
    "bao_nham": ("baonham",),
    "huy": ("cancel",),
    "xacnhan": ("confirm",),
    "traloi": ("answer",),
    "yeucau": ("requests",),
    "khen": ("praise",),
    "baomat": ("privacy",),
    "lichdang": ("posts",),
    "cuatoi": ("mine", "cuaem", "toi"),
}
COMMAND_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {alias: canon for canon, aliases in _COMMANDS.items() for alias in (canon, *aliases)}
)
# Commands whose arguments are an incident report, so category and severity are kept.
_REPORT_COMMANDS: Final = frozenset({"baocao"})


# Bare domains start only where a word starts, so a long run of "a.a.a" stays linear.
_URL_RE: Final = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w.\-])[\w\-]+(?:\.[\w\-]+)*\.(?:vn|com|net|org|io)/\S*"
)
_EMOTICON_RE: Final = re.compile(r"(?<![\w/])/-([a-z]+)")
# Laughter: haha, hihi, hehe, hjhj, kkk, =)), :)), :v, and the laughing emoji. Each alternative
# opens with a plain character and checks what precedes it afterwards (vocabulary._AFTER_FIRST).
_LAUGH_RE: Final = re.compile(
    r"(?:h(?<!\wh)[aeioêôj](?:h[aeioêôj])+h?|k(?<!\wk)kk+)(?!\w)|[=:;][)\]]{2,}|:v+(?!\w)|[😂🤣😆😹]"
)
_MENTION_RE: Final = re.compile(r"(?<![\w@])@\w+")
_CMD_START_RE: Final = re.compile(
    r"\s*(?:@[^\s/#@]+(?:[ \t]+[^\s/#@]+){0,5}\s+)?"  # a leading mention of the bot
    r"([/#])([^\W\d_]\w*)(?:@[\w.]+)?(?!\w)(?![/.\-]\w)"
)
# "/ thongbao ...": a space slipped after the slash. Only a known name counts (a "/ " opening
# chatter stays chatter), so the command is not taken for chatter and silently dropped.
_CMD_SPACED_RE: Final = re.compile(
    r"\s*(?:@[^\s/#@]+(?:[ \t]+[^\s/#@]+){0,5}\s+)?"
    r"(/)[ \t]+([^\W\d_]\w*)(?:@[\w.]+)?(?!\w)(?![/.\-]\w)"
)
_HASHTAG_RE: Final = re.compile(r"(?<![\w/#&?=.:@\-])#([^\W\d_]\w*)(?!\w)")
# Each alternative opens with a plain character and checks what precedes it afterwards, so the
# engine skips straight to "0", "8", "+" or "(" (see _AFTER_FIRST).
_PHONE_RE: Final = re.compile(
    r"(?:\((?<![\w+.\-/]\()\+?84\)[ .\-]?|\+(?<![\w+.\-/]\+)84[ .\-]?|8(?<![\w+.\-/]8)4[ .\-]?"
    r"|0(?<![\w+.\-/]0))(?:[35789](?:[ .\-]?[0-9]){8}|2(?:[ .\-]?[0-9]){9})(?![0-9])"
)
_EMERGENCY_RE: Final = re.compile(r"1(?<![\w.+\-/]1)1[345](?![\w\-/]|\.[0-9])")
_DIGIT_RE: Final = re.compile(r"[0-9]")
_NAME_WORD_RE: Final = re.compile(r"[^\S\n]*(\w+|\S)")


def _command(text: str, low: str) -> tuple[Command | None, tuple[int, int] | None]:
    """The command in a message and the span of its /name or #name."""
    m = _CMD_START_RE.match(text)
    if m is not None:
        key = fold(lower(m.group(2)))
        name = COMMAND_NAMES.get(key)
        if name is not None or m.group(1) == "/":
            return Command(name or key, text[m.end() :].strip()), (m.start(1), m.end())
    elif (m := _CMD_SPACED_RE.match(text)) is not None:
        name = COMMAND_NAMES.get(fold(lower(m.group(2))))
        if name is not None:
            return Command(name, text[m.end() :].strip()), (m.start(1), m.end())
    if "#" in text:
        urls = [(u.start(), u.end()) for u in _URL_RE.finditer(low)] if "/" in low else []
        starts = [a for a, _b in urls]  # in order and apart: found by halving, not by a scan
        for h in _HASHTAG_RE.finditer(text):
            i = bisect_right(starts, h.start()) - 1
            if i >= 0 and h.start() < urls[i][1]:
                continue  # a "#" inside a link ("zalo.me/g/abc#x") is no command
            name = COMMAND_NAMES.get(fold(lower(h.group(1))))
            if name is not None:
                args = " ".join((text[: h.start()] + " " + text[h.end() :]).split())
                return Command(name, args), (h.start(), h.end())
    return None, None


def _blank(s: str, spans: list[tuple[int, int]]) -> str:
    """Replace spans by spaces, keeping the length (so spans still line up with the text)."""
    out: list[str] = []
    last = 0
    for a, b in sorted(spans):
        if a < last:
            a = last
        if b <= a:
            continue
        out.append(s[last:a])
        out.append(" " * (b - a))
        last = b
    out.append(s[last:])
    return "".join(out)
