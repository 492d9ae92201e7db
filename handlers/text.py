"""Text normalisation for Vietnamese chat messages (standard library only).

`normalize()` gives NFC text without invisible characters, with odd spaces unified, emoji
modifiers dropped and tone marks placed one way (hỏa, túy, thủy). Its folded and lowered copies
have the same length as the text, so a span found in one can be cut from another.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["NormalizedText", "fold", "fold_key", "lower", "normalize", "normalize_text"]

# Characters that carry nothing a reader sees: zero-width joiners and spaces, BOM, soft hyphen,
# emoji variation selectors, skin-tone modifiers and tag characters (subdivision flags).
_DROP = (
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
    + "".join(chr(c) for c in range(0x1F3FB, 0x1F400))
    + "".join(chr(c) for c in range(0xE0020, 0xE0080))
)
_SPACES = "\t\v\f\u00a0\u1680\u202f\u205f\u3000" + "".join(chr(c) for c in range(0x2000, 0x200B))
_LINES = "\r\x85\u2028\u2029"

_CLEAN_TABLE: dict[int, str | None] = {ord(c): None for c in _DROP}
_CLEAN_TABLE.update({ord(c): " " for c in _SPACES})
_CLEAN_TABLE.update({ord(c): "\n" for c in _LINES})
# Written as ranges: a class listing ~150 single characters (some astral) is scanned slowly.
_ODD_RE = re.compile(
    "[\u200b-\u200d\u2060\ufeff\u00ad\u180e\ufe00-\ufe0f\U0001f3fb-\U0001f3ff"
    "\U000e0020-\U000e007f\t\v\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
    "\r\x85\u2028\u2029]"
)

# Combining marks NFC could not attach to a letter: Vietnamese never needs them and they would
# split words, so they go.
_STRAY_MARK_RE = re.compile("[\u0300-\u036f]")

_TONE_MARKS = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}


def _build_fold_table() -> dict[int, str]:
    """Map each precomposed Latin letter to its base letter; đ/Đ to d/D."""
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D", ord("ƀ"): "b"}
    for cp in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        decomposed = unicodedata.normalize("NFD", chr(cp))
        base = decomposed[0]
        if len(decomposed) > 1 and base.isascii() and base.isalpha():
            table[cp] = base
    return table


_FOLD_TABLE = _build_fold_table()


def _build_tone_table() -> dict[str, str]:
    """oà -> òa, oẻ -> ỏe, uý -> úy (both cases): the tone sits on the first vowel."""
    table: dict[str, str] = {}
    pairs = {("o", "a"), ("o", "e"), ("u", "y")}
    for first in "oOuU":
        for second_base in "aeyAEY":
            if (first.lower(), second_base.lower()) not in pairs:
                continue
            for mark in _TONE_MARKS:
                toned = unicodedata.normalize("NFC", second_base + mark)
                moved = unicodedata.normalize("NFC", first + mark)
                if len(toned) == 1 and len(moved) == 1:
                    table[first + toned] = moved + second_base
    return table


_TONE_TABLE = _build_tone_table()
# Only at the end of a word (an open syllable: "hoàng" keeps its mark) and not after q, where u
# belongs to the consonant ("quý" stays).
# The lookbehind comes after the first character so the regex engine can skip ahead to o/u.
_TONE_RE = re.compile(
    "[oOuU](?<![qQ][uU])[" + "".join(sorted({pair[1] for pair in _TONE_TABLE})) + r"](?!\w)"
)


def _move_tone(match: re.Match[str]) -> str:
    pair = match.group()
    return _TONE_TABLE.get(pair, pair)


def normalize_text(text: str) -> str:
    """The normalised text alone: NFC, invisibles dropped, spaces unified, tone marks unified."""
    if text.isascii():
        if "\r" in text or "\t" in text or "\v" in text or "\f" in text:
            return text.replace("\r\n", "\n").translate(_CLEAN_TABLE)
        return text
    if _ODD_RE.search(text):
        text = text.replace("\r\n", "\n").translate(_CLEAN_TABLE)
    text = unicodedata.normalize("NFC", text)
    if _STRAY_MARK_RE.search(text):
        # Removing a mark can make neighbours composable again, hence the second NFC.
        text = unicodedata.normalize("NFC", _STRAY_MARK_RE.sub("", text))
    return _TONE_RE.sub(_move_tone, text)


def fold(text: str) -> str:
    """Remove diacritics (đ -> d, Đ -> D); normalised text keeps its length exactly.
    Raw NFD text is composed first, so fold() is safe on any input (its length may then change)."""
    if text.isascii():
        return text
    if _STRAY_MARK_RE.search(text):
        text = _STRAY_MARK_RE.sub("", unicodedata.normalize("NFC", text))
    return text.translate(_FOLD_TABLE)


def lower(text: str) -> str:
    """Lower-case text without ever changing its length (İ becomes i, not i + dot)."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c.lower()[0] for c in text)
    return low


def fold_key(text: str) -> str:
    """A matching key for any text: normalised, folded, lower-cased, spaces collapsed."""
    return " ".join(fold(lower(normalize_text(text))).split())


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """Normalised text with same-length folded and lower-cased copies."""

    text: str
    folded: str
    lower: str
    lower_folded: str


def normalize(text: str) -> NormalizedText:
    """Normalise a message; every copy has the same length as `.text`."""
    clean = normalize_text(text)
    low = lower(clean)
    return NormalizedText(text=clean, folded=fold(clean), lower=low, lower_folded=fold(low))


def whole_percent(part: float, whole: float = 1) -> int:
    """part/whole as a whole percent, a half rounded up as people and Excel round it: 5/8 is
    63 % everywhere (Python's round gives 62, and the spreadsheet's cell said 63)."""
    return math.floor(100 * part / whole + 0.5)
