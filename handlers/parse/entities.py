"""Places, companies, head counts and phone numbers named in a message."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from handlers.parse.result import Place, _place
from handlers.parse.spelling import _SYLLABLE_RE
from handlers.parse.vocabulary import M_COMPANY, M_PLACE, _Lexicon
from handlers.text import fold, lower


def _prev_word(s: str, start: int) -> str:
    chunk = s[max(0, start - 24) : start].split()
    return chunk[-1].strip(".,;:!?()\"'") if chunk else ""


def _next_word(s: str, end: int) -> str:
    chunk = s[end : end + 24].split()
    return chunk[0].strip(".,;:!?()\"'") if chunk else ""


# Each alternative opens with a plain character and checks what precedes it afterwards, so the
# engine skips straight to "0", "8", "+" or "(" (see vocabulary._AFTER_FIRST).
_PHONE_RE: Final = re.compile(
    r"(?:\((?<![\w+.\-/]\()\+?84\)[ .\-]?|\+(?<![\w+.\-/]\+)84[ .\-]?|8(?<![\w+.\-/]8)4[ .\-]?"
    r"|0(?<![\w+.\-/]0))(?:[35789](?:[ .\-]?[0-9]){8}|2(?:[ .\-]?[0-9]){9})(?![0-9])"
)
_EMERGENCY_RE: Final = re.compile(r"1(?<![\w.+\-/]1)1[345](?![\w\-/]|\.[0-9])")
_NAME_WORD_RE: Final = re.compile(r"[^\S\n]*(\w+|\S)")


def _places(
    lex: _Lexicon, text: str, low: str, ltoks: list[str], accented: bool, marks: int
) -> tuple[Place, ...]:
    """Workshops, warehouses, gates, lots, named places and companies, in order, once each.
    `marks`: the message's M_ bits (vocabulary), which say whether place words may be there."""
    out: list[Place] = []
    seen: set[tuple[str, str | None]] = set()
    # A typed word is in ltoks as typed, so "công" (công nhân) does not wake the gate finder
    # up while "cổng" and a bare "cong" do.
    # Every trigger's folded form is among the folded words when either test below can pass,
    # so most messages are turned away by one bit.
    wanted = marks & M_PLACE and (
        not lex.place_triggers.exact.isdisjoint(ltoks)
        or not lex.place_triggers.folded.isdisjoint(ltoks)
    )
    found = lex.place_re.finditer(low) if wanted else ()
    memo = _PLACE_READINGS
    shouting = text.isupper() or text.islower()
    for m in found:
        start, end = m.span()
        # The match with the character after it (which the pattern's look-aheads read), the
        # same span as typed, and whether marks were typed decide the reading.
        key = (low[start : end + 1], text[start:end], accented)
        got = memo.get(key)
        if got is None:
            got = _place_of(lex, m, text, accented)
            if len(memo) < PLACE_READINGS_MAX:
                memo[key] = got
        if got and not shouting:
            # "kho B2 Samsung Vina", and with no code too: "kho nguyên liệu Hansol"
            got = got + _name_after(lex, text, end)
        for place in got:
            if (place.kind, place.code) not in seen:
                seen.add((place.kind, place.code))
                out.append(place)
    if marks & M_COMPANY and lex.company_re.search(low):
        for place in _companies(lex, text, low, accented):
            if (place.kind, place.code) not in seen:
                seen.add((place.kind, place.code))
                out.append(place)
    if len(out) > 1:
        # "kho 3 bị dột ..., em đã báo bộ phận kho": the bare kind after a numbered one of its
        # kind names no other place ("Nơi: kho 3, kho" was shown).
        coded = {p.kind for p in out if p.code is not None}
        out = [p for p in out if p.code is not None or p.kind not in coded]
    return tuple(out)


# A company's name right after a place: "xưởng 3 Hansol", "kho B2 Samsung Vina", "kho nguyên
# liệu Hansol".
_NAME_AFTER_RE: Final = re.compile(r"[^\S\n]+([^\W\d_][\w&.-]*(?:[^\S\n]+[^\W\d_][\w&.-]*){0,3})")
NAME_AFTER_WORDS = 4


def _name_after(lex: _Lexicon, text: str, end: int) -> tuple[Place, ...]:
    """The company named by capitalised words right after a place, as members write "kho vải
    xưởng 3 Hansol", "kho nguyên liệu Hansol": its first word must be no Vietnamese syllable
    and no lexicon word ("Cháy kho 3 Anh em ra..." names no company), in a message of mixed
    case."""
    m = _NAME_AFTER_RE.match(text, end)
    if m is None:
        return ()
    names: list[str] = []
    for word in m.group(1).split()[:NAME_AFTER_WORDS]:
        if not word[0].isupper():
            break
        names.append(word.rstrip(".-"))
    if not names:
        return ()
    first = lower(names[0])
    ffirst = fold(first)
    if _SYLLABLE_RE.fullmatch(ffirst) or lex.starts_phrase([first], [ffirst], 0, True):
        return ()
    if first in lex.alias_keys or ffirst in lex.word_marks or ffirst in lex.company_stop:
        return ()  # teen code or a word of the lexicon's lists in capitals ("KTX", "CN", "KCN")
    name = " ".join(names)
    start = m.start(1)
    return (_place("company", name, text[start : start + len(name)]),)


# Place pattern matches read before -> the place (none when the match names no place). Members
# name the same gates and workshops over and over; a place is immutable, so it is shared.
_PLACE_READINGS: dict[tuple[str, str, bool], tuple[Place, ...]] = {}
PLACE_READINGS_MAX = 20_000  # bounded: odd input must not grow memory for ever


def _place_of(lex: _Lexicon, m: re.Match[str], text: str, accented: bool) -> tuple[Place, ...]:
    """The place a match of `lex.place_re` names, if any: its kind, its code, its typed text."""
    word = m.group("word")
    fword = fold(word)
    fcanon = " ".join(fword.split())
    kind, code_rule = lex.place_kind.get(fcanon, ("place", "none"))
    code: str | None = None
    end = m.end("word")
    name = m.group("name")
    if name is not None and fold(name) in lex.place_word_names.get(fcanon, ()):
        return (_named_place(lex, m, kind, fcanon),)
    if m.group("code") is not None and name is None and code_rule != "none":
        raw = text[m.start("code") : m.end("code")]
        if len(raw) == 1 and not raw.isupper() and not raw.isdigit():
            pass  # a lone lower-case letter is a word, not a code ("kho a" is rare)
        else:
            code = raw.upper().replace("-", "")  # "kho B-3" is kho B3, one place however typed
            end = m.end("code")
            held = lex.place_holds.get(fcanon)
            if held is not None:  # "kho vải số 3" is the fabric store 3, not kho 3
                return (
                    _place(
                        kind, f"{held} {code}", f"{lex.place_written.get(fcanon, fcanon)} {code}"
                    ),
                )
    if code is None:
        if code_rule == "required":
            return ()
        # A loose word without a code needs its diacritics ("xưởng", not "xuong" which may
        # be xuống); a loose word without any ("kho") counts in a message that has them.
        if fcanon in lex.place_loose_folded and not (
            word != fword or (accented and fcanon in lex.place_loose_plain)
        ):
            return ()
    typed = text[m.start() : end]
    if code is None and typed.isascii():
        typed = lex.place_written.get(" ".join(typed.lower().split()), typed)
    return (_place(kind, code, typed),)


def _named_place(lex: _Lexicon, m: re.Match[str], kind: str, fcanon: str) -> Place:
    """A place known by its name ("cổng sau", "cổng phụ 2"), written one way whatever was
    typed, in lower case with its marks. The name stands in the code, so that two reports of
    "cong chinh" and "Cổng Chính" name the same place, and "cổng sau" is not "cổng chính"."""
    code = lex.place_names.get(fold(m.group("name")), m.group("name"))
    if m.group("num") is not None:
        code = f"{code} {m.group('num')}"
    word = lex.place_written.get(fcanon, fcanon)
    return _place(kind, code, f"{word} {code}")


def _companies(lex: _Lexicon, text: str, low: str, accented: bool) -> Iterable[Place]:
    shouting = text.isupper() or text.islower()
    memo = _COMPANY_READINGS
    for m in lex.company_re.finditer(low):
        words: list[tuple[int, int, str]] = []
        reach = len(low)  # how far the reading looked: the name's words and what ended them
        for wm in _NAME_WORD_RE.finditer(low, m.end()):
            tok = wm.group(1)
            if not tok[0].isalnum() and tok not in ("&", "-", "."):
                reach = wm.end()
                break
            words.append((wm.start(1), wm.end(1), tok))
            if len(words) >= 9:
                reach = wm.end()
                break
        start = m.start()
        key = (low[start:reach], text[start:reach], accented, shouting)
        place = memo.get(key)
        if place is None:
            place = _company_of(lex, text, m, words, accented, shouting)
            if len(memo) < PLACE_READINGS_MAX:
                memo[key] = place
        yield place


# Company names read before, keyed by what the reading looked at (see `_companies`).
_COMPANY_READINGS: dict[tuple[str, str, bool, bool], Place] = {}


def _company_of(
    lex: _Lexicon,
    text: str,
    m: re.Match[str],
    words: list[tuple[int, int, str]],
    accented: bool,
    shouting: bool,
) -> Place:
    """The company a match of `lex.company_re` names, from the words after it."""
    ftoks = [fold(w[2]) for w in words]
    ltoks = [w[2] for w in words]
    j = 0
    # Legal forms first: "Công ty TNHH MTV ABC" is ABC.
    while j < len(ftoks):
        for legal in lex.company_legal:
            if tuple(ftoks[j : j + len(legal)]) == legal:
                j += len(legal)
                break
        else:
            break
    start = j
    capital = False
    while j < len(ftoks) and j - start < 6:
        s, e, lt = words[j]
        ft = ftoks[j]
        if not ft[0].isalnum():
            if j == start:
                break
            j += 1
            continue
        orig = text[s:e]
        if j == start:
            capital = orig[0].isupper() and not shouting
        elif capital and not orig[0].isupper() and not orig[0].isdigit():
            break
        # In a message written with diacritics a bare "Minh" is a name, not "mình".
        stops = lex.company_stop.get(ft)
        if stops is not None and (lt in stops or not accented) and not capital:
            break
        if lex.starts_phrase(ltoks, ftoks, j, accented):
            break
        j += 1
    while j > start and not ftoks[j - 1][0].isalnum():
        j -= 1
    if j > start:
        code: str | None = text[words[start][0] : words[j - 1][1]]
        end = words[j - 1][1]
    else:
        code, end = None, m.end()
    return _place("company", code, text[m.start() : end])


# A shift's head count after "quân số" or its shorthand "qs" ("Quân số: 4/4", "qs 5", "quân số
# đủ 5/5"): those present, before the slash; "quân số 4/4" names no noun for _people.
_HEAD_COUNT_RE: Final = re.compile(
    r"(?<!\w)(?:qu[âa]n\s+s[ốo]|qs)\s*:?\s*(?:(?:đủ|du|là|la|có|co)\s+)?(\d{1,3})"
    r"(?:\s*/\s*\d{1,3})?(?![\w/])"
)


def _head_count(low: str) -> int | None:
    """Those present in a shift's head count ("quân số: 4/4" is 4), or None."""
    m = _HEAD_COUNT_RE.search(low)
    return int(m.group(1)) if m else None


def _people(lex: _Lexicon, low: str, accented: bool, digits: bool, words: bool) -> int | None:
    """The largest head count ("2 thanh niên", "khoảng 300 công nhân"), or None."""
    best: int | None = None
    found: list[re.Match[str]] = []
    if digits:
        found.extend(lex.people_re.finditer(low))
    if words:
        found.extend(lex.people_words_re.finditer(low))
    # "0912 345 678 anh Nam": the phone's last digits are no 678 people (nor a high severity).
    phones = [(p.start(), p.end()) for p in _PHONE_RE.finditer(low)] if found and digits else []
    for m in found:
        num = m.group("num")
        if phones and any(a <= m.start("num") < b for a, b in phones):
            continue
        if num[0].isdigit():
            value = int(num.replace(".", "").replace(",", ""))
        else:
            fnum = " ".join(fold(num).split())
            marked = lex.number_marked.get(fnum)
            if fnum not in lex.number_folded_ok and marked != " ".join(num.split()):
                continue
            value = lex.number_words.get(fnum, 0)
        noun = m.group("noun")
        fnoun = fold(noun)
        if fnoun in lex.nouns_exact and noun != lex.nouns_exact[fnoun]:
            continue
        if lex.people_not_after.has(_prev_word(low, m.start()), accented):
            continue
        if value and (best is None or value > best):
            best = value
    return best


def _phones(low: str) -> list[str]:
    out: list[str] = []
    for m in _PHONE_RE.finditer(low):
        digits = "".join(c for c in m.group() if c.isdigit())
        if digits.startswith("84"):
            digits = "0" + digits[2:]
        if len(digits) in (10, 11) and digits not in out:
            out.append(digits)
    return out
