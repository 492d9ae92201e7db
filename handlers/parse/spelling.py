"""Typing slips members make, mended before the scan: Telex keys left in, doubled letters,
swapped letters, two words run together.

A word is mended only when it is not a Vietnamese syllable and the mended form is a word the
lexicon knows, so names, codes and English pass through untouched.
"""

from __future__ import annotations

import re
from typing import Final

from handlers.parse.vocabulary import _Lexicon
from handlers.text import fold

# A folded Vietnamese syllable: initial consonants, a vowel run, a final consonant.
_SYLLABLE_RE: Final = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)
# Telex: a tone key after the vowels (s f r x j), vowel keys (aa aw ee oo ow uw) and dd.
_TELEX_TONE: Final = frozenset("sfrxj")
_TELEX_PAIRS: Final = (("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"))
_TELEX_PAIRS_TAIL: Final = (("uw", "u"), ("dd", "d"), ("w", ""))


# No syllable is longer than 7 letters ("nghiêng"), nor two run together longer than 14: a
# longer "word" is not mended. Why: each repair tries every position of the word, so a
# pasted 8,000-letter word cost seconds (quadratic), on the one event loop.
LONGEST_MENDED = 16


def mend(lex: _Lexicon, tok: str) -> str:
    """The word `tok` (lower case) was meant to be; `tok` itself when it looks right."""
    if len(tok) < 3 or len(tok) > LONGEST_MENDED or not tok.isalpha():
        return tok
    plain = fold(tok)
    known = lex.known
    if plain in known or plain in lex.aliases:
        return tok
    # A held last letter ("mặtt", "hanhhh", "chữaa"): no Vietnamese syllable ends so ("oo" does,
    # in xoong, but no lexicon word needs it).
    if tok[-1] == tok[-2]:
        short = tok.rstrip(tok[-1]) + tok[-1]
        return short if fold(short) in known else tok
    # A letter typed twice inside the word ("khoong", "bìnhh thường" is above): shaped like a
    # syllable, yet no Vietnamese word but these few holds "oo" or "aa" and a known word without it.
    doubled = _undoubled(tok)
    if doubled is not None and fold(doubled) in known and plain not in _REAL_DOUBLED:
        return doubled
    if _SYLLABLE_RE.fullmatch(plain):
        return tok
    if tok.isascii():
        telex = _telex(tok)
        if telex != tok and telex in known:
            return telex
    # Two neighbouring letters swapped ("thuogn" for "thuong", "hnag" for "hang").
    for k in range(len(tok) - 2, -1, -1):
        swapped = tok[:k] + tok[k + 1] + tok[k] + tok[k + 2 :]
        plain = fold(swapped)
        if plain in known and _SYLLABLE_RE.fullmatch(plain):
            return swapped
    return tok


# Folded words that hold a doubled vowel as written (a pot, a deck, a trailer).
_REAL_DOUBLED: Final = frozenset({"xoong", "soong", "boong", "goong", "loong", "toong", "mooc"})


def _undoubled(tok: str) -> str | None:
    """`tok` with its first letter typed twice in a row inside the word typed once, if any."""
    for k in range(1, len(tok) - 1):
        if tok[k] == tok[k - 1]:
            return tok[:k] + tok[k + 1 :]
    return None


def _telex(tok: str) -> str:
    """The bare letters of a word typed with Telex keys that were not turned into marks."""
    out = tok
    if out[-1] in _TELEX_TONE:
        out = out[:-1]
    for a, b in _TELEX_PAIRS:
        out = out.replace(a, b)
    for a, b in _TELEX_PAIRS_TAIL:
        out = out.replace(a, b)
    # A tone key typed before the final consonant ("mawtj" is fine, "masat" is not Telex).
    if len(out) > 2 and out[-2] in _TELEX_TONE and out[-1] in "cmnpt":
        out = out[:-2] + out[-1]
    return out


def split_run(lex: _Lexicon, tok: str) -> tuple[str, str] | None:
    """Two words typed without the space between them ("comat"), when they make a phrase."""
    if len(tok) < 4 or len(tok) > LONGEST_MENDED or not tok.isalpha():
        return None
    plain = fold(tok)
    if plain in lex.known or _SYLLABLE_RE.fullmatch(plain):
        return None
    for k in range(2, len(tok) - 1):
        a, b = plain[:k], plain[k:]
        slot = lex.first.get(a)
        if slot is not None and b in slot[0]:
            return tok[:k], tok[k:]
    return None
