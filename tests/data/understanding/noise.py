"""How members really type on phones: teencode, dropped diacritics, Telex leftovers, typos.

Every transform keeps the meaning, so the labels of the written sentence still hold.
"""

from __future__ import annotations

import random
import re
import unicodedata

from fold import AMBIGUOUS_SOURCES, fold, without_settled

# (written form, typed forms): applied whole-word, lower-case source only
TEENCODE: list[tuple[str, list[str]]] = [
    ("anh em", ["ae", "a e", "anh em"]),
    ("công nhân", ["cn", "CN", "công nhân"]),
    ("bảo vệ", ["bv", "BV", "bảo vệ"]),
    ("ký túc xá", ["ktx", "KTX"]),
    ("công ty", ["cty", "cty", "công ty"]),
    ("không", ["ko", "k", "hông", "khong", "ko"]),
    ("được", ["dc", "đc", "đươc"]),
    ("rồi", ["r", "rùi", "r", "rồi"]),
    ("với", ["vs", "vs", "với"]),
    ("vậy", ["v", "z", "vậy"]),
    ("gì", ["j", "gì"]),
    ("biết", ["bít", "biết"]),
    ("trước", ["trc", "trước"]),
    ("người", ["ng", "người"]),
    ("điện thoại", ["đt", "dt"]),
    ("bây giờ", ["bh", "giờ"]),
    ("anh", ["a", "anh", "a"]),
    ("em", ["e", "em", "e"]),
    ("chị", ["c", "chị"]),
    ("nhé", ["nha", "nhé", "nhe"]),
    ("mọi người", ["mn", "mng", "mọi người"]),
    ("bệnh viện", ["BV", "bệnh viện", "viện"]),
]
_TEEN = [(re.compile(r"(?<!\w)" + re.escape(src) + r"(?!\w)"), forms) for src, forms in TEENCODE]

_TONE_KEYS = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_SHAPE_KEYS = {"\u0302": "double", "\u0306": "w", "\u031b": "w"}


def teencode(text: str, rng: random.Random, share: float = 0.7) -> str:
    """Replace a share of common words by their chat spellings."""
    for pattern, forms in _TEEN:
        text = pattern.sub(
            lambda m, forms=forms: rng.choice(forms) if rng.random() < share else m.group(0),
            text,
        )
    return text


def telex(word: str) -> str:
    """The keystrokes a Telex user types for `word`, as left when the IME is off: mặt -> mawtj."""
    out: list[str] = []
    tone = ""
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONE_KEYS:
            tone = _TONE_KEYS[ch]
        elif ch in _SHAPE_KEYS:
            out.append(out[-1] if _SHAPE_KEYS[ch] == "double" else "w")
        elif ch in "đĐ":
            out.append("dd" if ch == "đ" else "Dd")
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out) + tone)


def fold_words(text: str, rng: random.Random, share: float) -> str:
    """Fold a share of the words (a half-switched keyboard)."""
    return re.sub(r"\w+", lambda m: fold(m.group(0)) if rng.random() < share else m.group(0), text)


def _accented_words(text: str) -> list[re.Match[str]]:
    return [m for m in re.finditer(r"\w{2,}", text) if fold(m.group(0)) != m.group(0)]


def typo(text: str, rng: random.Random) -> tuple[str, str]:
    """One keyboard slip: a doubled letter, two swapped letters, a Telex leftover, a lost space."""
    words = list(re.finditer(r"[^\W\d_]{2,}", text))
    if not words:
        return text, ""
    kind = rng.choice(["double", "double", "swap", "swap", "telex", "telex", "space", "drop"])
    if kind == "telex":
        accented = _accented_words(text)
        if accented:
            m = rng.choice(accented)
            return text[: m.start()] + telex(m.group(0)) + text[m.end() :], "telex"
        kind = "double"
    if kind == "space":
        gaps = [m for m in re.finditer(r"(?<=\w) (?=\w)", text)]
        if gaps:
            g = rng.choice(gaps)
            return text[: g.start()] + text[g.end() :], "space"
        kind = "double"
    long_enough = {"swap": 4, "drop": 5}.get(kind, 2)
    candidates = [m for m in words if len(m.group(0)) >= long_enough] or words
    m = rng.choice(candidates)
    word = m.group(0)
    if kind == "swap" and len(word) >= 4:
        i = rng.randint(1, len(word) - 3)
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif kind == "drop" and len(word) >= 5:
        i = rng.randint(1, len(word) - 2)
        word = word[:i] + word[i + 1 :]
    else:
        kind = "double"
        word = word + word[-1] * rng.choice([1, 1, 2])
    return text[: m.start()] + word + text[m.end() :], kind


def rests_on_ambiguous(written: str, typed: str) -> bool:
    """True when a word of AMBIGUOUS_SOURCES in `written` lost its diacritics in `typed`
    (the folded form occurs in `typed` more often than `written` already had it bare)."""
    low_written = without_settled(unicodedata.normalize("NFC", written).lower())
    low_typed = without_settled(unicodedata.normalize("NFC", typed).lower())
    for source in AMBIGUOUS_SOURCES:
        if not re.search(r"(?<!\w)" + re.escape(source) + r"(?!\w)", low_written):
            continue
        bare = re.compile(r"(?<!\w)" + re.escape(fold(source)) + r"(?!\w)")
        if len(bare.findall(low_typed)) > len(bare.findall(low_written)):
            return True
    return False
