"""Vietnamese message understanding: `parse(text, sent_at, tz) -> ParsedMessage` (SPEC.md 5).

One pure function over a data lexicon (lexicon.yaml). Decisions worth knowing:
- `/foo` at the start with an unknown name is a command named "foo" (folded, lower-cased) so
  the dispatcher can answer "unknown command"; an unknown `#foo` is an ordinary hashtag.
- For `/baocao` and unknown commands the arguments are read like a message, so category and
  severity are filled when they describe an incident; places, people, phones and time are read
  from the arguments of every command.
- `ambiguous` is true when the message leans on a folded form the lexicon lists as ambiguous
  (chay, no, mat, gay roi, ...) typed without diacritics, or on "toi qua" read as last night.
See docs/parser.md for the reasoning and the known failures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo

import yaml

from handlers.text import fold, lower, normalize_text

__all__ = ["COMMAND_NAMES", "Command", "ParsedMessage", "Place", "parse"]

DEFAULT_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")
LEXICON_PATH: Final = Path(__file__).with_name("lexicon.yaml")

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
    "chuahoatdong": ("inactive",),
    "huongdan": ("help",),
    "xuly": (),
    "bao_nham": ("baonham",),
}
COMMAND_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {alias: canon for canon, aliases in _COMMANDS.items() for alias in (canon, *aliases)}
)
# Commands whose arguments are an incident report, so category and severity are kept.
_REPORT_COMMANDS: Final = frozenset({"baocao"})


@dataclass(frozen=True, slots=True)
class Place:
    """A place named in a message; `text` is cut from the message as typed."""

    kind: str
    code: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Command:
    """A slash or hashtag command with its canonical name and the rest of the text."""

    name: str
    args: str


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What one message means; the fields of SPEC.md 5."""

    type: str
    category: str | None
    severity: str | None
    ambiguous: bool
    confidence: float
    time: datetime | date | None
    time_text: str | None
    places: tuple[Place, ...]
    people: int | None
    phones: tuple[str, ...]
    command: Command | None

    def to_dict(self) -> dict[str, Any]:
        """The SPEC.md 5 JSON object."""
        when: dict[str, str] | None
        if isinstance(self.time, datetime):
            when = {"at": self.time.strftime("%Y-%m-%dT%H:%M")}
        elif isinstance(self.time, date):
            when = {"date": self.time.isoformat()}
        else:
            when = None
        return {
            "type": self.type,
            "category": self.category,
            "severity": self.severity,
            "ambiguous": self.ambiguous,
            "confidence": self.confidence,
            "time": when,
            "time_text": self.time_text,
            "places": [{"kind": p.kind, "code": p.code, "text": p.text} for p in self.places],
            "people": self.people,
            "phones": list(self.phones),
            "command": None
            if self.command is None
            else {"name": self.command.name, "args": self.command.args},
        }


def _setter(cls: type, name: str) -> Any:
    """The setter of a slotted class's field (its slot descriptor's __set__)."""
    return cls.__dict__[name].__set__


# A frozen dataclass's __init__ sets each field through object.__setattr__, which costs about as
# much as a whole stage of the parse; the parser fills its results through the slots directly.
_SET_TYPE = _setter(ParsedMessage, "type")
_SET_CATEGORY = _setter(ParsedMessage, "category")
_SET_SEVERITY = _setter(ParsedMessage, "severity")
_SET_AMBIGUOUS = _setter(ParsedMessage, "ambiguous")
_SET_CONFIDENCE = _setter(ParsedMessage, "confidence")
_SET_TIME = _setter(ParsedMessage, "time")
_SET_TIME_TEXT = _setter(ParsedMessage, "time_text")
_SET_PLACES = _setter(ParsedMessage, "places")
_SET_PEOPLE = _setter(ParsedMessage, "people")
_SET_PHONES = _setter(ParsedMessage, "phones")
_SET_COMMAND = _setter(ParsedMessage, "command")
_new = object.__new__
_SET_PLACE_KIND = _setter(Place, "kind")
_SET_PLACE_CODE = _setter(Place, "code")
_SET_PLACE_TEXT = _setter(Place, "text")


def _place(kind: str, code: str | None, text: str) -> Place:
    """`Place(kind, code, text)` built through the slots (a place is found in most reports)."""
    p: Place = _new(Place)
    _SET_PLACE_KIND(p, kind)
    _SET_PLACE_CODE(p, code)
    _SET_PLACE_TEXT(p, text)
    return p


def _parsed(
    kind: str,
    category: str | None,
    severity: str | None,
    ambiguous: bool,
    confidence: float,
    when: datetime | date | None,
    time_text: str | None,
    places: tuple[Place, ...],
    people: int | None,
    phones: tuple[str, ...],
    command: Command | None,
) -> ParsedMessage:
    """`ParsedMessage(...)` with the same fields, built without the frozen __init__."""
    p: ParsedMessage = _new(ParsedMessage)
    _SET_TYPE(p, kind)
    _SET_CATEGORY(p, category)
    _SET_SEVERITY(p, severity)
    _SET_AMBIGUOUS(p, ambiguous)
    _SET_CONFIDENCE(p, confidence)
    _SET_TIME(p, when)
    _SET_TIME_TEXT(p, time_text)
    _SET_PLACES(p, places)
    _SET_PEOPLE(p, people)
    _SET_PHONES(p, phones)
    _SET_COMMAND(p, command)
    return p


# ---------------------------------------------------------------------------------------------
# Lexicon

# Entry kinds.
(
    _INC, _CLEAR, _ACK, _NACK, _CHECKIN, _ABSENT, _Q, _SEV, _NEG, _CONJ, _EXPLAIN, _CAUSE, _NEUTRAL
) = range(13)  # fmt: skip
# How a signal is read: as said, as the explanation after a denial, or as a cause.
_PLAIN, _EXPLAINED, _CAUSED = 0, 1, 2
_SECTION_KINDS: Final = {
    "clear": _CLEAR,
    "ack": _ACK,
    "not_ack": _NACK,
    "check_in": _CHECKIN,
    "absent": _ABSENT,
    "question": _Q,
    "severity": _SEV,
    "neutral": _NEUTRAL,
}
_SCOPE_SHORT, _SCOPE_CLAUSE = 1, 2

_TOKEN_RE: Final = re.compile(r"\w+|[.,;:!?\n]+|[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")
_BOUNDARY_CHARS: Final = frozenset(".,;:!?\n")
_CLAUSE_ENDS: Final = frozenset(("", *".,;:!?\n"))
_PUNCT_CHARS: Final = frozenset(".,;:!?")  # the boundary characters that are not whitespace


def _split_tokens(low: str) -> list[str]:
    """`_TOKEN_RE.findall(low)`, a fifth to a third cheaper on chat messages.

    A whitespace-separated chunk that is all letters and digits (str.isalnum is exactly what \\w
    means, bar "_") is one token, and so is a word with one punctuation mark after it; only
    other chunks go through the regex. No token spans whitespace except a punctuation run
    holding a newline, so a text with a newline is tokenised whole.
    """
    if "\n" in low:
        return _TOKEN_RE.findall(low)
    out: list[str] = []
    for chunk in low.split():
        if chunk.isalnum():
            out.append(chunk)
        elif chunk[-1] in _PUNCT_CHARS and chunk[:-1].isalnum():
            out.append(chunk[:-1])
            out.append(chunk[-1])
        else:
            out += _TOKEN_RE.findall(chunk)
    return out


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


@dataclass(frozen=True, slots=True)
class _Group:
    """Entries sharing one folded phrase: the readings of that phrase."""

    ftoks: tuple[str, ...]
    entries: tuple[_Entry, ...]
    ambiguous: bool
    plain: _Entry | None  # the group's only entry, when it may appear anywhere
    size: int


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


class _Words:
    """A word list matched like phrases: exactly, or by bare letters in a message typed bare."""

    __slots__ = ("exact", "folded")

    def __init__(self, words: Iterable[str]) -> None:
        normed = [_norm(w) for w in words]
        self.exact = frozenset(normed)
        self.folded = frozenset(fold(w) for w in normed)

    def has(self, word: str, accented: bool) -> bool:
        """True for a typed lower-case word that is one of these words."""
        return word in self.exact or (not accented and word in self.folded)


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
        self.vocative = frozenset(
            t for p in data.get("vocative") or () for t in fold(_norm(p)).split()
        )
        kinds = {"ack": _ACK, "not_ack": _NACK}
        self.emoticons = {str(k): kinds[v] for k, v in (data.get("emoticons") or {}).items()}
        entries = list(self._entries(data))
        self.first: dict[str, _Slot] = self._index(entries)
        self._places(data["places"])
        self._company(data["company"])
        self._people(data["people"])
        self._time(data["time"])

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
        unknown = set(spec) - {"w", "sev", "prior", "near", "scope", "neg", "pos", "deny"}
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
        w = spec.get("w", 1 if kind not in (_NEUTRAL, _NEG, _CONJ, _EXPLAIN, _CAUSE) else 0)
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
            toks=tuple(ltoks),
            marked=any(fold(t) != t for t in ltoks),
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

    def _index(self, entries: list[_Entry]) -> dict[str, _Slot]:
        seen: dict[tuple[str, ...], _Entry] = {}
        by_fold: dict[tuple[str, ...], list[_Entry]] = {}
        for e in entries:
            if e.toks in seen:
                raise ValueError(f"lexicon phrase {e.phrase!r} is listed twice")
            seen[e.toks] = e
            by_fold.setdefault(tuple(fold(t) for t in e.toks), []).append(e)
        multi: dict[str, dict[str, list[_Group]]] = {}
        single: dict[str, _Group] = {}
        for ftoks, group in by_fold.items():
            only = group[0] if len(group) == 1 else None
            plain = only if only is not None and not only.start_only else None
            amb = " ".join(ftoks) in self.ambiguous_forms
            g = _Group(ftoks, tuple(group), amb, plain, len(ftoks))
            if len(ftoks) == 1:
                single[ftoks[0]] = g
            else:
                multi.setdefault(ftoks[0], {}).setdefault(ftoks[1], []).append(g)
        # Keyed by the first two folded words, so a common word like "không" that starts
        # dozens of phrases costs one more dictionary lookup, not dozens of comparisons.
        return {
            k: (
                {
                    second: tuple(sorted(gs, key=lambda g: len(g.ftoks), reverse=True))
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

    def _places(self, spec: Mapping[str, Any]) -> None:
        self.place_kind: dict[str, tuple[str, str]] = {}
        names: list[str] = []
        for item in spec["kinds"]:
            for w in item["words"]:
                self.place_kind[fold(_norm(w))] = (item["kind"], item.get("code", "optional"))
            names.extend(_norm(n) for n in item.get("names") or ())
        loose = [_norm(w) for w in spec.get("loose") or ()]
        self.place_loose_folded = frozenset(fold(w) for w in loose)
        self.place_loose_plain = frozenset(w for w in loose if fold(w) == w)
        words = [_norm(w) for item in spec["kinds"] for w in item["words"]]
        self.place_re = re.compile(
            rf"(?P<word>{_starts(words)})(?![^\W\d_])"
            rf"(?:\s*(?:{_vi('số')}\s*)?(?P<code>[0-9]{{1,4}}[^\W\d_]?|[^\W\d_]{{1,2}}[0-9]{{1,3}}"
            rf"[^\W\d_]?|(?P<name>{_alt(names)})|[^\W\d_])(?!\w))?"
        )
        self.place_names = {fold(n): n for n in names}
        self.place_triggers = _Words(w.split()[0] for w in words)

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
        self.future_markers = tuple(_norm(p) for p in spec["future_markers"])
        self.future_re = re.compile(rf"{_starts(self.future_markers)}(?!\w)")
        self.clock_re = re.compile(
            rf"(?P<h>[0-9](?<![\w.,:/\-][0-9])[0-9]?)(?:\s?(?P<u>h|g|{_vi('giờ')})"
            rf"(?:\s?(?P<m>[0-9]{{1,2}})(?:\s?(?:{_vi('phút')}|p))?|\s?(?P<half>{_vi('rưỡi')}))?"
            rf"|:(?P<m2>[0-9]{{2}}))(?![\w:])(?:\s+(?P<part>{part_re})(?!\w))?"
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
        self.time_triggers = self.daypart_triggers | {"thu", "chu", "truoc", "cach", "nua"}
        self.weekday_re = re.compile(
            rf"(?<!\w)(?:{_vi('thứ')}\s?(?P<wd>{_alt(weekdays)})|(?P<sun>{_vi('chủ nhật')}))"
            rf"(?:\s+{_vi('tuần')}\s+(?P<week>{_alt(['trước', 'rồi', 'này', 'sau', 'tới'])})"
            rf"|\s+(?P<week2>{_vi('này')}))?(?!\w)"
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


# ---------------------------------------------------------------------------------------------
# Small regexes that need no vocabulary

# Bare domains start only where a word starts, so a long run of "a.a.a" stays linear.
_URL_RE: Final = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w.\-])[\w\-]+(?:\.[\w\-]+)*\.(?:vn|com|net|org|io)/\S*"
)
_EMOTICON_RE: Final = re.compile(r"(?<![\w/])/-([a-z]+)")
_MENTION_RE: Final = re.compile(r"(?<![\w@])@\w+")
_CMD_START_RE: Final = re.compile(
    r"\s*(?:@[^\s/#@]+(?:[ \t]+[^\s/#@]+){0,5}\s+)?"  # a leading mention of the bot
    r"([/#])([^\W\d_]\w*)(?:@[\w.]+)?(?!\w)(?![/.\-]\w)"
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


# ---------------------------------------------------------------------------------------------
# Tokens and the scan

_FOLD_MEMO: dict[str, str] = {}


def _fold_token(tok: str) -> str:
    folded = fold(tok)
    if len(_FOLD_MEMO) < 100_000:  # bounded: odd input must not grow memory for ever
        _FOLD_MEMO[tok] = folded
    return folded


_BASE: Final = {chr(c): fold(chr(c)) for c in range(0xC0, 0x1F00) if fold(chr(c)) != chr(c)}


def _char_compat(typed: str, canon: str) -> bool:
    """Each typed character is the canonical one or its bare letter (partly typed marks)."""
    if len(typed) != len(canon):
        return False
    base = _BASE
    return all(a == b or a == base.get(b, b) for a, b in zip(typed, canon, strict=True))


def _prev_word(s: str, start: int) -> str:
    chunk = s[max(0, start - 24) : start].split()
    return chunk[-1].strip(".,;:!?()\"'") if chunk else ""


def _next_word(s: str, end: int) -> str:
    chunk = s[end : end + 24].split()
    return chunk[0].strip(".,;:!?()\"'") if chunk else ""


@dataclass(slots=True)
class _Scan:
    """Signals found in one message, per clause, before the decision."""

    signals: list[tuple[_Entry, bool, int, int, bool]]  # entry, negated, clause, mode, exact
    questions: list[bool]  # per clause
    ambiguous: bool


def _tokens(lex: _Lexicon, text: str, low: str) -> tuple[list[str], list[str], bool]:
    """Lower-case and folded tokens (aliases and CA expanded), and whether marks were typed."""
    ltoks = _split_tokens(low)
    if low.isascii():
        ftoks = ltoks
        accented = False
    else:
        memo = _FOLD_MEMO
        ftoks = [memo.get(t) or _fold_token(t) for t in ltoks]
        accented = ftoks != ltoks
    has_ca = "ca" in ftoks
    if not has_ca and lex.alias_keys.isdisjoint(ltoks):
        return ltoks, ftoks, accented
    if has_ca:
        ltoks, ftoks = _police(lex, text, ltoks, ftoks, accented)
    ltoks, ftoks = lex.expand(ltoks, ftoks)
    return ltoks, ftoks, accented


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


def _pick(
    g: _Group,
    i: int,
    ltup: tuple[str, ...],
    words: set[str],
    accented: bool,
    clause_start: bool,
) -> tuple[_Entry, bool, bool] | None:
    """The reading of a matched group: exact first, else by prior and context (`words`, the
    message's folded words); and whether it rested on a form the lexicon calls ambiguous."""
    cands = _readings(g, i, ltup, accented, clause_start)
    if not cands:
        return None
    if len(cands) == 1:
        return cands[0][0], cands[0][1], False
    chosen, best = cands[0][0], -1.0
    for e, _ in cands:
        score = e.prior + (0.5 if e.near and not e.near.isdisjoint(words) else 0.0)
        if score > best:
            chosen, best = e, score
    return chosen, False, g.ambiguous and len({(e.kind, e.cat) for e, _ in cands}) > 1


def _scan(
    lex: _Lexicon, ltoks: list[str], ftoks: list[str], accented: bool, words: set[str]
) -> _Scan:
    """One pass over the tokens: longest phrase at each position, negation scopes, clauses.
    `words` is the set of folded tokens (context for choosing between readings)."""
    first = lex.first
    vocative = lex.vocative
    n = len(ftoks)
    ftup = tuple(ftoks)
    ltup = tuple(ltoks)
    signals: list[tuple[_Entry, bool, int, int, bool]] = []
    questions = [False]
    clause = 0
    clause_start = True
    clause_len = 0
    last_free = ""  # last standalone word of the clause, for "đã nhận chưa"
    neg = 0
    neg_left = 0
    mode = _PLAIN
    ambiguous = False
    i = 0
    while i < n:
        ft = ftup[i]
        if ft[0] in _BOUNDARY_CHARS:
            if "?" in ft or (clause_len > 1 and last_free in lex.q_final):
                questions[clause] = True
            clause += 1
            questions.append(False)
            clause_start, clause_len, last_free = True, 0, ""
            neg = 0
            mode = _PLAIN
            i += 1
            continue
        slot = first.get(ft)
        chosen: _Entry | None = None
        size = 1
        exact = False
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
                        break
                    picked = _pick(g, i, ltup, words, accented, clause_start)
                    if picked is not None:
                        chosen, exact, amb = picked
                        ambiguous = ambiguous or amb
                        break
            if chosen is None and single is not None:
                size = 1
                plain = single.plain
                if plain is not None and (not accented or ltup[i] == plain.toks[0]):
                    # One reading, one word, typed bare or exactly: the common case, done here.
                    chosen, exact = plain, accented
                else:
                    picked = _pick(single, i, ltup, words, accented, clause_start)
                    if picked is not None:
                        chosen, exact, amb = picked
                        ambiguous = ambiguous or amb
        if chosen is None:
            if neg == _SCOPE_SHORT:
                neg_left -= 1
                if neg_left <= 0:
                    neg = 0
            if ft not in vocative and ft.isalnum():
                last_free = ft
            clause_start = False
            clause_len += 1
            i += 1
            continue
        kind = chosen.kind
        if kind == _NEG:
            neg = _SCOPE_CLAUSE if chosen.scope == _SCOPE_CLAUSE else _SCOPE_SHORT
            neg_left = 3
        elif kind == _CONJ:
            neg = 0
            mode = _PLAIN
        elif kind == _EXPLAIN:
            neg = 0
            mode = _EXPLAINED
        elif kind == _CAUSE:
            neg = 0
            mode = _CAUSED
        elif kind == _NEUTRAL:
            if neg == _SCOPE_SHORT:
                neg_left -= size
                if neg_left <= 0:
                    neg = 0
        else:
            if kind == _Q:
                questions[clause] = True
            signals.append((chosen, neg != 0, clause, mode, exact))
            if chosen.scope == _SCOPE_CLAUSE:
                neg = _SCOPE_CLAUSE
            elif neg == _SCOPE_SHORT:
                neg = 0  # the predicate closes a short negation
        if size == 1:
            if ft not in vocative:
                last_free = ft
        else:
            last_free = ""
        clause_start = False
        clause_len += size
        i += size
    if clause_len > 1 and last_free in lex.q_final:
        questions[clause] = True
    return _Scan(signals, questions, ambiguous)


# ---------------------------------------------------------------------------------------------
# Places, people, phones, time


def _places(
    lex: _Lexicon, text: str, low: str, ltoks: list[str], accented: bool, words: set[str]
) -> tuple[Place, ...]:
    """Workshops, warehouses, gates, lots, named places and companies, in order, once each."""
    out: list[Place] = []
    seen: set[tuple[str, str | None]] = set()
    # A typed word is in ltoks as typed, so "công" (công nhân) does not wake the gate finder
    # up while "cổng" and a bare "cong" do.
    # Every trigger's folded form is among the folded words when either test below can pass,
    # so most messages are turned away by one set-to-set test.
    wanted = not lex.place_triggers.folded.isdisjoint(words) and (
        not lex.place_triggers.exact.isdisjoint(ltoks)
        or not lex.place_triggers.folded.isdisjoint(ltoks)
    )
    found = lex.place_re.finditer(low) if wanted else ()
    for m in found:
        word = m.group("word")
        fword = fold(word)
        fcanon = " ".join(fword.split())
        kind, code_rule = lex.place_kind.get(fcanon, ("place", "none"))
        code: str | None = None
        end = m.end("word")
        if m.group("name") is not None and code_rule != "none":
            # Named gates are written one way whatever was typed: "cong chinh" is CHÍNH.
            code = lex.place_names.get(fold(m.group("name")), m.group("name")).upper()
            end = m.end("code")
        elif m.group("code") is not None and code_rule != "none":
            raw = text[m.start("code") : m.end("code")]
            if len(raw) == 1 and not raw.isupper() and not raw.isdigit():
                pass  # a lone lower-case letter is a word, not a code ("kho a" is rare)
            else:
                code = raw.upper()
                end = m.end("code")
        if code is None:
            if code_rule == "required":
                continue
            # A loose word without a code needs its diacritics ("xưởng", not "xuong" which may
            # be xuống); a loose word without any ("kho") counts in a message that has them.
            if fcanon in lex.place_loose_folded and not (
                word != fword or (accented and fcanon in lex.place_loose_plain)
            ):
                continue
        key = (kind, code)
        if key not in seen:
            seen.add(key)
            out.append(_place(kind, code, text[m.start() : end]))
    if not words.isdisjoint(lex.company_triggers) and lex.company_re.search(low):
        for place in _companies(lex, text, low, accented):
            key = (place.kind, place.code)
            if key not in seen:
                seen.add(key)
                out.append(place)
    return tuple(out)


def _companies(lex: _Lexicon, text: str, low: str, accented: bool) -> Iterable[Place]:
    shouting = text.isupper() or text.islower()
    for m in lex.company_re.finditer(low):
        words: list[tuple[int, int, str]] = []
        for wm in _NAME_WORD_RE.finditer(low, m.end()):
            tok = wm.group(1)
            if not tok[0].isalnum() and tok not in ("&", "-", "."):
                break
            words.append((wm.start(1), wm.end(1), tok))
            if len(words) >= 9:
                break
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
        yield _place("company", code, text[m.start() : end])


def _people(lex: _Lexicon, low: str, accented: bool, digits: bool, words: bool) -> int | None:
    """The largest head count ("2 thanh niên", "khoảng 300 công nhân"), or None."""
    best: int | None = None
    found: list[re.Match[str]] = []
    if digits:
        found.extend(lex.people_re.finditer(low))
    if words:
        found.extend(lex.people_words_re.finditer(low))
    for m in found:
        num = m.group("num")
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


def _adjust_hour(hour: int, part: str | None) -> int:
    """14h is 14h whatever the part; 8h tối is 20h; 2h đêm stays 2h, 10h đêm is 22h."""
    if part is None or hour >= 13:
        return hour
    if part in ("afternoon", "evening"):
        return hour + 12 if hour < 12 else hour
    if part == "noon":
        return hour + 12 if hour < 6 else hour
    if part == "night":
        if 6 <= hour < 12:
            return hour + 12
        return 0 if hour == 12 else hour
    if part == "morning" and hour == 12:
        return 0
    return hour


@dataclass(frozen=True, slots=True)
class _TimeSpec:
    """The time words of a message, before they are resolved against a send time."""

    text: str
    ambiguous: bool = False
    rel_minutes: float | None = None  # "30 phút trước"
    rel_days: int | None = None  # "2 ngày trước"
    clock: tuple[int, int] | None = None  # hour already moved by the part of day
    night: bool = False  # the clock is in the small hours of a night ("2h đêm")
    day_offset: int | None = None  # hôm nay 0, hôm qua -1, mai 1...
    weekday: int | None = None  # Monday 0
    week: str = ""  # truoc, sau or nay after a weekday
    month_day: tuple[int, int, int | None] | None = None  # day, month, year if written
    future: bool = False  # the message states a future (sẽ, hạn...)


_SET_SPEC = {name: _setter(_TimeSpec, name) for name in _TimeSpec.__dataclass_fields__}
_SET_SPEC_TEXT = _SET_SPEC["text"]
_SET_SPEC_AMBIGUOUS = _SET_SPEC["ambiguous"]
_SET_SPEC_REL_MINUTES = _SET_SPEC["rel_minutes"]
_SET_SPEC_REL_DAYS = _SET_SPEC["rel_days"]
_SET_SPEC_CLOCK = _SET_SPEC["clock"]
_SET_SPEC_NIGHT = _SET_SPEC["night"]
_SET_SPEC_DAY_OFFSET = _SET_SPEC["day_offset"]
_SET_SPEC_WEEKDAY = _SET_SPEC["weekday"]
_SET_SPEC_WEEK = _SET_SPEC["week"]
_SET_SPEC_MONTH_DAY = _SET_SPEC["month_day"]
_SET_SPEC_FUTURE = _SET_SPEC["future"]


def _new_time_spec(
    text: str,
    ambiguous: bool = False,
    rel_minutes: float | None = None,
    rel_days: int | None = None,
    clock: tuple[int, int] | None = None,
    night: bool = False,
    day_offset: int | None = None,
    weekday: int | None = None,
    week: str = "",
    month_day: tuple[int, int, int | None] | None = None,
    future: bool = False,
) -> _TimeSpec:
    """`_TimeSpec(...)` built through the slots, like `_parsed` (the frozen __init__ is ~2 µs)."""
    spec: _TimeSpec = _new(_TimeSpec)
    _SET_SPEC_TEXT(spec, text)
    _SET_SPEC_AMBIGUOUS(spec, ambiguous)
    _SET_SPEC_REL_MINUTES(spec, rel_minutes)
    _SET_SPEC_REL_DAYS(spec, rel_days)
    _SET_SPEC_CLOCK(spec, clock)
    _SET_SPEC_NIGHT(spec, night)
    _SET_SPEC_DAY_OFFSET(spec, day_offset)
    _SET_SPEC_WEEKDAY(spec, weekday)
    _SET_SPEC_WEEK(spec, week)
    _SET_SPEC_MONTH_DAY(spec, month_day)
    _SET_SPEC_FUTURE(spec, future)
    return spec


def _time_spec(
    lex: _Lexicon, text: str, low: str, has_digit: bool, words: set[str], accented: bool
) -> _TimeSpec | None:
    """Find the time words of a message; `_resolve_time` turns them into a date or datetime."""
    if not has_digit and words.isdisjoint(lex.time_triggers):
        return None
    spans: list[tuple[int, int]] = []
    ambiguous = False

    if "truoc" in words or "cach" in words or "nua" in words:
        m = lex.rel_re.search(low)
        while m is not None and fold(_prev_word(low, m.start())) == "thu":
            m = lex.rel_re.search(low, m.end())  # "thứ 2 tuần trước" is a weekday
        if m is not None:
            num = m.group("n1") or m.group("n2")
            unit = fold(m.group("u1") or m.group("u2"))
            qty = (
                float(num) if num.isdigit()
                else {"mot": 1, "hai": 2, "ba": 3, "nua": 0.5, "vai": 3}.get(fold(num), 1.0)
            )  # fmt: skip
            span_text = text[m.start() : m.end()]
            if m.group("dir") is not None and fold(m.group("dir")) == "nua":
                qty = -qty  # "5 phút nữa" is stated future
            if unit in ("ngay", "hom"):
                return _new_time_spec(span_text, rel_days=int(qty))
            if unit == "tuan":
                return _new_time_spec(span_text, rel_days=int(qty) * 7)
            return _new_time_spec(span_text, rel_minutes=qty if unit in ("phut", "p") else qty * 60)

    clock: tuple[int, int] | None = None
    clock_part: str | None = None
    clock_span: tuple[int, int] | None = None
    if has_digit:
        for m in lex.clock_re.finditer(low):
            hour = int(m.group("h"))
            unit = m.group("u")
            minute_s = m.group("m") or m.group("m2")
            minute = int(minute_s) if minute_s else (30 if m.group("half") else 0)
            if hour > 23 or minute > 59:
                continue
            part_word = m.group("part")
            prev = _prev_word(low, m.start())
            if unit is not None:
                if lex.not_duration_before.has(prev, accented):
                    continue
                explicit = (
                    minute_s or m.group("half") or part_word or lex.clock_before.has(prev, accented)
                )
                if fold(unit) != "h" and not explicit:
                    continue  # "4G", "2 giờ" alone are not times of day
            start = m.start()
            if fold(prev) == "luc":
                start = low.rfind("l", max(0, start - 6), start)
            clock = (hour, minute)
            clock_part = lex.parts.get(fold(part_word)) if part_word else None
            clock_span = (start, m.end())
            break

    day_offset: int | None = None
    day_part: str | None = None
    dayparts = lex.daypart_re.finditer(low) if not words.isdisjoint(lex.daypart_triggers) else ()
    for m in dayparts:
        part_word = m.group("w")
        rel = m.group("rel")
        fpart = " ".join(fold(part_word).split())
        if fpart in lex.parts:
            if rel is None:
                # A bare part of day counts only right before a clock time ("tối 10h").
                if clock_span is not None and 0 <= clock_span[0] - m.end() <= 5:
                    day_part = day_part or lex.parts.get(fpart)
                    spans.append((m.start(), m.end()))
                continue
            if fpart == "toi" and fold(rel) == "qua" and part_word == fpart:
                if lex.toi_qua_next.has(_next_word(low, m.end()), accented):
                    continue  # "toi qua xuong 2": tôi qua (I went over)
                ambiguous = True
            offset = {"nay": 0, "qua": -1, "kia": -2, "mai": 1}[fold(rel)]
            day_part = day_part or lex.parts.get(fpart)
        elif rel is None:
            fday = fpart
            opens = low[: m.start()].rstrip()[-1:] in _CLAUSE_ENDS
            after_clock = clock_span is not None and 0 <= m.start() - clock_span[1] <= 2
            if fday in ("mai", "mot") and not opens and not after_clock:
                continue  # "mai" is also a name: alone it counts opening a clause or after a clock
            offset = {
                "hom nay": 0, "bua nay": 0, "hom qua": -1, "bua qua": -1, "hom kia": -2,
                "bua kia": -2, "ngay mai": 1, "mai": 1, "ngay kia": 2, "mot": 2,
            }[fday]  # fmt: skip
        else:
            continue  # "hôm qua kia": a day word is not followed by another
        if day_offset is None:
            day_offset = offset
            spans.append((m.start(), m.end()))

    weekday: int | None = None
    week = ""
    m = lex.weekday_re.search(low) if "thu" in words or "chu" in words else None
    while m is not None and lex.weekday_not_after.has(_prev_word(low, m.start()), accented):
        m = lex.weekday_re.search(low, m.end())
    if m is not None:
        weekday = 6 if m.group("sun") else lex.weekday_num[fold(m.group("wd"))]
        week = fold(m.group("week") or m.group("week2") or "")
        week = {"roi": "truoc", "toi": "sau"}.get(week, week)
        spans.append((m.start(), m.end()))

    month_day: tuple[int, int, int | None] | None = None
    dates: list[re.Match[str]] = []
    if has_digit and "/" in low:
        dates.extend(lex.date_re.finditer(low))
    if has_digit and "thang" in words:
        dates.extend(lex.date_words_re.finditer(low))
    if dates:
        for m in sorted(dates, key=lambda d: d.start()):
            d_s, mo_s, y_s = m.group("d"), m.group("mo"), m.group("y")
            prev = fold(_prev_word(low, m.start()))
            if m.group()[0].isdigit() and prev != "ngay":
                if lex.address_before.has(prev, False) or lex.address_after.has(
                    _next_word(low, m.end()), accented
                ):
                    continue
                if d_s == "24" and mo_s == "7" and not y_s:
                    continue  # "trực 24/7"
            year = int(y_s) + (2000 if len(y_s) == 2 else 0) if y_s else None
            try:
                date(year or 2000, int(mo_s), int(d_s))  # 2000 is a leap year: 29/2 is valid
            except ValueError:
                continue
            month_day = (int(d_s), int(mo_s), year)
            start = m.start()
            if prev == "ngay":
                start = low.rfind("ng", max(0, start - 6), start)
            spans.append((start, m.end()))
            break

    if clock is not None and clock_span is not None:
        spans.append(clock_span)
    if not spans:
        return None
    hour_min: tuple[int, int] | None = None
    night = False
    if clock is not None:
        part = clock_part or day_part
        hour_min = (_adjust_hour(clock[0], part), clock[1])
        night = part == "night" and hour_min[0] < 6
    start = min(s for s, _ in spans)
    end = max(e for _, e in spans)
    return _new_time_spec(
        text=text[start:end].strip(),
        ambiguous=ambiguous,
        clock=hour_min,
        night=night,
        day_offset=day_offset,
        weekday=weekday,
        week=week,
        month_day=month_day,
        future=month_day is not None and lex.future_re.search(low) is not None,
    )


def _resolve_time(spec: _TimeSpec, now: datetime) -> datetime | date | None:
    """A date or local datetime for the time words, preferring the past unless told otherwise."""
    today = now.date()
    if spec.rel_minutes is not None:
        return (now - timedelta(minutes=spec.rel_minutes)).replace(second=0, microsecond=0)
    if spec.rel_days is not None:
        return today - timedelta(days=spec.rel_days)
    base: date | None = None
    future_ok = spec.day_offset is not None and spec.day_offset > 0
    weekday_base = False
    if spec.weekday is not None:
        monday = today - timedelta(days=today.weekday())
        if spec.week == "truoc":
            base = monday - timedelta(days=7 - spec.weekday)
        elif spec.week == "sau":
            base = monday + timedelta(days=7 + spec.weekday)
            future_ok = True
        elif spec.week == "nay":
            base = monday + timedelta(days=spec.weekday)
        else:
            base = today - timedelta(days=(today.weekday() - spec.weekday) % 7)
        weekday_base = True
    if spec.month_day is not None:
        day, month, year = spec.month_day
        for back in range(0 if year else 8):
            # No year written: the most recent such day (or the coming one when stated).
            try:
                found = date(today.year - back, month, day)
            except ValueError:
                continue
            if found <= today or spec.future:
                base = found
                break
        else:
            if year:
                base = date(year, month, day)
        weekday_base = False
        future_ok = True
    if base is None and spec.day_offset is not None:
        base = today + timedelta(days=spec.day_offset)
    if spec.clock is None:
        return base
    hour, minute = spec.clock
    if base is None:
        at = datetime.combine(today, dtime(hour, minute), tzinfo=now.tzinfo)
        if at > now + timedelta(minutes=5):
            at -= timedelta(days=1)  # prefer the past: 22h sent at 16h is last night
        return at
    if spec.day_offset == -1 and spec.night and base == today - timedelta(days=1):
        base = today  # "2h đêm qua" is early this morning
    value = datetime.combine(base, dtime(hour, minute), tzinfo=now.tzinfo)
    if weekday_base and not future_ok and value > now + timedelta(minutes=5):
        value -= timedelta(days=7)  # "thứ 6 lúc 20h" sent on Friday at 16h: last week
    return value


# ---------------------------------------------------------------------------------------------
# Commands, URLs, emoticons


def _command(text: str, low: str) -> tuple[Command | None, tuple[int, int] | None]:
    """The command in a message and the span of its /name or #name."""
    m = _CMD_START_RE.match(text)
    if m is not None:
        key = fold(lower(m.group(2)))
        name = COMMAND_NAMES.get(key)
        if name is not None or m.group(1) == "/":
            return Command(name or key, text[m.end() :].strip()), (m.start(1), m.end())
    if "#" in text:
        urls = [(u.start(), u.end()) for u in _URL_RE.finditer(low)] if "/" in low else []
        for h in _HASHTAG_RE.finditer(text):
            if any(a <= h.start() < b for a, b in urls):
                continue
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


# ---------------------------------------------------------------------------------------------
# The decision


@dataclass(slots=True)
class _Tally:
    inc: dict[str, float]
    clear: float = 0.0
    ack: float = 0.0
    nack: float = 0.0
    checkin: float = 0.0
    absent: float = 0.0
    high: bool = False
    low: bool = False
    exact: bool = False
    question: bool = False


def _tally(lex: _Lexicon, scan: _Scan) -> _Tally:
    """Add up the evidence outside questions, with negation, denial and causes applied."""
    t = _Tally(inc={})
    denied = False
    causes: list[_Entry] = []
    qs = scan.questions
    t.question = any(qs)
    for entry, negated, clause, mode, exact in scan.signals:
        if qs[clause]:
            continue
        kind, w = entry.kind, entry.w
        if kind == _INC:
            if negated:
                t.clear += w
                denied = True
                if entry.sev == "high":
                    t.low = True
            elif mode == _EXPLAINED and denied:
                continue  # "không phải cháy, chỉ là khói": the smoke is the explanation
            elif mode == _CAUSED:
                causes.append(entry)
            else:
                t.inc[entry.cat or "other"] = t.inc.get(entry.cat or "other", 0.0) + w
                t.exact = t.exact or exact
                if entry.sev == "high":
                    t.high = True
                elif entry.sev == "low":
                    t.low = True
        elif kind == _CLEAR:
            if negated:
                if entry.neg_cat:  # "không bình thường" reports something wrong
                    t.inc[entry.neg_cat] = t.inc.get(entry.neg_cat, 0.0) + w
            else:
                t.clear += w
                denied = denied or entry.deny
                if entry.sev == "low":
                    t.low = True
        elif kind == _SEV:
            if negated:
                t.low = t.low or entry.sev == "high"
            elif entry.sev == "high":
                t.high = True
            elif entry.sev == "low":
                t.low = True
            if w and not negated:
                t.inc["other"] = t.inc.get("other", 0.0) + w
        elif kind == _ACK:
            if negated:
                t.nack += w
            else:
                t.ack += w
        elif kind == _NACK:
            if not negated:
                t.nack += w
        elif kind == _CHECKIN:
            if negated:
                t.absent += w
            else:
                t.checkin += w
        elif kind == _ABSENT:
            if negated:
                t.checkin += w / 2
            else:
                t.absent += w
    # A cause ("vì kẹt xe", "do chập điện") is part of the report unless it only explains an
    # absence, a check-in, an acknowledgement or a false alarm.
    if causes and not (denied or t.absent or t.checkin or t.ack or t.nack):
        for entry in causes:
            t.inc[entry.cat or "other"] = t.inc.get(entry.cat or "other", 0.0) + entry.w
            if entry.sev == "high":
                t.high = True
    return t


def _clamp(x: float) -> float:
    # Comparisons rather than min(max()): two builtin calls cost more than the rest of it.
    return round(0.99 if x > 0.99 else 0.05 if x < 0.05 else x, 2)


def _decide(lex: _Lexicon, t: _Tally, ambiguous: bool) -> tuple[str, str | None, float]:
    """Type, category and confidence from the tallies."""
    penalty = 0.25 if ambiguous else 0.0
    best = 0.0
    if t.inc:
        rank = lex.cat_rank
        best_cat = ""
        second = 0.0
        for cat, score in t.inc.items():
            if score > best or (score == best and rank[cat] < rank[best_cat]):
                best_cat, best, second = cat, score, best
            elif score > second:
                second = score
        # An inspection that found things normal, or that someone cannot attend, is no report.
        routine = best_cat == "inspection" and (t.clear or t.absent or t.checkin)
        if best >= 1.0 and not routine:
            conf = 0.5 + 0.1 * min(best, 4.0) + (0.05 if t.exact else 0.0)
            if second >= 0.8 * best:
                conf -= 0.1  # two categories nearly tie
            return "incident", best_cat, _clamp(conf - penalty)
    if t.absent:
        kind, score = "absent", t.absent
    elif t.checkin:
        kind, score = "check_in", t.checkin
    elif t.clear:
        kind, score = "all_clear", t.clear
    elif t.nack:
        kind, score = "not_ack", t.nack
    elif t.ack:
        kind, score = "ack", t.ack
    elif t.question:
        return "question", None, 0.7
    else:
        return "other", None, 0.4 if best else 0.5
    return kind, None, _clamp(0.5 + 0.1 * min(score, 4.0) - penalty)


def _analyse_text(text: str) -> tuple[ParsedMessage, _TimeSpec | None]:
    """Read a message's text: the parse without its time, and the time words to resolve."""
    lex = _lexicon()
    norm = normalize_text(text)
    low = lower(norm)

    blanks: list[tuple[int, int]] = []
    command: Command | None = None
    if "/" in low or "#" in low:
        command, span = _command(norm, low)
        if span is not None:
            blanks.append(span)
    if "@" in low:
        blanks.extend((m.start(), m.end()) for m in _MENTION_RE.finditer(low))
    if "/" in low or "www." in low:
        blanks.extend((m.start(), m.end()) for m in _URL_RE.finditer(low))
    emo_ack = emo_nack = 0.0
    if "/-" in low:
        for m in _EMOTICON_RE.finditer(low):
            blanks.append((m.start(), m.end()))
            reading = lex.emoticons.get(m.group(1))
            if reading == _ACK:
                emo_ack += 2.5
            elif reading == _NACK:
                emo_nack += 2.0
    body = _blank(low, blanks) if blanks else low

    ltoks, ftoks, accented = _tokens(lex, norm, body)
    words = set(ftoks)
    scan = _scan(lex, ltoks, ftoks, accented, words)
    tally = _tally(lex, scan)
    tally.ack += emo_ack
    tally.nack += emo_nack

    has_digit = _DIGIT_RE.search(body) is not None
    spec = _time_spec(lex, norm, body, has_digit, words, accented)
    places = _places(lex, norm, body, ltoks, accented, words)
    number_words = not lex.number_starts.isdisjoint(words)
    people = (
        _people(lex, body, accented, has_digit, number_words)
        if (has_digit or number_words) and not lex.noun_starts.isdisjoint(words)
        else None
    )
    phones = tuple(_phones(body)) if has_digit else ()
    emergency = "11" in body and _EMERGENCY_RE.search(body) is not None

    ambiguous = scan.ambiguous or (spec is not None and spec.ambiguous)
    kind, category, confidence = _decide(lex, tally, ambiguous)
    severity: str | None = None
    if kind == "incident" and category is not None:
        severity = lex.default_sev.get(category, "medium")
        if tally.high or emergency or (people is not None and people >= lex.crowd_high):
            severity = "high"
        elif tally.low:
            severity = "low"
    if command is not None:
        if kind != "incident" or (
            command.name not in _REPORT_COMMANDS and command.name in _COMMANDS
        ):
            category = severity = None
        kind = "command"
        confidence = 0.99 if command.name in _COMMANDS else 0.6
    parsed = _parsed(
        kind, category, severity, ambiguous, confidence, None, None, places, people, phones, command
    )
    return parsed, spec


# Members repeat themselves ("Đã nhận", "Có mặt", 👍): identical texts are read once, and the
# result is immutable, so it is shared. Only time words depend on the send time.
_analyse = lru_cache(maxsize=8192)(_analyse_text)


def _with_time(
    read: tuple[ParsedMessage, _TimeSpec | None], sent_at: datetime, tz: ZoneInfo | None
) -> ParsedMessage:
    """The reading of a text with its time words resolved against the send time."""
    p, spec = read
    if spec is None:
        return p
    zone = tz or DEFAULT_TZ
    now = sent_at.astimezone(zone) if sent_at.tzinfo else sent_at.replace(tzinfo=zone)
    when = _resolve_time(spec, now)
    if when is None:
        return p
    return _parsed(
        p.type, p.category, p.severity, p.ambiguous, p.confidence, when, spec.text,
        p.places, p.people, p.phones, p.command,
    )  # fmt: skip


def parse(text: str, sent_at: datetime, tz: ZoneInfo | None = None) -> ParsedMessage:
    """Read one chat message; relative times are resolved in `tz` (default Asia/Ho_Chi_Minh)."""
    return _with_time(_analyse(text), sent_at, tz)


def _parse_uncached(text: str, sent_at: datetime, tz: ZoneInfo | None = None) -> ParsedMessage:
    """`parse()` without the cache of readings: what a text never seen before costs."""
    return _with_time(_analyse_text(text), sent_at, tz)
