"""One pass over a message's tokens: phrases, their readings, negation scopes, clauses."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from sys import intern
from typing import Final

from handlers.parse.commands import _LAUGH_RE
from handlers.parse.spelling import _SYLLABLE_RE, mend, split_run
from handlers.parse.tokens import _BOUNDARY_CHARS, _split_tokens
from handlers.parse.vocabulary import (
    _ABSENT,
    _ACK,
    _CAUSE,
    _CAUSED,
    _CHECKIN,
    _CONJ,
    _EXPLAIN,
    _EXPLAINED,
    _FOUND,
    _INC,
    _NEG,
    _NEUTRAL,
    _PLAIN,
    _PREVENT,
    _PREVENTED,
    _Q,
    _SCOPE_CLAUSE,
    _SCOPE_SHORT,
    M_ACCENTED,
    M_DIGIT,
    M_LAUGH,
    M_MAY_BE_POLICE,
    MEDICAL,
    _Entry,
    _Group,
    _Lexicon,
    _Phrases,
    _readings,
)
from handlers.text import fold

_REPLIES: Final = frozenset((_CHECKIN, _ABSENT, _ACK))  # the sender's own replies
# How a signal is negated: not, by a plain negation ("không có cháy"), or by a "not yet"
# (lexicon `negation.not_yet`: "chưa thấy lửa"), which denies nothing else of the message.
NEGATED: Final = 1
NOT_YET: Final = 2
_FOLD_MEMO: dict[str, str] = {}


def _fold_token(tok: str) -> str:
    folded = fold(tok)
    if len(_FOLD_MEMO) < 100_000:  # bounded: odd input must not grow memory for ever
        _FOLD_MEMO[tok] = folded
    return folded


@dataclass(slots=True)
class _Scan:
    """Signals found in one message, per clause, before the decision."""

    # entry, negation (0, NEGATED or NOT_YET), clause, mode, exact, and whether it rests on
    # an ambiguous folded word
    signals: list[tuple[_Entry, int, int, int, bool, bool]]
    questions: list[bool]  # per clause
    ambiguous: bool
    # Every ambiguous reading was a negated signal ("mùi khét, chưa thấy chay"): it says what
    # is not there, so an incident read from the rest does not rest on it.
    negated_guess: bool = False
    # Where each cause word stands ("khói là do đốt rác"): the number of signals before it,
    # and its clause.
    causes: tuple[tuple[int, int], ...] = ()
    # Per clause, the number of signals before its question starts: those before it are
    # reported ("cháy kho 2 rồi ai gọi 114 chưa"); 0 when the whole clause asks.
    asked_from: tuple[int, ...] = ()


def _tokens(lex: _Lexicon, text: str, low: str) -> tuple[list[str], list[str], bool]:
    """Lower-case and folded tokens (aliases and CA expanded), and whether marks were typed."""
    ltoks, ftoks, marks = _read(lex, text, low)
    return ltoks, ftoks, bool(marks & M_ACCENTED)


def _read(lex: _Lexicon, text: str, low: str) -> tuple[list[str], list[str], int]:
    """`_tokens`, with the M_ bits of the message (vocabulary) instead of the accent flag."""
    if "\n" not in low:
        # Chat repeats its words: each whitespace-separated chunk is split, mended, folded and
        # its teen code expanded once, then costs one lookup.
        ltoks: list[str] = []
        ftoks: list[str] = []
        marks = 0
        memo = _CHUNKS
        for chunk in low.split():
            got = memo.get(chunk) or _read_chunk(lex, chunk)
            ltoks += got[0]
            ftoks += got[1]
            marks |= got[2]
        if not marks & M_MAY_BE_POLICE:
            return ltoks, ftoks, marks
    # A punctuation run may hold the newline and the spaces around it, and "ca" is read with
    # its neighbours before the teen code is expanded: the whole text at once.
    ltoks = _split_tokens(low)
    if not _SOUND.issuperset(ltoks):
        ltoks = _mend_all(lex, ltoks)
    ftoks = [_FOLD_MEMO.get(t) or _fold_token(t) for t in ltoks]
    accented = ftoks != ltoks
    if "ca" in ftoks:
        ltoks, ftoks = _police(lex, text, ltoks, ftoks, accented)
    if not lex.alias_keys.isdisjoint(ltoks):
        ltoks, ftoks = lex.expand(ltoks, ftoks)
    marks = _word_marks(lex, ftoks) | (M_ACCENTED if accented else 0)
    marks |= M_LAUGH if _LAUGH_RE.search(low) else 0
    return ltoks, ftoks, marks | (M_DIGIT if _DIGIT_RE.search(low) else 0)


def _word_marks(lex: _Lexicon, ftoks: Iterable[str]) -> int:
    """The M_ bits of the word lists these folded words are in."""
    marks = 0
    get = lex.word_marks.get
    for ft in ftoks:
        marks |= get(ft, 0)
    return marks


# A chunk of text between spaces -> its tokens (mended, teen code expanded), their folded forms,
# and the M_ bits of the chunk (vocabulary): `_read` ORs them over the message.
_CHUNKS: dict[str, tuple[tuple[str, ...], tuple[str, ...], int]] = {}
CHUNKS_MAX = 100_000  # bounded: odd input must not grow memory for ever
_DIGIT_RE: Final = re.compile(r"[0-9]")


def _read_chunk(lex: _Lexicon, chunk: str) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """The tokens of one chunk (no whitespace in it) as `_read` reads them, remembered."""
    ltoks = _split_tokens(chunk)
    if not _SOUND.issuperset(ltoks):
        ltoks = _mend_all(lex, ltoks)
    ftoks = [_FOLD_MEMO.get(t) or _fold_token(t) for t in ltoks]
    # As typed: "ca" is read by _police before any teen code is expanded.
    marks = (M_ACCENTED if ftoks != ltoks else 0) | (M_MAY_BE_POLICE if "ca" in ftoks else 0)
    if not lex.alias_keys.isdisjoint(ltoks):
        ltoks, ftoks = lex.expand(ltoks, ftoks)
    marks |= _word_marks(lex, ftoks) | (M_DIGIT if _DIGIT_RE.search(chunk) else 0)
    marks |= M_LAUGH if _LAUGH_RE.search(chunk) else 0
    # Interned, like the keys of the lexicon and of the learned model: a lookup then finds its
    # key by identity without reading the key's characters (they are rarely in the CPU cache).
    got = (tuple(map(intern, ltoks)), tuple(map(intern, ftoks)), marks)
    if len(_CHUNKS) < CHUNKS_MAX:
        _CHUNKS[chunk] = got
    return got


# Typed token -> the token(s) meant (spelling.mend, or two words typed as one): most tokens are
# seen before, so a message pays one lookup a word.
_MENDED: dict[str, str] = {}
_SOUND: set[str] = (
    set()
)  # tokens seen that need no mending (the keys of _MENDED that map to themselves)
_RUNS: dict[str, tuple[str, str]] = {}


def _mend_all(lex: _Lexicon, ltoks: list[str]) -> list[str]:
    """The tokens with typing slips mended; words typed as one are split (and not remembered
    in `_MENDED`, so the fast path in `_tokens` never skips them)."""
    out: list[str] = []
    for tok in ltoks:
        known = _MENDED.get(tok)
        if known is not None:
            out.append(known)
            continue
        if len(tok) > 2 and tok.count("k") == len(tok):
            continue  # "kkk" is laughter, not "k" (không) held down
        run = _RUNS.get(tok)
        got = tok
        if run is None:
            got = mend(lex, tok)
            if got == tok:
                run = split_run(lex, tok)
        if run is not None:
            if len(_RUNS) < 10_000:
                _RUNS[tok] = run
            out += run
            continue
        if len(_MENDED) < 100_000:  # bounded: odd input must not grow memory for ever
            _MENDED[tok] = got
            if got == tok:
                _SOUND.add(tok)
        out.append(got)
    return out


def _police(
    lex: _Lexicon, text: str, ltoks: list[str], ftoks: list[str], accented: bool
) -> tuple[list[str], list[str]]:
    """Read "ca" as công an where the writer meant the police (CA in running text, ca phường)."""
    orig = _split_tokens(text) if "CA" in text else []
    if len(orig) != len(ltoks):
        orig = []
    shouting = text.isupper()
    out_l: list[str] = []
    out_f: list[str] = []
    for k, ft in enumerate(ftoks):
        if ft == "ca":
            nxt = ftoks[k + 1] if k + 1 < len(ftoks) else "_"
            police = any(tuple(ftoks[k + 1 : k + 1 + len(p)]) == p for p in lex.ca_police_next)
            if not police and orig and orig[k] == "CA" and not shouting:
                police = not nxt.isdigit() and not (
                    nxt != "_" and lex.ca_shift_next.has(ltoks[k + 1], accented)
                )
            if police:
                out_l += ["công", "an"]
                out_f += ["cong", "an"]
                continue
        out_l.append(ltoks[k])
        out_f.append(ft)
    return out_l, out_f


# What a person named just before weighs for a reading of what befalls a person: more than
# the words around it (`near`, 0.5), so "bao cao: cn bi ngat" is ngất despite báo (ngắt báo).
PERSON_BONUS = 1.0
# The most words a person noun takes: "nam thanh niên".
PERSON_WORDS = 3


def _pick(
    lex: _Lexicon,
    g: _Group,
    i: int,
    ltup: tuple[str, ...],
    words: tuple[str, ...],
    accented: bool,
    clause_start: bool,
) -> tuple[_Entry, bool, bool] | None:
    """The reading of a matched group: exact first, else by prior and context (`words`, the
    message's folded tokens, and a person named just before); and whether it rested on a form
    the lexicon calls ambiguous."""
    cands = _readings(g, i, ltup, accented, clause_start)
    if not cands:
        return None
    if len(cands) == 1:
        return cands[0][0], cands[0][1], False
    chosen, best = cands[0][0], -1.0
    person: bool | None = None  # looked up once, for the first reading that asks
    for e, _ in cands:
        score = e.prior + (0.5 if e.near and not e.near.isdisjoint(words) else 0.0)
        if e.person:
            if person is None:
                person = _person_before(lex, ltup, words, i)
            score += PERSON_BONUS if person else 0.0
        if score > best:
            chosen, best = e, score
    return chosen, False, g.ambiguous and len({(e.kind, e.cat) for e, _ in cands}) > 1


def _person_before(lex: _Lexicon, ltoks: tuple[str, ...], ftoks: tuple[str, ...], i: int) -> bool:
    """Whether a person is named right before token i, maybe with `person_gap` words or their
    place between ("công nhân vừa bị", "chị ấy bị", "chị bảo vệ cổng 2 bị")."""
    k = i
    while k > 0:
        if lex.person_gap.has(ltoks[k - 1], ltoks[k - 1] != ftoks[k - 1]):
            k -= 1
        elif k > 1 and _is_code(ftoks[k - 1]) and lex.place_triggers.has(ltoks[k - 2], False):
            k -= 2
        else:
            break
    return any(
        lex.persons.at(ltoks, ftoks, j, k) == k - j
        # "dien chi bi ngat": after a utility, unmarked "chi" is chỉ (only), not chị.
        and not (j > 0 and ftoks[j - 1] in lex.person_not_after)
        for j in range(max(0, k - PERSON_WORDS), k)
    )


def _asks(lex: _Lexicon, folded: str, typed: str) -> bool:
    """Whether a clause's last word is a question particle: "chưa", or "chua" typed bare,
    but not "chứa" (a tank) nor "khống" whose marks say they are other words."""
    return folded in lex.q_final and (typed == folded or typed in lex.q_final_typed)


def _asks_who(
    lex: _Lexicon, ltup: tuple[str, ...], ftup: tuple[str, ...], i: int, accented: bool
) -> bool:
    """Whether token i is a question word that asks ("ai trực", not "ai cũng", "ai đó")."""
    if not (lex.qw_any.has(ltup[i], accented) or ltup[i] in lex.qw_marked):
        return False
    return i + 1 >= len(ftup) or ftup[i + 1] not in lex.qw_not_before


@dataclass(slots=True)
class _Asking:
    """What the question words of one clause say (lexicon `question_word`); made at its first
    question word, which few clauses hold."""

    at: int  # the clause's first token
    lead: bool  # the clause opens with a time or a place: "hôm qua", "kho 2 chìa khóa"
    asked: bool = False  # a question word that asks, for a closing "vậy"/"thế"
    start: int = -1  # the signals before a question that starts at its word; -1: none
    anyone: bool = False  # "ai vào cũng phải ghi sổ", "ai trực thì ghi sổ": whoever

    def word(self, lex: _Lexicon, ftup: tuple[str, ...], i: int, signals: int, said: bool) -> None:
        """A question word at token i, `signals` signals before it; `said`: some of them are
        the clause's ("em không hiểu ca nào trực vậy anh" does not understand: no question)."""
        self.asked = self.asked or not said
        if ftup[i] in lex.qw_after_lead and self.start < 0:
            after_lead = self.lead and not said and i - self.at <= lex.qw_lead_max
            if after_lead or (i > self.at and ftup[i - 1] in lex.qw_after_report):
                self.start = signals

    def close(
        self, lex: _Lexicon, ltup: tuple[str, ...], ftup: tuple[str, ...], end: int, accented: bool
    ) -> tuple[bool, int]:
        """Whether the clause (tokens up to `end`) asks, and the signals before its question."""
        if self.anyone:
            return False, 0
        if self.start >= 0:
            return True, self.start
        return self.asked and _ends_asking(lex, ltup, ftup, self.at, end, accented), 0


def _ends_asking(
    lex: _Lexicon, ltup: tuple[str, ...], ftup: tuple[str, ...], a: int, b: int, accented: bool
) -> bool:
    """Whether tokens a..b end in "vậy"/"thế", maybe with vocatives after it ("vậy anh")."""
    for k in range(b - 1, a - 1, -1):
        if lex.qw_end.has(ltup[k], accented):
            return True
        if ftup[k] not in lex.vocative:
            return False
    return False


def _leads(lex: _Lexicon, word: str, accented: bool) -> bool:
    """Whether a clause's first word opens a time or a place ("tối nay", "kho 2")."""
    return lex.qw_lead.has(word, accented) or lex.place_triggers.has(word, accented)


def _scan(lex: _Lexicon, ltoks: list[str], ftoks: list[str], accented: bool) -> _Scan:
    """One pass over the tokens: longest phrase at each position, negation scopes, clauses."""
    first = lex.first
    vocative = lex.vocative
    q_marked = lex.q_final_marked
    q_words = lex.qw_folded
    q_anyone = lex.qw_anyone
    n = len(ftoks)
    ftup = tuple(ftoks)
    ltup = tuple(ltoks)
    signals: list[tuple[_Entry, int, int, int, bool, bool]] = []
    questions = [False]
    asked_from = [0]
    clause = 0
    ask: _Asking | None = None  # the clause's question words, once it has one
    clause_at = clause_signals = 0  # the clause's first token, and the signals before it
    clause_start = True
    clause_len = 0
    last_free = ""  # last standalone word of the clause, for "đã nhận chưa"
    last_typed = ""  # the same word as typed (lower case): "bồn chứa" ends in no "chưa"
    neg = 0
    neg_left = 0
    negation = 0  # what the open negation is: NEGATED or NOT_YET
    guesses = negated_guesses = 0  # ambiguous readings, and those of negated signals
    causes: list[tuple[int, int]] = []
    mode = _PLAIN
    ambiguous = False
    i = 0
    while i < n:
        ft = ftup[i]
        if ft[0] in _BOUNDARY_CHARS:
            if "?" in ft or (clause_len > 1 and _asks(lex, last_free, last_typed)):
                questions[clause] = True
            if ask is not None:
                _close(ask.close(lex, ltup, ftup, i, accented), questions, asked_from, clause)
                ask = None
            clause += 1
            questions.append(False)
            asked_from.append(0)
            clause_at, clause_signals = i + 1, len(signals)
            clause_start, clause_len, last_free = True, 0, ""
            neg = 0
            mode = _PLAIN
            i += 1
            continue
        if ask is not None and ft in q_anyone:
            ask.anyone = True
        slot = first.get(ft)
        chosen: _Entry | None = None
        size = 1
        exact = False
        amb = False
        if slot is not None:
            multi, single = slot
            if multi and i + 1 < n:
                for g in multi.get(ftup[i + 1], ()):
                    size = g.size
                    if size > 2 and ftup[i : i + size] != g.ftoks:
                        continue
                    plain = g.plain
                    if plain is not None and (not accented or ltup[i : i + size] == plain.toks):
                        # One reading typed bare or exactly: what _pick would say, without it.
                        chosen, exact = plain, accented
                        amb = g.bare_guess and not accented
                        ambiguous = ambiguous or amb
                        break
                    picked = _pick(lex, g, i, ltup, ftup, accented, clause_start)
                    if picked is not None:
                        chosen, exact, amb = picked
                        amb = amb or (g.bare_guess and not exact and chosen.kind == _INC)
                        ambiguous = ambiguous or amb
                        break
            if chosen is None and single is not None:
                size = 1
                plain = single.plain
                if plain is not None and (not accented or ltup[i] == plain.toks[0]):
                    # One reading, one word, typed bare or exactly: the common case, done here.
                    chosen, exact = plain, accented
                    if single.bare_guess and not accented:
                        amb = ambiguous = True
                else:
                    picked = _pick(lex, single, i, ltup, ftup, accented, clause_start)
                    if picked is not None:
                        chosen, exact, amb = picked
                        amb = amb or (single.bare_guess and not exact and chosen.kind == _INC)
                        ambiguous = ambiguous or amb
        if chosen is None:
            if ft in q_words and neg == 0 and _asks_who(lex, ltup, ftup, i, accented):
                if ask is None:
                    ask = _Asking(clause_at, _leads(lex, ltup[clause_at], accented))
                ask.word(lex, ftup, i, len(signals), len(signals) > clause_signals)
            if neg == _SCOPE_SHORT:
                neg_left -= 1
                if neg_left <= 0:
                    neg = 0
            if (ft not in vocative or ltup[i] in q_marked) and ft.isalnum():
                last_free, last_typed = ft, ltup[i]
            # "chị ơi cho em hỏi…", "anh ơi ai trực…": a call opens the clause, it does not
            # start its words.
            clause_start = clause_start and ft in vocative
            clause_len += 1
            i += 1
            continue
        kind = chosen.kind
        if amb:
            guesses += 1
            negated_guesses += neg != 0 and kind != _NEG and kind != _CONJ
        if kind == _NEG:
            neg = _SCOPE_CLAUSE if chosen.scope == _SCOPE_CLAUSE else _SCOPE_SHORT
            neg_left = 3
            negation = NOT_YET if chosen.phrase in lex.not_yet else NEGATED
        elif kind == _CONJ:
            neg = 0
            mode = _PLAIN
        elif kind == _EXPLAIN:
            neg = 0
            mode = _EXPLAINED
        elif kind == _CAUSE:
            neg = 0
            mode = _CAUSED
            if i + size >= n or ftup[i + size] not in lex.cause_unsaid:
                causes.append((len(signals), clause))
        elif kind == _PREVENT:
            neg = 0
            mode = _PREVENTED
        elif kind in (_NEUTRAL, _FOUND):
            if kind == _FOUND:
                # A finding is context for the report, not its predicate: it lets a negation
                # run on ("chưa ai phát hiện ra cháy") as the word did when it was neutral.
                signals.append((chosen, negation if neg else 0, clause, mode, exact, amb))
            if neg == _SCOPE_SHORT:
                neg_left -= size
                if neg_left <= 0:
                    neg = 0
        else:
            if kind == _Q:
                questions[clause] = True
            signals.append((chosen, negation if neg else 0, clause, mode, exact, amb))
            if chosen.scope == _SCOPE_CLAUSE:
                neg = _SCOPE_CLAUSE
                negation = NEGATED
            elif neg == _SCOPE_SHORT:
                neg = 0  # the predicate closes a short negation
        if size == 1:
            if ft not in vocative:
                last_free, last_typed = ft, ltup[i]
        elif not vocative.issuperset(ftup[i : i + size]):
            last_free = ""  # "... chưa các đồng chí": a vocative phrase trails the question
        clause_start = False
        clause_len += size
        i += size
    if clause_len > 1 and _asks(lex, last_free, last_typed):
        questions[clause] = True
    if ask is not None:
        _close(ask.close(lex, ltup, ftup, n, accented), questions, asked_from, clause)
    only_negated = guesses > 0 and negated_guesses == guesses
    return _Scan(signals, questions, ambiguous, only_negated, tuple(causes), tuple(asked_from))


def _close(
    asking: tuple[bool, int], questions: list[bool], asked_from: list[int], clause: int
) -> None:
    """Mark the clause a question when its question words ask; the question starts at its
    word when one after a time, a place or "rồi" asks ("cháy kho 2 rồi ai gọi 114 chưa")."""
    asks, start = asking
    if asks:
        questions[clause] = True
        asked_from[clause] = start


ClauseTest = Callable[[_Lexicon, list[str], list[str], int, int], bool]


def _clauses_where(
    test: ClauseTest, lex: _Lexicon, ltoks: list[str], ftoks: list[str]
) -> frozenset[int]:
    """The clauses (numbered as `_scan` numbers them) whose tokens a..b pass `test`."""
    return frozenset(
        clause
        for clause, (a, b) in enumerate(_clause_spans(ftoks))
        if b > a and test(lex, ltoks, ftoks, a, b)
    )


def _clause_spans(ftoks: list[str]) -> list[tuple[int, int]]:
    """Each clause's tokens a..b (numbered as `_scan` numbers them; a..a when empty)."""
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(ftoks)
    for k in range(n + 1):
        if k == n or ftoks[k][0] in _BOUNDARY_CHARS:
            spans.append((start, k))
            start = k + 1
    return spans


def _directed_clauses(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> frozenset[int]:
    """The clauses that tell others what to do: "nhớ có mặt đúng giờ nhé", "các đồng chí có
    mặt lúc 7h" (lexicon `directive`)."""
    return _clauses_where(_directs, lex, ltoks, ftoks)


def _promised_clauses(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> frozenset[int]:
    """The clauses that name the shift's end as the time of a promise: "hết ca em báo anh
    nhé" (lexicon `shift_end_when`); their check-in words sign nobody off."""
    if lex.shift_end_words.isdisjoint(ftoks):
        return frozenset()
    return _clauses_where(_promises, lex, ltoks, ftoks)


def _promises(lex: _Lexicon, ltoks: list[str], ftoks: list[str], a: int, b: int) -> bool:
    """Whether tokens a..b, one clause, hold a shift's end then maybe the sender, maybe "sẽ",
    then a verb of what will be done ("hết ca em báo anh", "xong ca e gửi sổ")."""
    for k in range(a, b):
        size = lex.shift_ends.at(ltoks, ftoks, k, b)
        if not size:
            continue
        j = k + size
        for words in (lex.when_subjects, lex.when_will):
            j += words.at(ltoks, ftoks, j, b) if j < b else 0
        if j < b and lex.when_verbs.at(ltoks, ftoks, j, b):
            return True
    return False


def _others_absent_clauses(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> frozenset[int]:
    """The clauses whose absence is someone else's: "anh Nam xin nghỉ hôm nay", "ca 3 có 1
    bạn ốm xin nghỉ" (lexicon `others_absent`); "anh ơi em xin nghỉ" stays the sender's."""
    return _clauses_where(_someone_else_away, lex, ltoks, ftoks)


def _someone_else_away(lex: _Lexicon, ltoks: list[str], ftoks: list[str], a: int, b: int) -> bool:
    """Whether the subject before the clause's first absence word is another person: one
    counted ("1 bạn", "có người", "2 cn"), or, with no word of the sender, a title and a name
    ("anh Nam", "đồng chí Hùng"). A title alone ("chị xin nghỉ") is the sender speaking."""
    spec = lex.others_absent
    named = spec.titles | spec.people
    # "bạn" folds like "bận" (busy, an absence word): a person's word is never the absence.
    end = next(
        (k for k in range(a, b) if ftoks[k] not in named and _absent_at(lex, ltoks, ftoks, k, b)),
        b,
    )
    if end in (a, b):
        return False
    units = _units(ltoks[a:end], ftoks[a:end], named | spec.counts, spec.typed)
    for k, (unit, _word) in enumerate(units):
        before = units[k - 1][0] if k else ""
        if unit in spec.people and (before in spec.counts or before.isdigit()):
            return True
    if any(unit in spec.senders for unit, _ in units):
        return False
    return any(
        unit in spec.titles
        and k + 1 < len(units)
        and units[k + 1][1] not in lex.vocative
        and units[k + 1][0] not in named
        and units[k + 1][1] not in spec.not_names
        for k, (unit, _word) in enumerate(units)
    )


# Typed bare, "ban" is as often bàn (a table, to discuss) or bận (busy) as bạn.
_BARE_UNSURE: Final = frozenset({"ban"})


def _units(
    ltoks: list[str], ftoks: list[str], phrases: frozenset[str], typed: frozenset[str]
) -> list[tuple[str, str]]:
    """(as a word of `phrases`, folded) for each word, two joined where together they are one
    ("dong chi"). A word typed with marks counts as one of `phrases` only as `typed` holds it:
    "bàn chuyện" is no "bạn Chuyện"."""
    out: list[tuple[str, str]] = []
    k = 0
    while k < len(ftoks):
        size = 2 if k + 1 < len(ftoks) and " ".join(ftoks[k : k + 2]) in phrases else 1
        folded = " ".join(ftoks[k : k + size])
        as_typed = " ".join(ltoks[k : k + size])
        plain = as_typed in typed or (as_typed == folded and folded not in _BARE_UNSURE)
        out.append((folded if plain else f"~{folded}", folded))
        k += size
    return out


def _absent_at(lex: _Lexicon, ltoks: list[str], ftoks: list[str], k: int, b: int) -> bool:
    """Whether an absence phrase surely starts at token k: typed as it is, or typed bare where
    it is no other word ("nghi" may be nghi, suspected; "om" ôm, carrying)."""
    for g in _groups_at(lex, ftoks, k, b):
        typed = tuple(ltoks[k : k + g.size])
        if any(e.kind == _ABSENT and e.toks == typed for e in g.entries):
            return True
        if all(e.kind == _ABSENT for e in g.entries) and typed == g.ftoks:
            return True
    return False


def _arrived_clauses(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> frozenset[int]:
    """The clauses in which the sender says he has arrived: "em tới nơi rồi", "e tới cổng 2
    rồi", "đã đến" (lexicon `arrival`)."""
    if lex.arrival_verb_words.isdisjoint(ftoks):
        return frozenset()
    return _clauses_where(_arrives, lex, ltoks, ftoks)


def _arrives(lex: _Lexicon, ltoks: list[str], ftoks: list[str], a: int, b: int) -> bool:
    """Whether tokens a..b, one clause, say the sender arrived (see the lexicon's `arrival`)."""
    k, done = a, False
    while True:  # who arrives: call words or the sender only ("xe cứu hỏa tới" is not ours)
        if k >= b:
            return False
        verb = lex.arrival_verbs.at(ltoks, ftoks, k, b)
        if verb:
            break
        size = lex.arrival_before.at(ltoks, ftoks, k, b)
        done = done or bool(size)
        if not size:
            # "to 2" is "tổ 2" (a team), not "tớ" (I): the longer reading
            size = max(
                lex.arrival_senders.at(ltoks, ftoks, k, b), _team_size(lex, ltoks, ftoks, k, b)
            )
        if not size and (ftoks[k] in lex.vocative or ftoks[k] in lex.directive_calls):
            size = 1
        if not size:
            return False
        k += size
    k += verb
    k = _destination_end(lex, ltoks, ftoks, k, b)
    if k < 0:
        return False
    size = lex.arrival_done.at(ltoks, ftoks, k, b) if k < b else 0
    done = done or bool(size)
    k += size
    tail = lex.arrival_after | lex.vocative
    return done and all(ft in tail for ft in ftoks[k:b])


def _roll_call_clauses(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> frozenset[int]:
    """The clauses that call the roll of the sender's shift: "ca chiều tổ bảo vệ đủ 4 người",
    "tổ 2 thiếu 1 người" (lexicon `roll_call`)."""
    if lex.roll_count_words.isdisjoint(ftoks) and not any(t.isdigit() for t in ftoks):
        return frozenset()
    return _clauses_where(_calls_roll, lex, ltoks, ftoks)


def _calls_roll(lex: _Lexicon, ltoks: list[str], ftoks: list[str], a: int, b: int) -> bool:
    """Whether tokens a..b, one clause, name a team or shift and then its head count full or
    short ("ca 3 đủ 4 người", "quân số thiếu 1/5")."""
    k, team, named_at = a, False, a
    while k < b:
        if not team:
            size = lex.roll_teams.at(ltoks, ftoks, k, b)
            team = bool(size)
            k += size or 1
            named_at = k
            continue
        if k - named_at <= ON_DUTY_GAP and _on_duty_at(lex, ltoks, ftoks, k, b):
            return True
        size = lex.roll_counts.at(ltoks, ftoks, k, b)
        if size and lex.roll_not_after.has(ltoks[k - 1], ltoks != ftoks):
            size = 0  # "tối thiểu 2 người": a minimum
        if size and _head_count_at(lex, ltoks, ftoks, k + size, b):
            return True
        k += size or 1
    return False


# At most this many words (the shift's name, "đêm nay", the company) between the team and how
# many are on duty: "tổ chức ... cho 15 người" is no team's count.
ON_DUTY_GAP = 4


def _on_duty_at(lex: _Lexicon, ltoks: list[str], ftoks: list[str], k: int, b: int) -> bool:
    """Whether how many are on duty is said from k to the clause's end: "có 4 người trực",
    "3 anh em trực", "4 người" and particles (lexicon `roll_call.on_duty`)."""
    k += lex.roll_has.at(ltoks, ftoks, k, b)
    if k >= b or not ftoks[k].isdigit():
        return False
    k += 1
    if k >= b:
        return False
    size = lex.roll_counted.at(ltoks, ftoks, k, b)  # not "em": "chốt cổng 2 em" is the gate's
    if not size:
        return False
    k += size
    if k < b and lex.roll_on_duty.at(ltoks, ftoks, k, b):
        return True
    tail = lex.arrival_after | lex.vocative
    return all(ft in tail for ft in ftoks[k:b])


FRACTION = 2  # "4/4" is two number tokens


def _head_count_at(lex: _Lexicon, ltoks: list[str], ftoks: list[str], k: int, b: int) -> bool:
    """Whether a head count stands at k: a number maybe ("4", "4/4"), then whom it counts
    (người, quân số, a people noun); a fraction alone counts too ("đủ 5/5")."""
    digits = 0
    while k < b and digits < FRACTION and ftoks[k].isdigit():
        k, digits = k + 1, digits + 1
    if k < b and (lex.roll_counted.at(ltoks, ftoks, k, b) or lex.persons.at(ltoks, ftoks, k, b)):
        return True
    return digits == FRACTION


def _responder_clauses(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> frozenset[int]:
    """The clauses that say the fire brigade or the police are coming or there: "xe cứu hỏa
    tới nơi rồi", "công an đã có mặt" (lexicon `responders`)."""
    if lex.responder_verb_words.isdisjoint(ftoks):
        return frozenset()
    return _clauses_where(_responders_come, lex, ltoks, ftoks)


def _responders_come(lex: _Lexicon, ltoks: list[str], ftoks: list[str], a: int, b: int) -> bool:
    """Whether tokens a..b, one clause, say responders are coming or there. An ambulance
    says someone is hurt: its clause is read as it always was (a report)."""
    return _responder_at(lex, ltoks, ftoks, a, b) not in (None, MEDICAL)


def _responder_at(
    lex: _Lexicon, ltoks: list[str], ftoks: list[str], a: int, b: int, work: bool = False
) -> str | None:
    """The service ("fire", "police", "power"...) that tokens a..b, one clause, say is coming
    or there: call words, a unit, the service and its area, before-words, the verb, a
    destination, rồi and particles, nothing else. `work`: their work may follow the verb or
    stand for it, with what it works on ("đã tới xử lý cột điện", "đang khắc phục")."""
    k = a
    while k < b and (ftoks[k] in lex.vocative or ftoks[k] in lex.directive_calls):
        k += 1
    service, k = _service_at(lex, ltoks, ftoks, k, b)
    if service is None:
        return None
    while k < b and (size := lex.responder_area.at(ltoks, ftoks, k, b)):
        k += size
    named = k
    while k < b and (size := lex.responder_before.at(ltoks, ftoks, k, b)):
        k += size
    if work and k > named and _works_at(lex, ltoks, ftoks, k, b):
        return service  # "điện lực đang khắc phục": a before-word, then the work
    verb = lex.responder_verbs.at(ltoks, ftoks, k, b) if k < b else 0
    if not verb:
        return None
    k += verb
    if work and _works_at(lex, ltoks, ftoks, k, b):
        return service  # "điện lực đã tới xử lý cột điện"
    if k < b and ftoks[k] in lex.responder_at:  # "có mặt tại hiện trường"
        k += 1
    k = _destination_end(lex, ltoks, ftoks, k, b)
    if k < 0:
        return None
    k += lex.arrival_done.at(ltoks, ftoks, k, b) if k < b else 0
    tail = lex.arrival_after | lex.vocative
    return service if all(ft in tail for ft in ftoks[k:b]) else None


def _works_at(lex: _Lexicon, ltoks: list[str], ftoks: list[str], k: int, b: int) -> bool:
    """Whether responders' work ("xử lý", "sửa", "đưa nạn nhân đi viện") starts at token k."""
    return k < b and bool(lex.responder_work.at(ltoks, ftoks, k, b))


def _service_at(
    lex: _Lexicon, ltoks: list[str], ftoks: list[str], k: int, b: int
) -> tuple[str | None, int]:
    """The service named at token k, maybe after a unit ("bên công an", "xe của cảnh sát"),
    and the token after it; (None, k) when none is."""
    for start in (k, k + (lex.responder_units.at(ltoks, ftoks, k, b) if k < b else 0)):
        for name, phrases in lex.responder_services.items():
            size = phrases.at(ltoks, ftoks, start, b) if start < b else 0
            if size:
                return name, start + size
    return None, k


def _team_size(lex: _Lexicon, ltoks: list[str], ftoks: list[str], k: int, b: int) -> int:
    """The tokens of the sender's team at k ("tổ 2", "ca B", "đội tuần tra"), or 0."""
    size = lex.arrival_teams.at(ltoks, ftoks, k, b)
    if size and k + size < b and _is_code(ftoks[k + size]):
        size += 1
    return size


def _is_code(ft: str) -> bool:
    """A number or a short code ("2", "b", "a3"): what names a team, a gate, a lot."""
    return ft.isalnum() and (len(ft) <= 2 or any(c.isdigit() for c in ft))


# The most words a destination takes after its place word: "vị trí chốt lô D2".
DESTINATION_WORDS = 4


def _destination_end(lex: _Lexicon, ltoks: list[str], ftoks: list[str], k: int, b: int) -> int:
    """Where the destination after an arrival verb ends (k when there is none): nơi or a place
    word, then its code or name (no signal word: "tới cổng 2 thì thấy đánh nhau" is a report);
    -1 when something else follows the verb."""
    if k >= b or lex.arrival_done.at(ltoks, ftoks, k, b) or ftoks[k] in lex.arrival_after:
        return k
    size = lex.arrival_places.at(ltoks, ftoks, k, b)
    if not size and lex.place_triggers.has(ltoks[k], False):
        size = 1
    if not size and _a_name(lex, ltoks, ftoks, k):
        return k + 1  # "công an KCN đang tới Hansol": a company named bare, as members do
    if not size:
        return -1
    k += size
    accented = ltoks != ftoks
    for _ in range(DESTINATION_WORDS):
        if k >= b or lex.arrival_done.at(ltoks, ftoks, k, b) or ftoks[k] in lex.arrival_after:
            break
        if lex.starts_phrase(ltoks, ftoks, k, accented):
            return -1
        k += 1
    return k


def _a_name(lex: _Lexicon, ltoks: list[str], ftoks: list[str], k: int) -> bool:
    """Whether token k, the last of its clause, is a name ("Hansol"): no Vietnamese
    syllable, no word of the lexicon."""
    last = k + 1 == len(ftoks) or ftoks[k + 1][0] in _BOUNDARY_CHARS
    word = ftoks[k]
    return (
        last
        and word.isalpha()
        and word.isascii()
        and _SYLLABLE_RE.fullmatch(word) is None
        and not lex.starts_phrase(ltoks, ftoks, k, False)
    )


def _someone_trapped(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> bool:
    """Whether a trapped phrase ("bị kẹt trong", "mắc kẹt") follows a person named just
    before it in its clause: "có 1 người bị kẹt trong thang máy", not "thẻ bị kẹt trong máy"."""
    n = len(ftoks)
    for k in range(1, n):
        if not lex.trapped.at(ltoks, ftoks, k, n):
            continue
        for j in range(max(0, k - 3), k):  # a person noun of up to three words, ending at k
            if lex.persons.at(ltoks, ftoks, j, k) == k - j:
                return True
    return False


# The most words looked back from a scrape for what it befalls: "xe máy của chị Lan bị".
SCRAPED_REACH = 8
POSSESSIVE = "cua"  # folded "của": a person after it owns the thing ("xe của chị Lan")


def _thing_scraped(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> bool:
    """Whether the scrapes said ("trầy xước", "xây xát") befall a thing named before them in
    their clause ("xe bị trầy xước"), not a person ("chị Lan bị trầy xước")."""
    n, thing = len(ftoks), False
    for k in range(n):
        if not lex.scrapes.at(ltoks, ftoks, k, n):
            continue
        befalls = _scraped(lex, ltoks, ftoks, k)
        if befalls == "person":
            return False
        thing = thing or befalls == "thing"
    return thing


EXIT_REACH = 6  # the most words between an exit and what shuts it ("lối thoát hiểm xưởng 2 …")


def _exit_shut(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> bool:
    """Whether an escape route is said locked or blocked with words between ("lối thoát hiểm
    xưởng 2 bị khóa", "cửa thoát hiểm kho 3 bị chắn"): lexicon `exit_shut`, in one clause, the
    state not after a negation ("không còn bị khóa")."""
    n = len(ftoks)
    for k in range(n):
        size = lex.exit_words.at(ltoks, ftoks, k, n)
        if not size:
            continue
        for j in range(k + size, min(n, k + size + EXIT_REACH + 1)):
            if not ftoks[j].isalnum():
                break  # the clause ends
            if lex.exit_states.at(ltoks, ftoks, j, n):
                # Negations are read bare too: "cua thoat hiem khong bi chắn".
                return not (j and lex.exit_not_before.has(ftoks[j - 1], False))
    return False


def _bulb_burnt(
    lex: _Lexicon,
    ltoks: list[str],
    ftoks: list[str],
    signals: Sequence[tuple[_Entry, int, int, int, bool, bool]],
    accented: bool,
) -> bool:
    """Whether the message's fire words all say a lamp burnt out ("bóng đèn hành lang bị
    cháy"): each plain fire word is one of `burnt_bulb.burnt` and each of those follows a lamp
    in its clause, within `reach` words (lexicon `burnt_bulb`)."""
    fire = [e for e, negated, *_ in signals if e.kind == _INC and e.cat == "fire" and not negated]
    if not fire or any(e.phrase not in lex.bulb_burnt_phrases for e in fire):
        return False
    n = len(ftoks)
    lamp_end = -1  # the token after the last lamp of the clause, or -1
    burnt = 0
    for k in range(n):
        if not ftoks[k].isalnum():
            lamp_end = -1  # the clause ends
            continue
        size = lex.bulb_lamps.at(ltoks, ftoks, k, n)
        if size and (accented or size > 1 or ftoks[k] != "den"):  # bare "den" may be đến
            lamp_end = k + size
            continue
        if lex.bulb_burnt.at(ltoks, ftoks, k, n):
            if lamp_end < 0 or k - lamp_end > lex.bulb_reach:
                return False  # a fire word with no lamp before it
            burnt += 1
    return burnt > 0


def _scraped(lex: _Lexicon, ltoks: list[str], ftoks: list[str], k: int) -> str:
    """What the scrape at token k befalls: the nearest "person" or "thing" named before it in
    its clause (a person after "của" owns the thing), or "" when none is."""
    for end in range(k, max(0, k - SCRAPED_REACH), -1):
        if not ftoks[end - 1].isalnum():
            return ""  # the clause begins
        for start in range(max(0, end - PERSON_WORDS), end):
            if lex.persons.at(ltoks, ftoks, start, end) == end - start:
                if start == 0 or ftoks[start - 1] != POSSESSIVE:
                    return "person"
            elif lex.scraped_things.at(ltoks, ftoks, start, end) == end - start:
                return "thing"
    return ""


def _people_inside(lex: _Lexicon, ltoks: list[str], ftoks: list[str], accented: bool) -> bool:
    """Whether people are said to be inside what is stuck: "thang máy bị kẹt, có 2 người bên
    trong" (lexicon `trapped_inside`), not "không có ai bên trong"."""
    return lex.inside_stuck.has_any(ltoks, accented) and _someone_inside(lex, ltoks, ftoks)


# The most words between "bên trong" and the people it holds: "bên trong vẫn còn 2 người".
INSIDE_GAP = 4


def _someone_inside(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> bool:
    """Whether people are said to be inside, named before the words ("có 2 người bên trong")
    or after them in the clause with a word that holds them ("bên trong có 2 người", "ở trong
    còn 1 chị"), not negated ("bên trong không có ai")."""
    n = len(ftoks)
    for k in range(n):
        size = lex.inside_words.at(ltoks, ftoks, k, n)
        if not size:
            continue
        for j in range(max(0, k - 3), k):  # a person noun of up to three words, ending at k
            if lex.persons.at(ltoks, ftoks, j, k) == k - j and not _denied(lex, ltoks, ftoks, j):
                return True
        held = False  # after the words, people are there when something holds them
        for j in range(k + size, min(n, k + size + INSIDE_GAP)):
            if ftoks[j][0] in _BOUNDARY_CHARS:
                break
            held = held or lex.inside_holds.has(ltoks[j], ltoks[j] != ftoks[j])
            if held and lex.persons.at(ltoks, ftoks, j, n) and not _denied(lex, ltoks, ftoks, j):
                return True
    return False


def _denied(lex: _Lexicon, ltoks: list[str], ftoks: list[str], j: int) -> bool:
    """Whether the people named at token j are denied: "không có ai", "chưa có người"."""
    return any(
        lex.inside_not_after.at(ltoks, ftoks, a, j) == j - a for a in range(max(0, j - 2), j)
    )


def _says_any(phrases: _Phrases, ltoks: list[str], ftoks: list[str]) -> bool:
    """Whether one of `phrases` is in the message."""
    n = len(ftoks)
    return any(phrases.at(ltoks, ftoks, k, n) for k in range(n))


def _fire_alarm_false(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> bool:
    """Whether the message speaks of a fire alarm gone off ("chuông báo cháy kêu") or said
    false ("báo cháy giả") and gives no cause ("do đầu báo dính bụi", "hóa ra là hơi nước"):
    read with an all-clear, a false fire alarm of unknown cause (lexicon `fire_alarm`)."""
    if _says_any(lex.explain_words, ltoks, ftoks) or _gives_cause(lex, ltoks, ftoks):
        return False
    if _says_any(lex.alarm_false, ltoks, ftoks):
        return True
    return _says_any(lex.alarms, ltoks, ftoks) and _says_any(lex.alarm_sounded, ltoks, ftoks)


def _gives_cause(lex: _Lexicon, ltoks: list[str], ftoks: list[str]) -> bool:
    """Whether a cause word says what it was: "do đầu báo dính bụi", not "không biết do đâu"
    (an unsaid word that ends its clause; bare "do dau bao" is đầu báo)."""
    n = len(ftoks)
    for k in range(n):
        size = lex.cause_words.at(ltoks, ftoks, k, n)
        if not size or k + size >= n or not ftoks[k + size].isalnum():
            continue
        j = k + size
        unsaid = ftoks[j] in lex.cause_unsaid and (j + 1 >= n or not ftoks[j + 1].isalnum())
        if not unsaid:
            return True
    return False


def _directs(lex: _Lexicon, ltoks: list[str], ftoks: list[str], a: int, b: int) -> bool:
    """Whether tokens a..b, one clause, open with an opener or a plural addressee as subject."""
    k = a
    addressed = False
    while k < b:
        size = lex.directive_addressees.at(ltoks, ftoks, k, b)
        if size:
            addressed, k = True, k + size
        elif ftoks[k] in lex.directive_calls:
            addressed, k = False, k + 1  # "mọi người ơi": called, not the subject
        elif ftoks[k] in lex.vocative:
            k += 1
        else:
            break
    if k >= b:
        return False
    # An addressee directs only as the subject of the reply itself ("các đồng chí có mặt lúc
    # 7h"), not of a report ("ae cty mình ok hết", "anh em cổng 2 có mặt").
    if not lex.directive_openers.at(ltoks, ftoks, k, b) and not (
        addressed and _reply_at(lex, ftoks, k, b)
    ):
        return False
    return not any(_completes(lex, ltoks, ftoks, j, b) for j in range(a, b))


def _completes(lex: _Lexicon, ltoks: list[str], ftoks: list[str], j: int, b: int) -> bool:
    """Whether a word of completion at j makes a reminder's clause a report ("anh em cổng 2
    có mặt đủ rồi"); a roll call's head count ("nhớ báo ca 3 đủ 4 người") only says how many."""
    size = lex.directive_done.at(ltoks, ftoks, j, b)
    if not size or lex.directive_then.at(ltoks, ftoks, j, b):
        return False  # "nhớ bàn giao ca xong mới về": a condition, nothing done
    counts = lex.roll_counts.at(ltoks, ftoks, j, b)
    return not (counts and _head_count_at(lex, ltoks, ftoks, j + counts, b))


def _reply_at(lex: _Lexicon, ftoks: list[str], k: int, b: int) -> bool:
    """Whether a check-in, absence or acknowledgement phrase starts at token k (folded)."""
    return any(any(e.kind in _REPLIES for e in g.entries) for g in _groups_at(lex, ftoks, k, b))


def _groups_at(lex: _Lexicon, ftoks: list[str], k: int, b: int) -> list[_Group]:
    """The lexicon's phrases (their readings) that start at token k and end by token b."""
    slot = lex.first.get(ftoks[k])
    if slot is None:
        return []
    multi, single = slot
    groups = list(multi.get(ftoks[k + 1], ())) if multi and k + 1 < b else []
    if single is not None:
        groups.append(single)
    return [g for g in groups if tuple(ftoks[k : k + g.size]) == g.ftoks]
