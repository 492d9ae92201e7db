"""Words read against an incident under way: responders coming or at work, people
inside what was reported stuck (handlers/intents/incidents/details.py asks), what a
question names of it (handlers/intents/requests.py asks)."""

from __future__ import annotations

from functools import lru_cache

from handlers.parse.scanning import _clause_spans, _read, _responder_at, _someone_inside
from handlers.parse.vocabulary import M_ACCENTED, _lexicon, _Phrases
from handlers.text import lower, normalize_text


@lru_cache(maxsize=256)
def _words(text: str) -> tuple[list[str], list[str], bool]:
    """The text's lower-case and folded tokens, and whether marks were typed (read once for
    the questions asked of one message; callers never change the lists)."""
    norm = normalize_text(text)
    ltoks, ftoks, marks = _read(_lexicon(), norm, lower(norm))
    return ltoks, ftoks, bool(marks & M_ACCENTED)


def responders_coming(text: str) -> frozenset[str]:
    """The services ("fire", "police", "power", "medical", "tow", "water") a message says are
    coming, there or at work, each in a clause of its own: "xe cứu hỏa tới nơi rồi", "điện
    lực đã tới xử lý cột điện", "bên điện lực đang khắc phục"; empty for "gọi cứu hỏa", "xe
    cấp cứu chưa tới"."""
    lex = _lexicon()
    ltoks, ftoks, _ = _words(text)
    if lex.responder_verb_words.isdisjoint(ftoks) and lex.responder_work_words.isdisjoint(ftoks):
        return frozenset()
    services = (
        _responder_at(lex, ltoks, ftoks, a, b, work=True) for a, b in _clause_spans(ftoks) if b > a
    )
    return frozenset(s for s in services if s is not None)


def people_inside(text: str) -> bool:
    """Whether the message says people are inside ("bên trong có 2 người", "có người bên
    trong"), not that nobody is ("bên trong không có ai")."""
    ltoks, ftoks, _ = _words(text)
    return _someone_inside(_lexicon(), ltoks, ftoks)


def says_stuck(text: str) -> bool:
    """Whether the message says something is stuck ("thang máy nhà B bị kẹt")."""
    ltoks, _, accented = _words(text)
    return _lexicon().inside_stuck.has_any(ltoks, accented)


def categories_named(text: str) -> frozenset[str]:
    """The incident categories whose words (the lexicon's `asked_about`) a message names:
    "vụ xe container ở cổng 2" names traffic. A single marked word counts only typed with
    its marks ("chay" may be chạy)."""
    ltoks, ftoks, _ = _words(text)
    return frozenset(
        category
        for category, phrases in _lexicon().asked_about.items()
        if any(_named_at(phrases, ltoks, ftoks, k) for k in range(len(ftoks)))
    )


def _named_at(phrases: _Phrases, ltoks: list[str], ftoks: list[str], k: int) -> bool:
    """Whether one of `phrases` starts at token `k`: several words typed either way, or one
    word typed as written."""
    size = phrases.at(ltoks, ftoks, k, len(ftoks))
    if size != 1:
        return size > 1
    return any(canon == (ltoks[k],) for canon, _ in phrases.by_first.get(ftoks[k], ()))
