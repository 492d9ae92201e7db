"""The lexicon (lexicon.yaml) compiled: phrase index, word lists, the regexes built from them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from sys import intern
from typing import Any, Final

import yaml

from handlers.parse.tokens import _TOKEN_RE
from handlers.text import fold, lower, normalize_text

LEXICON_PATH: Final = Path(__file__).parent.parent / "lexicon.yaml"

# Entry kinds.
(
    _INC, _CLEAR, _ACK, _NACK, _CHECKIN, _ABSENT, _Q, _SEV, _NEG, _CONJ, _EXPLAIN, _CAUSE, _NEUTRAL,
    _NOTICE, _PREVENT, _FOUND,
) = range(16)  # fmt: skip
# How a signal is read: as said, as the explanation after a denial, as a cause, or as what a
# warning is about ("tránh mất trộm": nothing was stolen).
_PLAIN, _EXPLAINED, _CAUSED, _PREVENTED = 0, 1, 2, 3
_SECTION_KINDS: Final = {
    "clear": _CLEAR,
    "ack": _ACK,
    "not_ack": _NACK,
    "check_in": _CHECKIN,
    "absent": _ABSENT,
    "question": _Q,
    "severity": _SEV,
    "neutral": _NEUTRAL,
    "notice": _NOTICE,
    "finding": _FOUND,
}
_SCOPE_SHORT, _SCOPE_CLAUSE = 1, 2
# What a message holds, one bit each, ORed over its chunks (scanning._read_chunk) so that a later
# stage asks one bit instead of testing the message's words against its word list: marks were
# typed, "ca" (maybe the police), a digit, and a folded word of each list below; laughter.
(
    M_ACCENTED, M_MAY_BE_POLICE, M_DIGIT, M_PLACE, M_COMPANY, M_NOUN, M_NUMBER, M_DAYPART,
    M_WEEKDAY, M_AGO, M_MONTH, M_LAUGH,
) = (1 << k for k in range(12))  # fmt: skip
M_TIME = M_DAYPART | M_WEEKDAY | M_AGO  # any time word that needs no digit
# Who may come to an incident (lexicon `responders`).
RESPONDER_SERVICES: Final = ("fire", "police", "power", "medical", "tow", "water")
MEDICAL: Final = "medical"  # an ambulance, a doctor: someone is hurt
LIGHT_INJURY: Final = "light_injury"  # the reason of a scrape, a light burn (never urgent)
REQUEST: Final = (
    "request"  # a notice phrase that asks for help with a check ("cần hỗ trợ xác minh")
)
TRAPPED: Final = "trapped"  # the reason of someone trapped, high only when a person is named
SHIFT_END: Final = "shift_end"  # the reason of "hết ca", "bàn giao ca xong": a shift's end
FAINTED: Final = "fainted"  # the reason of someone fainted (high, urgent)
CAME_TO: Final = "came_to"  # "đã tỉnh lại": the fainted came to, which makes the fainting not high
# Reasons that say someone is hurt: negated ("không ai bị ngất"), nobody is.
HURT: Final = frozenset(("injury", FAINTED))


@dataclass(frozen=True, slots=True)
class _Entry:
    phrase: str
    kind: int
    cat: str | None
    w: float
    sev: str | None
    prior: float
    near: frozenset[str]
    scope: int
    start_only: bool
    neg_cat: str
    deny: bool
    toks: tuple[str, ...]
    marked: bool  # written with diacritics
    why: str  # the reason word a severity signal gives ("injury", "put_out"...), or ""
    hint: bool  # a sign to check (a smell, smoke, a noise), not yet an event
    sign: bool  # one sign of an incident (a flame): negated, it clears only itself
    person: bool  # what befalls a person: favoured right after one ("công nhân bị ngat")


@dataclass(frozen=True, slots=True)
class _Group:
    """Entries sharing one folded phrase: the readings of that phrase."""

    ftoks: tuple[str, ...]
    entries: tuple[_Entry, ...]
    ambiguous: bool
    plain: _Entry | None  # the group's only entry, when it may appear anywhere
    size: int
    # An incident phrase holding a word that is ambiguous without diacritics ("chay kho"): typed
    # bare, its reading rests on that word even when the lexicon knows no other reading.
    bare_guess: bool


# First folded word -> (groups of two words or more keyed by the second word, the one-word group).
_Slot = tuple[dict[str, tuple[_Group, ...]], _Group | None]


def _units(ch: str) -> list[str]:
    """Regex pieces one character of a lower-case phrase may be typed as."""
    if ch == " ":
        return [r"\s+"]
    plain = fold(ch)
    return [re.escape(ch)] if plain == ch else [re.escape(ch), re.escape(plain)]


def _vi(word: str) -> str:
    """Regex for a lower-case phrase that also matches it typed without diacritics."""
    out = []
    for ch in word:
        units = _units(ch)
        out.append(units[0] if len(units) == 1 else f"[{''.join(units)}]")
    return "".join(out)


# Word-start check placed after the first character: the regex engine can then jump straight to
# the possible first letters, where a leading (?<!\w) makes it try every position.
_AFTER_FIRST = r"(?<!\w.)"


def _trie(words: Iterable[str], word_start: bool) -> str:
    """A non-capturing alternation of phrases (as `_vi` types them), longest first, as a trie."""
    # A flat alternation of dozens of phrases makes the engine try each one at every position;
    # the trie tests one character at a time. It matches what the flat alternation would:
    # siblings are distinct characters (or whitespace), so a text follows a single path, and
    # each node tries its longer continuations before ending there.
    root: dict[str, Any] = {}
    for w in set(words):
        paths: list[list[str]] = [[]]
        for k, ch in enumerate(w):
            units = _units(ch)
            if k == 0 and word_start:
                units = [u + _AFTER_FIRST for u in units]
            paths = [[*path, u] for path in paths for u in units]
        for path in paths:
            node = root
            for u in path:
                node = node.setdefault(u, {})
            node[""] = {}  # a phrase ends here

    def emit(node: dict[str, Any]) -> str:
        alts = [u + emit(child) for u, child in sorted(node.items()) if u]
        if "" in node:
            alts.append("")  # ending here is tried last: longer phrases first
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return "(?:" + emit(root) + ")"


def _alt(words: Iterable[str]) -> str:
    """A non-capturing alternation of phrases, longest first."""
    return _trie(words, word_start=False)


def _starts(words: Iterable[str]) -> str:
    """An alternation of phrases that must begin a word (see `_AFTER_FIRST`), longest first."""
    return _trie(words, word_start=True)


def _norm(phrase: str) -> str:
    return lower(normalize_text(str(phrase))).strip()


def _not_yet(negation: Mapping[str, Any]) -> frozenset[str]:
    """The negations that say "not yet" (lexicon `negation.not_yet`), each one a negation
    listed under `short` or `clause`."""
    known = {_norm(p) for key in ("short", "clause") for p in negation.get(key) or ()}
    words = frozenset(_norm(p) for p in negation.get("not_yet") or ())
    if not words <= known:
        raise ValueError(f"lexicon negation.not_yet: not a negation {sorted(words - known)}")
    return words


def _kind_words(item: Mapping[str, Any]) -> list[str]:
    """The words of a place kind, with what a store holds after its first word ("kho vải")."""
    words = list(item["words"])
    return [*words, *(f"{words[0]} {held}" for held in item.get("holds") or ())]


class _Words:
    """A word list matched like phrases: exactly, or by bare letters in a message typed bare."""

    __slots__ = ("exact", "folded")

    def __init__(self, words: Iterable[str]) -> None:
        normed = [_norm(w) for w in words]
        self.exact = frozenset(map(intern, normed))
        self.folded = frozenset(intern(fold(w)) for w in normed)

    def has(self, word: str, accented: bool) -> bool:
        """True for a typed lower-case word that is one of these words."""
        return word in self.exact or (not accented and word in self.folded)

    def has_any(self, words: Sequence[str], accented: bool) -> bool:
        """True when one of the typed lower-case words is one of these words."""
        return not self.exact.isdisjoint(words) or (
            not accented and not self.folded.isdisjoint(words)
        )


@dataclass(frozen=True, slots=True)
class _OthersAbsent:
    """Whose absence a clause tells (lexicon `others_absent`), as folded single words."""

    titles: frozenset[str]
    people: frozenset[str]
    counts: frozenset[str]
    senders: frozenset[str]
    not_names: frozenset[str]
    typed: frozenset[str]  # every word above as written, marks kept

    @classmethod
    def of(cls, spec: Mapping[str, Any]) -> _OthersAbsent:
        def words(key: str) -> frozenset[str]:
            return frozenset(fold(_norm(w)) for w in spec.get(key) or ())

        keys = ("titles", "people", "counts", "senders", "not_names")
        typed = frozenset(_norm(w) for key in keys for w in spec.get(key) or ())
        return cls(
            titles=words("titles"),
            people=words("people"),
            counts=words("counts"),
            senders=words("senders"),
            not_names=words("not_names"),
            typed=typed,
        )


class _Phrases:
    """Phrases found at a token position: typed with their marks, or bare."""

    __slots__ = ("by_first",)

    def __init__(self, phrases: Iterable[str]) -> None:
        by_first: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for p in phrases:
            canon = tuple(_norm(p).split())
            folded = tuple(intern(fold(w)) for w in canon)
            by_first.setdefault(folded[0], []).append((canon, folded))
        # Longest first, so that "nhớ là" is found before "nhớ".
        self.by_first = {
            intern(k): tuple(sorted(v, key=lambda x: len(x[0]), reverse=True))
            for k, v in by_first.items()
        }

    def at(self, ltoks: Sequence[str], ftoks: Sequence[str], k: int, end: int) -> int:
        """The number of tokens of the longest phrase starting at `k` (before `end`), or 0."""
        for canon, folded in self.by_first.get(ftoks[k], ()):
            size = len(canon)
            if k + size <= end and tuple(ftoks[k : k + size]) == folded:
                typed = ltoks[k : k + size]
                if all(t in (c, f) for t, c, f in zip(typed, canon, folded, strict=True)):
                    return size
        return 0


class _Lexicon:
    """The compiled vocabulary: token index, aliases and the regexes built from word lists."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.categories: tuple[str, ...] = tuple(data["categories"])
        self.cat_rank = {c: i for i, c in enumerate(self.categories)}
        self.default_sev: dict[str, str] = dict(data.get("default_severity") or {})
        self.ambiguous_forms = frozenset(fold(_norm(p)) for p in data.get("ambiguous") or ())
        self.aliases: dict[str, tuple[tuple[str, str], ...]] = {}
        for key, value in (data.get("aliases") or {}).items():
            toks = _TOKEN_RE.findall(_norm(value))
            self.aliases[_norm(key)] = tuple((t, fold(t)) for t in toks)
        self.alias_keys = frozenset(self.aliases)
        self.ca_police_next = tuple(
            tuple(fold(_norm(p)).split()) for p in data.get("ca_police_next") or ()
        )
        self.ca_shift_next = _Words(data.get("ca_shift_next") or ())
        self.q_final = frozenset(fold(_norm(p)) for p in data.get("question_final") or ())
        self.q_final_typed = frozenset(_norm(p).lower() for p in data.get("question_final") or ())
        self.vocative = frozenset(
            t for p in data.get("vocative") or () for t in fold(_norm(p)).split()
        )
        # Question particles that fold onto a vocative ("à" onto "ạ"): a question only when
        # typed with their marks ("không sao à" asks, "khong sao a" is said politely).
        self.q_final_marked = frozenset(
            w for w in map(_norm, data.get("question_final") or ()) if fold(w) in self.vocative
        )
        self._question_words(data.get("question_word") or {})
        kinds = {"ack": _ACK, "not_ack": _NACK}
        self.emoticons = {str(k): kinds[v] for k, v in (data.get("emoticons") or {}).items()}
        entries = list(self._entries(data))
        self.first: dict[str, _Slot] = self._index(entries)
        # Every word the vocabulary knows (folded), so a typo is corrected only into a word the
        # parser would read; plus the words members type that mean nothing to it.
        self.known = frozenset(
            {fold(tok) for e in entries for tok in e.toks}
            | {fold(_norm(w)) for w in data.get("common_words") or ()}
            | {fold(k) for k in self.aliases}
        )
        self.night = _Words(data.get("night") or ())
        self.notice_yields = frozenset(data.get("notice_yields") or ())
        self.absence_yields = frozenset(data.get("absence_yields") or ())
        self.not_ack_yields = frozenset(data.get("not_ack_yields") or ())
        self.not_high = {
            str(why): frozenset(cats) for why, cats in (data.get("not_high") or {}).items()
        }
        directive = data.get("directive") or {}
        self.directive_openers = _Phrases(directive.get("openers") or ())
        self.directive_addressees = _Phrases(directive.get("addressees") or ())
        self.directive_calls = frozenset(fold(_norm(w)) for w in directive.get("calls") or ())
        self.directive_done = _Phrases(directive.get("done") or ())
        self.directive_then = _Phrases(directive.get("then") or ())
        when = data.get("shift_end_when") or {}
        self.when_subjects = _Phrases(when.get("subjects") or ())
        self.when_will = _Phrases(when.get("will") or ())
        self.when_verbs = _Phrases(when.get("verbs") or ())
        self.others_absent = _OthersAbsent.of(data.get("others_absent") or {})
        self._arrival(data.get("arrival") or {})
        self._roll_call(data.get("roll_call") or {})
        self._responders(data.get("responders") or {})
        # What a question names of an incident under way, by category (followups.py).
        self.asked_about = {
            str(cat): _Phrases(words) for cat, words in (data.get("asked_about") or {}).items()
        }
        self.joke_high = frozenset(data.get("joke_high") or ())
        self.not_yet = _not_yet(data.get("negation") or {})
        self._exception(data.get("exception") or {}, data.get("explain") or ())
        self.cause_unsaid = frozenset(fold(_norm(w)) for w in data.get("cause_unsaid") or ())
        # Someone trapped: the phrases giving the reason, and who may be trapped.
        self.trapped = _Phrases(e.phrase for e in entries if e.why == TRAPPED)
        # The end of a shift, to tell a promise made for it (shift_end_when).
        self.shift_ends = _Phrases(e.phrase for e in entries if e.why == SHIFT_END)
        self.shift_end_words = frozenset(self.shift_ends.by_first)
        # Scrapes, and the things they may befall ("xe bị trầy xước"): see scraped_things.
        self.scrapes = _Phrases(e.phrase for e in entries if e.why == LIGHT_INJURY and e.w > 0)
        self.scraped_things = _Phrases(data.get("scraped_things") or ())
        alarm = data.get("fire_alarm") or {}
        self.alarms = _Phrases(alarm.get("alarms") or ())
        self.alarm_sounded = _Phrases(alarm.get("sounded") or ())
        self.alarm_false = _Phrases(alarm.get("said_false") or ())
        # What says why an alarm went off: an explanation or a cause ("do đầu báo dính bụi").
        self.explain_words = _Phrases(data.get("explain") or ())
        self.cause_words = _Phrases(data.get("cause") or ())
        self.persons = _Phrases([*data["people"]["nouns"], "ai", "mọi người"])
        self.person_gap = _Words(w for p in data.get("person_gap") or () for w in p.split())
        not_after = data.get("person_not_after") or ()
        # The last word of each ("cầu dao" -> "dao"): the token right before the person word.
        self.person_not_after = frozenset(fold(_norm(w)).split()[-1] for w in not_after)
        settled = data.get("settled") or {}
        self.settled_done = _Phrases(settled.get("done") or ())
        self.settled_over = _Phrases(settled.get("over") or ())
        self.sanction_words = _Phrases(data.get("sanction") or ())
        self.watch_orders = _Phrases(data.get("watch_orders") or ())
        self.follows_group = _Phrases(data.get("follows_group") or ())
        shut = data.get("exit_shut") or {}
        self.exit_words = _Phrases(shut.get("exits") or ())
        self.exit_states = _Phrases(shut.get("states") or ())
        self.exit_not_before = _Words(shut.get("not_before") or ())
        self.exit_weight = float(shut.get("weight") or 0.0)
        bulb = data.get("burnt_bulb") or {}
        self.bulb_lamps = _Phrases(bulb.get("lamps") or ())
        self.bulb_burnt = _Phrases(bulb.get("burnt") or ())
        self.bulb_burnt_phrases = frozenset(_norm(w) for w in bulb.get("burnt") or ())
        self.bulb_reach = int(bulb.get("reach") or 0)
        inside = data.get("trapped_inside") or {}
        self.inside_words = _Phrases(inside.get("words") or ())
        self.inside_stuck = _Words(inside.get("stuck") or ())
        self.inside_not_after = _Phrases(inside.get("not_after") or ())
        self.inside_holds = _Words(inside.get("holds") or ())
        self._places(data["places"], data["people"]["nouns"])
        self._company(data["company"])
        self._people(data["people"])
        self._time(data["time"])
        self.done_re = re.compile(rf"{_starts(map(_norm, settled.get('done') or ()))}(?!\w)")
        # Word sets hold interned words, like the tokens (scanning._read_chunk): a message's
        # words are then found in them by identity.
        for name, value in list(vars(self).items()):
            if isinstance(value, frozenset) and all(isinstance(w, str) for w in value):
                setattr(self, name, frozenset(map(intern, value)))
        self.word_marks = self._word_marks()

    def _exception(self, spec: Mapping[str, Any], explain: Iterable[str]) -> None:
        """The words opening an exception to an all-clear: see the lexicon's `exception`
        (`explain`: the lexicon's explanation words)."""
        explained = frozenset(map(_norm, explain))
        anywhere = [_norm(p) for p in spec.get("anywhere") or ()]
        opening = [_norm(p) for p in spec.get("opening") or ()]
        self.exception_words = _Words([*anywhere, *opening])
        self.exception_opening = _Words(opening)
        self.exception_re = re.compile(rf"{_starts([*anywhere, *opening])}(?!\w)")
        # An exception that is also an explanation ("chỉ có") may explain a denial instead:
        # "không phải cháy, chỉ có khói thôi".
        self.exception_explains = _Words(p for p in [*anywhere, *opening] if p in explained)

    def _arrival(self, spec: Mapping[str, Any]) -> None:
        """The words of an arrival ("em tới nơi rồi"): see the lexicon's `arrival`."""
        self.arrival_weight = float(spec.get("weight", 0))
        self.arrival_senders = _Phrases(spec.get("senders") or ())
        self.arrival_teams = _Phrases(spec.get("teams") or ())
        self.arrival_before = _Phrases(spec.get("before") or ())
        self.arrival_verbs = _Phrases(spec.get("verbs") or ())
        self.arrival_verb_words = frozenset(self.arrival_verbs.by_first)
        self.arrival_places = _Phrases(spec.get("places") or ())
        self.arrival_done = _Phrases(spec.get("done") or ())
        self.arrival_after = frozenset(fold(_norm(w)) for w in spec.get("after") or ())

    def _roll_call(self, spec: Mapping[str, Any]) -> None:
        """The words of a shift's roll call ("ca 3 đủ 4 người"): see the lexicon's `roll_call`."""
        self.roll_weight = float(spec.get("weight", 0))
        self.roll_teams = _Phrases(spec.get("teams") or ())
        self.roll_counts = _Phrases([*(spec.get("full") or ()), *(spec.get("short") or ())])
        self.roll_count_words = frozenset(self.roll_counts.by_first)
        self.roll_counted = _Phrases(spec.get("counted") or ())
        self.roll_not_after = _Words(spec.get("not_after") or ())
        self.roll_has = _Phrases(spec.get("has") or ())
        self.roll_on_duty = _Phrases(spec.get("on_duty") or ())

    def _responders(self, spec: Mapping[str, Any]) -> None:
        """The words of responders coming ("xe cứu hỏa tới nơi rồi"): see the lexicon's
        `responders`; `responder_services` maps each service's phrases to its name."""
        self.responder_units = _Phrases(spec.get("units") or ())
        self.responder_services = {
            service: _Phrases(spec.get(service) or ()) for service in RESPONDER_SERVICES
        }
        self.responder_area = _Phrases(spec.get("area") or ())
        self.responder_before = _Phrases(spec.get("before") or ())
        self.responder_verbs = _Phrases(spec.get("verbs") or ())
        self.responder_verb_words = frozenset(self.responder_verbs.by_first)
        self.responder_at = frozenset(fold(_norm(w)) for w in spec.get("at") or ())
        self.responder_work = _Phrases(spec.get("work") or ())
        self.responder_work_words = frozenset(self.responder_work.by_first)

    def _word_marks(self) -> dict[str, int]:
        """Folded word -> the M_ bits of the word lists that hold it."""
        lists = (
            (M_PLACE, self.place_triggers.folded),
            (M_COMPANY, self.company_triggers),
            (M_NOUN, self.noun_starts),
            (M_NUMBER, self.number_starts),
            (M_DAYPART, self.daypart_triggers),
            (M_WEEKDAY, self.weekday_triggers),
            (M_AGO, self.ago_triggers),
            (M_MONTH, self.month_triggers),
        )
        marks: dict[str, int] = {}
        for bit, words in lists:
            for w in words:
                marks[intern(w)] = marks.get(w, 0) | bit
        return marks

    # -- phrases --------------------------------------------------------------------------------

    def expand(self, ltoks: Sequence[str], ftoks: Sequence[str]) -> tuple[list[str], list[str]]:
        """Replace teen-code tokens by the words they stand for."""
        out_l: list[str] = []
        out_f: list[str] = []
        aliases = self.aliases
        for lt, ft in zip(ltoks, ftoks, strict=True):
            exp = aliases.get(lt)
            if exp is None:
                out_l.append(lt)
                out_f.append(ft)
            else:
                for el, ef in exp:
                    out_l.append(el)
                    out_f.append(ef)
        return out_l, out_f

    def _entry(self, phrase: str, value: Any, kind: int, cat: str | None) -> _Entry:
        spec: dict[str, Any] = value if isinstance(value, dict) else {"w": value}
        unknown = set(spec) - {
            "w",
            "sev",
            "prior",
            "near",
            "scope",
            "neg",
            "pos",
            "deny",
            "why",
            "hint",
            "sign",
            "person",
        }
        if unknown:
            raise ValueError(f"lexicon phrase {phrase!r}: unknown keys {sorted(unknown)}")
        norm = _norm(phrase)
        # Phrases are written in full words: aliases apply to what members type, not to these.
        ltoks = _TOKEN_RE.findall(norm)
        if not ltoks:
            raise ValueError(f"lexicon phrase {phrase!r} has no words")
        sev = spec.get("sev")
        if sev not in (None, "high", "low"):
            raise ValueError(f"lexicon phrase {phrase!r}: sev must be high or low")
        if spec.get("neg") and spec["neg"] not in self.cat_rank:
            raise ValueError(f"lexicon phrase {phrase!r}: neg must be a category")
        why = spec.get("why") or ""
        if not isinstance(why, str) or (why and not why.isidentifier()):
            raise ValueError(f"lexicon phrase {phrase!r}: why must be one short word")
        if sev and not why:
            why = "serious" if sev == "high" else "minor"
        w = spec.get(
            "w", 1 if kind not in (_NEUTRAL, _NEG, _CONJ, _EXPLAIN, _CAUSE, _PREVENT) else 0
        )
        return _Entry(
            phrase=norm,
            kind=kind,
            cat=cat,
            w=float(w if w is not None else 1),
            sev=sev,
            prior=float(spec.get("prior", 0.5)),
            # A word is no context for itself: "mat" must not vote for mặt in "mat xe".
            near=frozenset(fold(_norm(n)) for n in spec.get("near") or ())
            - {fold(t) for t in ltoks},
            scope=_SCOPE_CLAUSE if spec.get("scope") == "clause" else 0,
            start_only=spec.get("pos") == "start",
            neg_cat=str(spec.get("neg") or ""),
            deny=bool(spec.get("deny", False)),
            toks=tuple(map(intern, ltoks)),
            marked=any(fold(t) != t for t in ltoks),
            why=why,
            hint=bool(spec.get("hint", False)),
            sign=bool(spec.get("sign", False)),
            person=bool(spec.get("person", False)),
        )

    def _entries(self, data: Mapping[str, Any]) -> Iterable[_Entry]:
        for cat, phrases in data["incident"].items():
            if cat not in self.cat_rank:
                raise ValueError(f"lexicon category {cat!r} is not listed in categories")
            for phrase, value in phrases.items():
                yield self._entry(phrase, value, _INC, cat)
        for section, kind in _SECTION_KINDS.items():
            for phrase, value in (data.get(section) or {}).items():
                yield self._entry(phrase, value, kind, None)
        neg = data.get("negation") or {}
        for phrase in neg.get("short") or ():
            yield self._entry(phrase, {"w": 0}, _NEG, None)
        for phrase in neg.get("clause") or ():
            yield self._entry(phrase, {"w": 0, "scope": "clause"}, _NEG, None)
        for phrase in data.get("conjunction") or ():
            yield self._entry(phrase, {"w": 0}, _CONJ, None)
        for phrase in data.get("explain") or ():
            yield self._entry(phrase, {"w": 0}, _EXPLAIN, None)
        for phrase in data.get("cause") or ():
            yield self._entry(phrase, {"w": 0}, _CAUSE, None)
        for phrase, spec in (data.get("prevent") or {}).items():
            yield self._entry(phrase, {**(spec or {}), "w": 0}, _PREVENT, None)

    def _index(self, entries: list[_Entry]) -> dict[str, _Slot]:
        seen: dict[tuple[str, ...], _Entry] = {}
        by_fold: dict[tuple[str, ...], list[_Entry]] = {}
        for e in entries:
            if e.toks in seen:
                raise ValueError(f"lexicon phrase {e.phrase!r} is listed twice")
            seen[e.toks] = e
            by_fold.setdefault(tuple(intern(fold(t)) for t in e.toks), []).append(e)
        multi: dict[str, dict[str, list[_Group]]] = {}
        single: dict[str, _Group] = {}
        for ftoks, group in by_fold.items():
            only = group[0] if len(group) == 1 else None
            plain = only if only is not None and not only.start_only else None
            amb = " ".join(ftoks) in self.ambiguous_forms
            guess = any(e.kind == _INC for e in group) and (
                amb or not self.ambiguous_forms.isdisjoint(ftoks)
            )
            g = _Group(ftoks, tuple(group), amb, plain, len(ftoks), guess)
            if len(ftoks) == 1:
                single[ftoks[0]] = g
            else:
                multi.setdefault(ftoks[0], {}).setdefault(ftoks[1], []).append(g)
        # Keyed by the first two folded words, so a common word like "không" that starts
        # dozens of phrases costs one more dictionary lookup, not dozens of comparisons.
        return {
            intern(k): (
                {
                    intern(second): tuple(sorted(gs, key=lambda g: len(g.ftoks), reverse=True))
                    for second, gs in multi.get(k, {}).items()
                },
                single.get(k),
            )
            for k in multi.keys() | single.keys()
        }

    def starts_phrase(
        self, ltoks: Sequence[str], ftoks: Sequence[str], j: int, accented: bool
    ) -> bool:
        """True when a signal phrase, or any phrase of two words or more, starts at token j."""
        slot = self.first.get(ftoks[j])
        if slot is None:
            return False
        ltup = tuple(ltoks)
        if j + 1 < len(ftoks):
            for g in slot[0].get(ftoks[j + 1], ()):
                if tuple(ftoks[j : j + len(g.ftoks)]) == g.ftoks and _readings(
                    g, j, ltup, accented, False
                ):
                    return True
        single = slot[1]
        return single is not None and any(
            e.kind not in (_NEUTRAL, _Q) for e, _ in _readings(single, j, ltup, accented, False)
        )

    # -- regexes from word lists ------------------------------------------------------------------

    def _places(self, spec: Mapping[str, Any], nouns: Iterable[str]) -> None:
        self.place_kind: dict[str, tuple[str, str]] = {}
        names: list[str] = []
        self.place_word_names: dict[str, frozenset[str]] = {}  # folded word -> its names
        # folded word -> what the store holds, written with marks ("kho vai" -> "vải")
        self.place_holds: dict[str, str] = {}
        for item in spec["kinds"]:
            own = [_norm(n) for n in item.get("names") or ()]
            for w in _kind_words(item):
                self.place_kind[fold(_norm(w))] = (item["kind"], item.get("code", "optional"))
                self.place_word_names[fold(_norm(w))] = frozenset(fold(n) for n in own)
            for held in item.get("holds") or ():
                self.place_holds[fold(_norm(f"{item['words'][0]} {held}"))] = _norm(held)
            names.extend(n for n in own if n not in names)
        loose = [_norm(w) for w in spec.get("loose") or ()]
        self.place_loose_folded = frozenset(fold(w) for w in loose)
        self.place_loose_plain = frozenset(w for w in loose if fold(w) == w)
        words = [_norm(w) for item in spec["kinds"] for w in _kind_words(item)]
        counted = [_norm(w) for w in [*(spec.get("name_number_not_before") or ()), *nouns]]
        # After a name, its own number: "cổng phụ 2", "cổng chính số 1" (not a head count).
        number = (
            rf"(?:\s+(?:{_vi('số')}\s*)?(?P<num>[0-9]{{1,3}})(?!\w)"
            rf"(?!\s+{_alt(counted)}(?!\w)))?"
        )
        self.place_re = re.compile(
            rf"(?P<word>{_starts(words)})(?![^\W\d_])"
            rf"(?:\s*(?:{_vi('số')}\s*)?(?P<code>[0-9]{{1,4}}[^\W\d_]?|[^\W\d_]{{1,2}}-?[0-9]{{1,3}}"
            rf"[^\W\d_]?|(?P<name>{_alt(names)})(?!\w){number}|[^\W\d_])(?!\w))?"
        )
        self.place_names = {fold(n): n for n in names}
        # A place word typed without marks ("nha an") is shown as written ("nhà ăn").
        self.place_written = {fold(w): w for w in words if fold(w) != w}
        self.place_triggers = _Words(w.split()[0] for w in words)

    def _question_words(self, spec: Mapping[str, Any]) -> None:
        """Question words inside a clause (lexicon `question_word`)."""
        marked = {_norm(w) for w in spec.get("marked") or ()}
        words = [_norm(w) for w in spec.get("words") or ()]
        # Bare, a marked-only word folds onto other words: it is matched only as typed.
        self.qw_any = _Words(w for w in words if w not in marked)
        self.qw_marked = frozenset(w for w in words if w in marked)
        self.qw_folded = frozenset(fold(w) for w in words)  # one look-up turns most words away
        self.qw_after_lead = frozenset(fold(_norm(w)) for w in spec.get("after_lead") or ())
        self.qw_not_before = frozenset(fold(_norm(w)) for w in spec.get("not_before") or ())
        self.qw_anyone = frozenset(fold(_norm(w)) for w in spec.get("anyone") or ())
        self.qw_lead = _Words(spec.get("lead") or ())
        self.qw_lead_max = int(spec.get("lead_max") or 0)
        self.qw_after_report = frozenset(fold(_norm(w)) for w in spec.get("after_report") or ())
        self.qw_end = _Words(spec.get("end") or ())

    def _company(self, spec: Mapping[str, Any]) -> None:
        # The last word: "công ty" is tokenised from "cty" too, and "công" alone is too common.
        self.company_triggers = frozenset(fold(_norm(p)).split()[-1] for p in spec["prefixes"])
        self.company_re = re.compile(rf"{_starts(_norm(p) for p in spec['prefixes'])}(?!\w)")
        self.company_legal = tuple(
            sorted((tuple(fold(_norm(p)).split()) for p in spec["legal"]), key=len, reverse=True)
        )
        self.company_stop: dict[str, set[str]] = {}
        for p in spec["stop"]:
            self.company_stop.setdefault(fold(_norm(p)), set()).add(_norm(p))

    def _people(self, spec: Mapping[str, Any]) -> None:
        self.number_words = {fold(_norm(k)): int(v) for k, v in spec["numbers"].items()}
        self.number_marked = {fold(_norm(k)): _norm(k) for k in spec["numbers"]}
        self.noun_starts = frozenset(fold(_norm(k)).split()[0] for k in spec["nouns"]) | {"cn"}
        self.number_starts = frozenset(fold(_norm(k)).split()[0] for k in spec["numbers"])
        self.number_folded_ok = frozenset(fold(_norm(p)) for p in spec["folded_ok"])
        self.nouns_exact = {fold(_norm(p)): _norm(p) for p in spec.get("nouns_exact") or ()}
        self.people_not_after = _Words(spec["not_after"])
        self.crowd_high = int(spec.get("crowd_high", 50))
        self.crowd_high_by_category = {
            str(c): int(n) for c, n in (spec.get("crowd_high_by_category") or {}).items()
        }
        # "khoảng 300 người" counts 300 as well: the approximation word needs no matching.
        nouns = _alt(_norm(n) for n in spec["nouns"])
        self.people_re = re.compile(
            rf"(?P<num>[0-9](?<![\w.,][0-9])[0-9]{{0,4}}(?:[.,][0-9]{{3}})*)\s*"
            rf"(?P<noun>{nouns})(?!\w)"
        )
        self.people_words_re = re.compile(
            rf"(?P<num>{_starts(_norm(k) for k in spec['numbers'])})\s*(?P<noun>{nouns})(?!\w)"
        )

    def _time(self, spec: Mapping[str, Any]) -> None:
        parts = {_norm(k): v for k, v in spec["parts"].items()}
        self.parts = {fold(k): v for k, v in parts.items()}
        part_re = _alt(parts)
        self.clock_before = _Words(spec["clock_before"])
        self.not_duration_before = _Words(spec["not_duration_before"])
        self.toi_qua_next = _Words(spec["toi_qua_next"])
        self.weekday_not_after = _Words(spec["weekday_not_after"])
        self.address_before = _Words(spec["address_before"])
        self.address_after = _Words(spec["address_after"])
        self.count_before = _Words(spec.get("count_before") or ())
        self.arrive_words = _Phrases(spec.get("arrive") or ())
        self.arrived_words = _Phrases(spec.get("arrived") or ())
        # A `will` word or a meeting or drill (`scheduled`) in its clause: the coming weekday.
        coming = (*(spec.get("will") or ()), *(spec.get("scheduled") or ()))
        self.weekday_will_re = re.compile(rf"{_starts(map(_norm, coming))}(?!\w)")
        openers = _starts(map(_norm, spec.get("announce_openers") or ()))
        self.announce_re = re.compile(rf"\s*{openers}(?!\w)")
        self.weekday_past_before = _Words(spec.get("past_before") or ())
        self.future_markers = tuple(_norm(p) for p in spec["future_markers"])
        self.future_re = re.compile(rf"{_starts(self.future_markers)}(?!\w)")
        # After the hour: minutes, "rưỡi" (half past) or "kém 15" (a quarter to).
        minutes = (
            rf"(?:\s?(?P<m>[0-9]{{1,2}})(?:\s?(?:{_vi('phút')}|p))?|\s?(?P<half>{_vi('rưỡi')})"
            rf"|\s?{_vi('kém')}\s?(?P<less>[0-9]{{1,2}})(?:\s?(?:{_vi('phút')}|p))?)?"
        )
        part_after = rf"(?![\w:])(?:\s+(?P<part>{part_re})(?!\w))?"
        self.clock_re = re.compile(
            rf"(?P<h>[0-9](?<![\w.,:/\-][0-9])[0-9]?)(?:\s?(?P<u>h|g|{_vi('giờ')}){minutes}"
            rf"|:(?P<m2>[0-9]{{2}})|\s(?P<half2>{_vi('rưỡi')})){part_after}"
        )
        # "chín giờ rưỡi": an hour in words, before "giờ" only.
        hours = {_norm(k): int(v) for k, v in spec["hour_words"].items()}
        self.hour_words = {fold(k): v for k, v in hours.items()}
        self.clock_words_re = re.compile(
            rf"(?P<hw>{_starts(hours)})\s(?P<u>{_vi('giờ')}){minutes}{part_after}"
        )
        days = ["hôm nay", "hôm qua", "hôm kia", "bữa nay", "bữa qua", "bữa kia", "ngày mai",
                "ngày kia", "mai", "mốt"]  # fmt: skip
        # One alternation of parts of day and day words; a part may be followed by its day.
        self.daypart_re = re.compile(
            rf"(?P<w>{_starts([*parts, *days])})(?:\s+(?:{_alt(['hôm', 'bữa'])}\s+)?"
            rf"(?P<rel>{_alt(['nay', 'qua', 'kia', 'mai'])})(?!\w))?(?!\w)"
        )
        weekdays = {
            "2": 0, "hai": 0, "3": 1, "ba": 1, "4": 2, "tư": 2, "5": 3, "năm": 3,
            "6": 4, "sáu": 4, "7": 5, "bảy": 5, "bẩy": 5,
        }  # fmt: skip
        self.weekday_num = {fold(k): v for k, v in weekdays.items()}
        day_words = ["hôm", "bữa", "ngày", "mai", "mốt"]
        self.daypart_triggers = frozenset(fold(w).split()[0] for w in [*parts, *day_words])
        self.weekday_triggers = frozenset({"thu", "chu"})  # thứ 2..., chủ nhật
        self.ago_triggers = frozenset({"truoc", "cach", "nua"})  # 5 phút trước, cách đây...
        self.month_triggers = frozenset({"thang"})  # ngày 5 tháng 3
        self.weekday_re = re.compile(
            rf"(?<!\w)(?:{_vi('thứ')}\s?(?P<wd>{_alt(weekdays)})|(?P<sun>{_vi('chủ nhật')}))"
            rf"(?:\s+{_vi('tuần')}\s+(?P<week>{_alt(['trước', 'rồi', 'này', 'sau', 'tới'])})"
            rf"|\s+(?P<week2>{_vi('này')})|\s+(?P<coming>tới|sắp tới))?(?!\w)"
        )
        self.date_re = re.compile(
            r"(?P<d>[0-9](?<![\w/.\-][0-9])[0-9]?)/(?P<mo>[0-9]{1,2})(?:/(?P<y>[0-9]{4}|[0-9]{2}))?"
            r"(?![\w/]|[.\-][0-9])"
        )
        self.date_words_re = re.compile(
            rf"{_starts(['ngày'])}\s+(?P<d>[0-9]{{1,2}})\s+{_vi('tháng')}\s+(?P<mo>[0-9]{{1,2}})"
            rf"(?:\s+{_vi('năm')}\s+(?P<y>[0-9]{{4}}))?(?!\w)"
        )
        nums = _alt(["một", "hai", "ba", "nửa", "vài"])
        units = _alt(["phút", "tiếng", "giờ", "ngày", "hôm", "tuần"])
        self.rel_re = re.compile(
            rf"(?<!\w)(?:{_vi('cách đây')}\s+(?P<n1>[0-9]{{1,3}}|{nums})\s?(?P<u1>{units}|p|h)"
            rf"|(?P<n2>[0-9]{{1,3}}|{nums})\s?(?P<u2>{units}|p|h)\s+"
            rf"(?P<dir>{_vi('trước')}|{_vi('nữa')}))(?!\w)"
        )


@cache
def _lexicon(path: Path = LEXICON_PATH) -> _Lexicon:
    """Load and compile the lexicon once per process."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when libyaml is there
    with path.open(encoding="utf-8") as fh:
        return _Lexicon(yaml.load(fh, Loader=loader))


_BASE: Final = {chr(c): fold(chr(c)) for c in range(0xC0, 0x1F00) if fold(chr(c)) != chr(c)}


def _char_compat(typed: str, canon: str) -> bool:
    """Each typed character is the canonical one or its bare letter (partly typed marks)."""
    if len(typed) != len(canon):
        return False
    base = _BASE
    return all(a == b or a == base.get(b, b) for a, b in zip(typed, canon, strict=True))


def _readings(
    g: _Group, i: int, ltup: tuple[str, ...], accented: bool, clause_start: bool
) -> list[tuple[_Entry, bool]]:
    """The entries of a matched group compatible with what was typed, each with exactness."""
    typed = ltup[i : i + g.size]
    out: list[tuple[_Entry, bool]] = []
    if accented:
        for e in g.entries:
            if typed == e.toks and (clause_start or not e.start_only):
                return [(e, True)]  # an exact match outranks every folded one
    for e in g.entries:
        if e.start_only and not clause_start:
            continue
        if not accented:
            out.append((e, False))  # bare letters throughout: every reading fits, none for sure
        else:
            for k, et in enumerate(e.toks):
                lt = typed[k]
                if lt != et and lt != g.ftoks[k] and not _char_compat(lt, et):
                    break
            else:
                out.append((e, False))
    return out
