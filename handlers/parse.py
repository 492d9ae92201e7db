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
from functools import cache
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


# ---------------------------------------------------------------------------------------------
# Lexicon

# Entry kinds.
_INC, _CLEAR, _ACK, _NACK, _CHECKIN, _ABSENT, _Q, _SEV, _NEG, _CONJ, _EXPLAIN, _NEUTRAL = range(12)
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
_VI_LETTER_RE: Final = re.compile(
    "[" + "".join(sorted({c for c in map(chr, range(0xC0, 0x1F00)) if fold(c) != c})) + "]"
)


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
    toks: tuple[str, ...]
    marked: bool  # written with diacritics


@dataclass(frozen=True, slots=True)
class _Group:
    """Entries sharing one folded phrase: the readings of that phrase."""

    ftoks: tuple[str, ...]
    entries: tuple[_Entry, ...]
    ambiguous: bool


def _vi(word: str) -> str:
    """Regex for a lower-case phrase that also matches it typed without diacritics."""
    out = []
    for ch in word:
        plain = fold(ch)
        if ch == " ":
            out.append(r"\s+")
        elif plain != ch:
            out.append(f"[{ch}{plain}]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _alt(words: Iterable[str]) -> str:
    """A non-capturing alternation of phrases, longest first."""
    return "(?:" + "|".join(_vi(w) for w in sorted(set(words), key=len, reverse=True)) + ")"


def _norm(phrase: str) -> str:
    return lower(normalize_text(str(phrase))).strip()


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
        self.ca_shift_next = frozenset(fold(_norm(p)) for p in data.get("ca_shift_next") or ())
        self.q_final = frozenset(fold(_norm(p)) for p in data.get("question_final") or ())
        self.vocative = frozenset(
            t for p in data.get("vocative") or () for t in fold(_norm(p)).split()
        )
        self.emoticons: dict[str, int] = {
            str(k): {"ack": _ACK, "not_ack": _NACK}[v] for k, v in (data.get("emoticons") or {}).items()
        }
        entries = list(self._entries(data))
        self.first = self._index(entries)
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
        unknown = set(spec) - {"w", "sev", "prior", "near", "scope", "neg", "pos"}
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
        w = spec.get("w", 1 if kind not in (_NEUTRAL, _NEG, _CONJ, _EXPLAIN) else 0)
        return _Entry(
            phrase=norm,
            kind=kind,
            cat=cat,
            w=float(w if w is not None else 1),
            sev=sev,
            prior=float(spec.get("prior", 0.5)),
            near=frozenset(fold(_norm(n)) for n in spec.get("near") or ()),
            scope=_SCOPE_CLAUSE if spec.get("scope") == "clause" else 0,
            start_only=spec.get("pos") == "start",
            neg_cat=str(spec.get("neg", "suspicious")),
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

    def _index(self, entries: list[_Entry]) -> dict[str, tuple[_Group, ...]]:
        seen: dict[tuple[str, ...], _Entry] = {}
        by_fold: dict[tuple[str, ...], list[_Entry]] = {}
        for e in entries:
            if e.toks in seen:
                raise ValueError(f"lexicon phrase {e.phrase!r} is listed twice")
            seen[e.toks] = e
            by_fold.setdefault(tuple(fold(t) for t in e.toks), []).append(e)
        first: dict[str, list[_Group]] = {}
        for ftoks, group in by_fold.items():
            amb = " ".join(ftoks) in self.ambiguous_forms
            first.setdefault(ftoks[0], []).append(_Group(ftoks, tuple(group), amb))
        return {
            k: tuple(sorted(v, key=lambda g: len(g.ftoks), reverse=True)) for k, v in first.items()
        }

    def starts_phrase(self, ftoks: Sequence[str], j: int) -> bool:
        """True when a signal phrase, or any phrase of two words or more, starts at token j."""
        for g in self.first.get(ftoks[j], ()):
            n = len(g.ftoks)
            if tuple(ftoks[j : j + n]) == g.ftoks and (
                n > 1 or any(e.kind not in (_NEUTRAL, _Q) for e in g.entries)
            ):
                return True
        return False

    # -- regexes from word lists ------------------------------------------------------------------

    def _places(self, spec: Mapping[str, Any]) -> None:
        self.place_kind: dict[str, tuple[str, str]] = {}
        names: list[str] = []
        for item in spec["kinds"]:
            for w in item["words"]:
                self.place_kind[fold(_norm(w))] = (item["kind"], item.get("code", "optional"))
            names.extend(_norm(n) for n in item.get("names") or ())
        self.place_loose = frozenset(_norm(w) for w in spec.get("loose") or ())
        words = [_norm(w) for item in spec["kinds"] for w in item["words"]]
        self.place_re = re.compile(
            rf"(?<!\w)(?P<word>{_alt(words)})(?![^\W\d_])"
            rf"(?:\s*(?:{_vi('số')}\s*)?(?P<code>[0-9]{{1,4}}[^\W\d_]?|[^\W\d_]{{1,2}}[0-9]{{1,3}}"
            rf"[^\W\d_]?|(?P<name>{_alt(names)})|[^\W\d_])(?!\w))?"
        )
        self.place_names = frozenset(fold(n) for n in names)

    def _company(self, spec: Mapping[str, Any]) -> None:
        self.company_re = re.compile(rf"(?<!\w){_alt(_norm(p) for p in spec['prefixes'])}(?!\w)")
        self.company_legal = tuple(
            sorted((tuple(fold(_norm(p)).split()) for p in spec["legal"]), key=len, reverse=True)
        )
        self.company_stop: dict[str, set[str]] = {}
        for p in spec["stop"]:
            self.company_stop.setdefault(fold(_norm(p)), set()).add(_norm(p))

    def _people(self, spec: Mapping[str, Any]) -> None:
        self.number_words = {fold(_norm(k)): int(v) for k, v in spec["numbers"].items()}
        self.number_marked = {fold(_norm(k)): _norm(k) for k in spec["numbers"]}
        self.number_starts = frozenset(fold(_norm(k)).split()[0] for k in spec["numbers"])
        self.number_folded_ok = frozenset(fold(_norm(p)) for p in spec["folded_ok"])
        self.nouns_exact = {fold(_norm(p)): _norm(p) for p in spec.get("nouns_exact") or ()}
        self.people_not_after = frozenset(fold(_norm(p)) for p in spec["not_after"])
        self.crowd_high = int(spec.get("crowd_high", 50))
        approx = ["khoảng", "tầm", "chừng", "gần", "hơn", "trên", "ngót", "độ", "cỡ", "ít nhất"]
        self.people_re = re.compile(
            rf"(?<![\w.,])(?:{_alt(approx)}\s+)?"
            rf"(?P<num>[0-9]{{1,3}}(?:[.,][0-9]{{3}})+|[0-9]{{1,5}}|"
            rf"{_alt(_norm(k) for k in spec['numbers'])})\s*"
            rf"(?P<noun>{_alt(_norm(n) for n in spec['nouns'])})(?!\w)"
        )

    def _time(self, spec: Mapping[str, Any]) -> None:
        parts = {_norm(k): v for k, v in spec["parts"].items()}
        self.parts = {fold(k): v for k, v in parts.items()}
        part_re = _alt(parts)
        self.clock_before = frozenset(fold(_norm(p)) for p in spec["clock_before"])
        self.not_duration_before = frozenset(fold(_norm(p)) for p in spec["not_duration_before"])
        self.toi_qua_next = frozenset(fold(_norm(p)) for p in spec["toi_qua_next"])
        self.weekday_not_after = frozenset(fold(_norm(p)) for p in spec["weekday_not_after"])
        self.address_before = frozenset(fold(_norm(p)) for p in spec["address_before"])
        self.address_after = frozenset(fold(_norm(p)) for p in spec["address_after"])
        self.future_markers = tuple(_norm(p) for p in spec["future_markers"])
        self.future_re = re.compile(rf"(?<!\w){_alt(self.future_markers)}(?!\w)")
        self.clock_re = re.compile(
            rf"(?<![\w.,:/\-])(?P<h>[0-9]{{1,2}})(?:\s?(?P<u>h|g|{_vi('giờ')})"
            rf"(?:\s?(?P<m>[0-9]{{1,2}})(?:\s?(?:{_vi('phút')}|p))?|\s?(?P<half>{_vi('rưỡi')}))?"
            rf"|:(?P<m2>[0-9]{{2}}))(?![\w:])(?:\s+(?P<part>{part_re})(?!\w))?"
        )
        self.daypart_re = re.compile(
            rf"(?<!\w)(?:(?P<part>{part_re})(?:\s+(?:{_alt(['hôm', 'bữa'])}\s+)?"
            rf"(?P<rel>{_alt(['nay', 'qua', 'kia', 'mai'])}))?"
            rf"|(?P<day>{_alt(['hôm nay', 'hôm qua', 'hôm kia', 'bữa nay', 'bữa qua', 'bữa kia', 'ngày mai', 'ngày kia', 'mai', 'mốt'])}))(?!\w)"
        )
        weekdays = {
            "2": 0, "hai": 0, "3": 1, "ba": 1, "4": 2, "tư": 2, "5": 3, "năm": 3,
            "6": 4, "sáu": 4, "7": 5, "bảy": 5, "bẩy": 5,
        }  # fmt: skip
        self.weekday_num = {fold(k): v for k, v in weekdays.items()}
        self.weekday_re = re.compile(
            rf"(?<!\w)(?:{_vi('thứ')}\s?(?P<wd>{_alt(weekdays)})|(?P<sun>{_vi('chủ nhật')}))"
            rf"(?:\s+{_vi('tuần')}\s+(?P<week>{_alt(['trước', 'rồi', 'này', 'sau', 'tới'])}))?(?!\w)"
        )
        self.date_re = re.compile(
            r"(?<![\w/.\-])(?P<d>[0-9]{1,2})/(?P<mo>[0-9]{1,2})(?:/(?P<y>[0-9]{4}|[0-9]{2}))?"
            r"(?![\w/]|[.\-][0-9])"
            rf"|(?<!\w){_vi('ngày')}\s+(?P<d2>[0-9]{{1,2}})\s+{_vi('tháng')}\s+(?P<mo2>[0-9]{{1,2}})"
            rf"(?:\s+{_vi('năm')}\s+(?P<y2>[0-9]{{4}}))?(?!\w)"
        )
        nums = _alt(["một", "hai", "ba", "nửa", "vài"])
        units = _alt(["phút", "tiếng", "giờ", "ngày", "hôm", "tuần"])
        self.rel_re = re.compile(
            rf"(?<!\w)(?:{_vi('cách đây')}\s+(?P<n1>[0-9]{{1,3}}|{nums})\s?(?P<u1>{units}|p|h)"
            rf"|(?P<n2>[0-9]{{1,3}}|{nums})\s?(?P<u2>{units}|p|h)\s+{_vi('trước')})(?!\w)"
        )


@cache
def _lexicon(path: Path = LEXICON_PATH) -> _Lexicon:
    """Load and compile the lexicon once per process."""
    with path.open(encoding="utf-8") as fh:
        return _Lexicon(yaml.safe_load(fh))


# ---------------------------------------------------------------------------------------------
# Small regexes that need no vocabulary

_URL_RE: Final = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:vn|com|net|org|io)/\S*")
_EMOTICON_RE: Final = re.compile(r"(?<![\w/])/-([a-z]+)")
_MENTION_RE: Final = re.compile(r"(?<![\w@])@\w+")
_CMD_START_RE: Final = re.compile(
    r"\s*(?:@[^\s/#@]+(?:[ \t]+[^\s/#@]+){0,3}\s+)?([/#])([^\W\d_]\w*)(?:@[\w.]+)?(?!\w)(?![/.\-]\w)"
)
_HASHTAG_RE: Final = re.compile(r"(?<![\w/#&?=.:@\-])#([^\W\d_]\w*)(?!\w)")
_PHONE_RE: Final = re.compile(
    r"(?<![\w+.\-/])(?:\(?\+?84\)?[ .\-]?|0)(?:[35789](?:[ .\-]?[0-9]){8}|2(?:[ .\-]?[0-9]){9})"
    r"(?![0-9])"
)
_EMERGENCY_RE: Final = re.compile(r"(?<![\w.+\-/])11[345](?![\w.\-/])")
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


def _char_compat(typed: str, canon: str) -> bool:
    """Each typed character is the canonical one or its bare letter (partly typed marks)."""
    if len(typed) != len(canon):
        return False
    return all(a == b or a == fold(b) for a, b in zip(typed, canon, strict=True))


def _prev_word(s: str, start: int) -> str:
    chunk = s[max(0, start - 24) : start].split()
    return fold(chunk[-1].strip(".,;:!?()\"'")) if chunk else ""


def _next_word(s: str, end: int) -> str:
    chunk = s[end : end + 24].split()
    return fold(chunk[0].strip(".,;:!?()\"'")) if chunk else ""


@dataclass(slots=True)
class _Scan:
    """Signals found in one message, per clause, before the decision."""

    signals: list[tuple[_Entry, bool, int, bool, bool]]  # entry, negated, clause, explained, exact
    questions: list[bool]  # per clause
    ambiguous: bool


def _tokens(lex: _Lexicon, text: str, low: str, accented: bool) -> tuple[list[str], list[str]]:
    ltoks = _TOKEN_RE.findall(low)
    if accented:
        memo = _FOLD_MEMO
        ftoks = [memo.get(t) or _fold_token(t) for t in ltoks]
    else:
        ftoks = ltoks
    has_ca = "ca" in ftoks
    if not has_ca and lex.alias_keys.isdisjoint(ltoks):
        return ltoks, ftoks
    if has_ca:
        ltoks, ftoks = _police(lex, text, ltoks, ftoks)
    return lex.expand(ltoks, ftoks)


def _police(
    lex: _Lexicon, text: str, ltoks: list[str], ftoks: list[str]
) -> tuple[list[str], list[str]]:
    """Read "ca" as công an where the writer meant the police (CA in running text, ca phường)."""
    orig = _TOKEN_RE.findall(text) if "CA" in text else []
    if len(orig) != len(ltoks):
        orig = []
    shouting = text.isupper()
    out_l: list[str] = []
    out_f: list[str] = []
    for k, ft in enumerate(ftoks):
        if ft == "ca":
            nxt = ftoks[k + 1] if k + 1 < len(ftoks) else ""
            police = any(tuple(ftoks[k + 1 : k + 1 + len(p)]) == p for p in lex.ca_police_next)
            if not police and orig and orig[k] == "CA" and not shouting:
                police = not nxt.isdigit() and nxt not in lex.ca_shift_next
            if police:
                out_l += ["công", "an"]
                out_f += ["cong", "an"]
                continue
        out_l.append(ltoks[k])
        out_f.append(ft)
    return out_l, out_f


def _scan(lex: _Lexicon, ltoks: list[str], ftoks: list[str], accented: bool) -> _Scan:
    """One pass over the tokens: longest phrase at each position, negation scopes, clauses."""
    first = lex.first
    n = len(ftoks)
    ftup = tuple(ftoks)
    signals: list[tuple[_Entry, bool, int, bool, bool]] = []
    questions = [False]
    clause = 0
    clause_start = True
    clause_len = 0
    last_free = ""  # last standalone word of the clause, for "đã nhận chưa"
    neg = 0
    neg_left = 0
    explained = False
    ambiguous = False
    msg_words: frozenset[str] | None = None
    i = 0
    while i < n:
        ft = ftup[i]
        if ft[0] in _BOUNDARY_CHARS:
            if "?" in ft:
                questions[clause] = True
            elif clause_len > 1 and last_free in lex.q_final:
                questions[clause] = True
            clause += 1
            questions.append(False)
            clause_start, clause_len, last_free = True, 0, ""
            neg = 0
            explained = False
            i += 1
            continue
        groups = first.get(ft)
        chosen: _Entry | None = None
        size = 1
        exact = False
        if groups is not None:
            for g in groups:
                size = len(g.ftoks)
                if size > 1 and ftup[i : i + size] != g.ftoks:
                    continue
                cands: list[tuple[_Entry, bool]] = []
                for e in g.entries:
                    if e.start_only and not clause_start:
                        continue
                    state = 2
                    for k, et in enumerate(e.toks):
                        lt = ltoks[i + k]
                        if lt == et:
                            continue
                        if lt == g.ftoks[k] or _char_compat(lt, et):
                            state = 1
                        else:
                            state = 0
                            break
                    if state:
                        # A bare word matches a bare entry "exactly" only in a message that is
                        # written with diacritics; otherwise it is as unsure as any folded word.
                        cands.append((e, state == 2 and (e.marked or accented)))
                if not cands:
                    continue
                exacts = [e for e, x in cands if x]
                if exacts:
                    chosen, exact = exacts[0], True
                elif len(cands) == 1:
                    chosen = cands[0][0]
                else:
                    if msg_words is None:
                        msg_words = frozenset(ftoks)
                    words = msg_words

                    def score(e: _Entry, words: frozenset[str] = words) -> float:
                        return e.prior + (0.5 if e.near and not e.near.isdisjoint(words) else 0)

                    chosen = max((e for e, _ in cands), key=score)
                    if g.ambiguous and len({(e.kind, e.cat) for e, _ in cands}) > 1:
                        ambiguous = True
                break
        if chosen is None:
            if neg == _SCOPE_SHORT:
                neg_left -= 1
                if neg_left <= 0:
                    neg = 0
            if ft not in lex.vocative:
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
            explained = False
        elif kind == _EXPLAIN:
            neg = 0
            explained = True
        elif kind == _NEUTRAL:
            if neg == _SCOPE_SHORT:
                neg_left -= size
                if neg_left <= 0:
                    neg = 0
        else:
            if kind == _Q:
                questions[clause] = True
            signals.append((chosen, neg != 0, clause, explained, exact))
            if chosen.scope == _SCOPE_CLAUSE:
                neg = _SCOPE_CLAUSE
            elif neg == _SCOPE_SHORT:
                neg = 0  # the predicate closes a short negation
        if size == 1:
            if ft not in lex.vocative:
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


def _places(lex: _Lexicon, text: str, low: str, accented: bool) -> list[Place]:
    out: list[Place] = []
    seen: set[tuple[str, str | None]] = set()
    for m in lex.place_re.finditer(low):
        word = m.group("word")
        fword = fold(word)
        kind, code_rule = lex.place_kind.get(" ".join(fword.split()), ("place", "none"))
        code: str | None = None
        end = m.end("word")
        if m.group("code") is not None and code_rule != "none":
            raw = text[m.start("code") : m.end("code")]
            if len(raw) == 1 and not raw.isupper() and not raw.isdigit():
                pass  # a lone lower-case letter is a word, not a code ("kho a" is rare)
            else:
                code = raw.upper()
                end = m.end("code")
        if code is None:
            if code_rule == "required":
                continue
            canon = " ".join(word.split())
            loose = any(fold(canon) == fold(w) for w in lex.place_loose)
            if loose and not (word != fword or (accented and fold(word) == word and canon in lex.place_loose)):
                continue
        key = (kind, code)
        if key not in seen:
            seen.add(key)
            out.append(Place(kind, code, text[m.start() : end]))
    if lex.company_re.search(low):
        for place in _companies(lex, text, low, accented):
            key = (place.kind, place.code)
            if key not in seen:
                seen.add(key)
                out.append(place)
    return out


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
            if lex.starts_phrase(ftoks, j):
                break
            j += 1
        while j > start and not ftoks[j - 1][0].isalnum():
            j -= 1
        if j > start:
            code: str | None = text[words[start][0] : words[j - 1][1]]
            end = words[j - 1][1]
        else:
            code, end = None, m.end()
        yield Place("company", code, text[m.start() : end])


def _people(lex: _Lexicon, low: str) -> int | None:
    best: int | None = None
    for m in lex.people_re.finditer(low):
        num = m.group("num")
        if num[0].isdigit():
            value = int(num.replace(".", "").replace(",", ""))
        else:
            fnum = " ".join(fold(num).split())
            if fnum not in lex.number_folded_ok and lex.number_marked.get(fnum) != " ".join(num.split()):
                continue
            value = lex.number_words.get(fnum, 0)
        noun = m.group("noun")
        fnoun = fold(noun)
        if fnoun in lex.nouns_exact and noun != lex.nouns_exact[fnoun]:
            continue
        if _prev_word(low, m.start()) in lex.people_not_after:
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


def _time(
    lex: _Lexicon, text: str, low: str, now: datetime, has_digit: bool
) -> tuple[datetime | date | None, str | None, bool]:
    """The time a message talks about, resolved against the send time; prefers the past."""
    today = now.date()
    spans: list[tuple[int, int]] = []
    ambiguous = False

    if has_digit:
        m = lex.rel_re.search(low)
        while m is not None and _prev_word(low, m.start()) == "thu":
            m = lex.rel_re.search(low, m.end())  # "thứ 2 tuần trước" is a weekday
        if m is not None:
            num = m.group("n1") or m.group("n2")
            unit = fold(m.group("u1") or m.group("u2"))
            fnum = fold(num)
            qty = (
                int(num) if num.isdigit()
                else {"mot": 1, "hai": 2, "ba": 3, "nua": 0.5, "vai": 3}.get(fnum, 1)
            )  # fmt: skip
            text_span = text[m.start() : m.end()]
            if unit in ("ngay", "hom"):
                return today - timedelta(days=int(qty)), text_span, False
            if unit == "tuan":
                return today - timedelta(weeks=int(qty)), text_span, False
            minutes = qty if unit in ("phut", "p") else qty * 60
            at = (now - timedelta(minutes=minutes)).replace(second=0, microsecond=0)
            return at, text_span, False

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
                funit = fold(unit)
                if prev in lex.not_duration_before:
                    continue
                explicit = minute_s or m.group("half") or part_word or prev in lex.clock_before
                if funit != "h" and not explicit:
                    continue  # "4G", "2 giờ" alone are not times of day
            start = m.start()
            if prev == "luc":
                start = low.rfind("l", max(0, start - 6), start)
            clock = (hour, minute)
            clock_part = lex.parts.get(fold(part_word)) if part_word else None
            clock_span = (start, m.end())
            break

    day_offset: int | None = None
    day_part: str | None = None
    for m in lex.daypart_re.finditer(low):
        part_word, rel, day = m.group("part"), m.group("rel"), m.group("day")
        if part_word is not None:
            fpart = fold(part_word)
            if rel is None:
                # A bare part of day counts only right before a clock time ("tối 10h").
                if clock_span is not None and 0 <= clock_span[0] - m.end() <= 5:
                    day_part = day_part or lex.parts.get(fpart)
                    spans.append((m.start(), m.end()))
                continue
            if fpart == "toi" and fold(rel) == "qua" and part_word == fpart:
                if _next_word(low, m.end()) in lex.toi_qua_next:
                    continue  # "toi qua xuong 2": tôi qua (I went over)
                ambiguous = True
            offset = {"nay": 0, "qua": -1, "kia": -2, "mai": 1}[fold(rel)]
            day_part = day_part or lex.parts.get(fpart)
        else:
            fday = fold(day)
            if fday in ("mai", "mot") and m.start() != 0 and not (
                clock_span is not None and 0 <= m.start() - clock_span[1] <= 2
            ):
                continue  # "mai" is also a name; alone it counts at the start or after a clock
            offset = {
                "hom nay": 0, "bua nay": 0, "hom qua": -1, "bua qua": -1, "hom kia": -2,
                "bua kia": -2, "ngay mai": 1, "mai": 1, "ngay kia": 2, "mot": 2,
            }[" ".join(fday.split())]  # fmt: skip
        if day_offset is None:
            day_offset = offset
            spans.append((m.start(), m.end()))

    base: date | None = None
    future_ok = day_offset is not None and day_offset > 0
    weekday_base = False
    m = lex.weekday_re.search(low)
    while m is not None and _prev_word(low, m.start()) in lex.weekday_not_after:
        m = lex.weekday_re.search(low, m.end())
    if m is not None:
        wd = 6 if m.group("sun") else lex.weekday_num[fold(m.group("wd"))]
        week = fold(m.group("week") or "")
        monday = today - timedelta(days=today.weekday())
        if week in ("truoc", "roi"):
            base = monday - timedelta(days=7) + timedelta(days=wd)
        elif week in ("sau", "toi"):
            base = monday + timedelta(days=7 + wd)
            future_ok = True
        elif week == "nay":
            base = monday + timedelta(days=wd)
        else:
            base = today - timedelta(days=(today.weekday() - wd) % 7)
        weekday_base = True
        spans.append((m.start(), m.end()))

    if has_digit:
        for m in lex.date_re.finditer(low):
            d_s, mo_s, y_s = m.group("d") or m.group("d2"), m.group("mo") or m.group("mo2"), (
                m.group("y") or m.group("y2")
            )
            prev = _prev_word(low, m.start())
            if m.group("d") is not None and prev != "ngay":
                if prev in lex.address_before or _next_word(low, m.end()) in lex.address_after:
                    continue
                if d_s == "24" and mo_s == "7" and not y_s:
                    continue  # "trực 24/7"
            try:
                if y_s:
                    year = int(y_s) + (2000 if len(y_s) == 2 else 0)
                    found = date(year, int(mo_s), int(d_s))
                else:
                    found = date(today.year, int(mo_s), int(d_s))
                    if found > today and not lex.future_re.search(low):
                        found = date(today.year - 1, int(mo_s), int(d_s))
            except ValueError:
                continue
            base = found
            weekday_base = False
            future_ok = True
            start = m.start()
            if prev == "ngay":
                start = low.rfind("ng", max(0, start - 6), start)
            spans.append((start, m.end()))
            break

    if base is None and day_offset is not None:
        base = today + timedelta(days=day_offset)

    value: datetime | date | None
    if clock is not None and clock_span is not None:
        part = clock_part or day_part
        hour = _adjust_hour(clock[0], part)
        spans.append(clock_span)
        if base is None:
            at = datetime.combine(today, dtime(hour, clock[1]), tzinfo=now.tzinfo)
            if at > now + timedelta(minutes=5):
                at -= timedelta(days=1)  # prefer the past: 22h sent at 16h is last night
            value = at
        else:
            if day_offset == -1 and part == "night" and hour < 6:
                base = today  # "2h đêm qua" is early this morning
            value = datetime.combine(base, dtime(hour, clock[1]), tzinfo=now.tzinfo)
            if weekday_base and not future_ok and value > now + timedelta(minutes=5):
                value -= timedelta(days=7)  # "thứ 6 lúc 20h" sent on Friday at 16h: last week
    else:
        value = base
    if value is None:
        return None, None, False
    start = min(s for s, _ in spans)
    end = max(e for _, e in spans)
    return value, text[start:end].strip(), ambiguous


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
    t = _Tally(inc={})
    denied = False
    qs = scan.questions
    t.question = any(qs)
    for entry, negated, clause, explained, exact in scan.signals:
        if qs[clause]:
            continue
        kind, w = entry.kind, entry.w
        if kind == _INC:
            if negated:
                t.clear += w
                denied = True
                if entry.sev == "high":
                    t.low = True
            elif explained and denied:
                continue  # "không phải cháy, chỉ là khói": the smoke is the explanation
            else:
                cat = entry.cat or "other"
                t.inc[cat] = t.inc.get(cat, 0.0) + w
                t.exact = t.exact or exact
                if entry.sev == "high":
                    t.high = True
                elif entry.sev == "low":
                    t.low = True
        elif kind == _CLEAR:
            if negated:
                t.inc[entry.neg_cat] = t.inc.get(entry.neg_cat, 0.0) + w
            else:
                t.clear += w
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
    return t


def _clamp(x: float) -> float:
    return round(min(0.99, max(0.05, x)), 2)


def _decide(
    lex: _Lexicon, t: _Tally, ambiguous: bool
) -> tuple[str, str | None, float]:
    """Type, category and confidence from the tallies."""
    best_cat: str | None = None
    best = 0.0
    second = 0.0
    for cat, score in t.inc.items():
        if best_cat is None or score > best or (
            score == best and lex.cat_rank[cat] < lex.cat_rank[best_cat]
        ):
            second = max(second, best)
            best_cat, best = cat, score
        else:
            second = max(second, score)
    penalty = 0.25 if ambiguous else 0.0
    only_inspection = best_cat == "inspection" and second == 0
    if best_cat is not None and best >= 1.0 and not (only_inspection and t.clear > 0):
        conf = 0.5 + 0.1 * min(best, 4.0) + (0.05 if t.exact else 0.0)
        if second and second >= 0.8 * best:
            conf -= 0.1
        return "incident", best_cat, _clamp(conf - penalty)
    for kind, score in (
        ("absent", t.absent),
        ("check_in", t.checkin),
        ("all_clear", t.clear),
        ("not_ack", t.nack),
        ("ack", t.ack),
    ):
        if score > 0:
            return kind, None, _clamp(0.5 + 0.1 * min(score, 4.0) - penalty)
    if t.question:
        return "question", None, 0.7
    return "other", None, 0.4 if best else 0.5


def parse(text: str, sent_at: datetime, tz: ZoneInfo | None = None) -> ParsedMessage:
    """Read one chat message; relative times are resolved in `tz` (default Asia/Ho_Chi_Minh)."""
    lex = _lexicon()
    zone = tz or DEFAULT_TZ
    now = sent_at.astimezone(zone) if sent_at.tzinfo is not None else sent_at.replace(tzinfo=zone)
    norm = normalize_text(text)
    low = lower(norm)
    accented = not low.isascii() and _VI_LETTER_RE.search(low) is not None

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
    emo_ack = 0.0
    emo_nack = 0.0
    if "/-" in low:
        for m in _EMOTICON_RE.finditer(low):
            blanks.append((m.start(), m.end()))
            kind = lex.emoticons.get(m.group(1))
            if kind == _ACK:
                emo_ack += 2.5
            elif kind == _NACK:
                emo_nack += 2.0
    body = _blank(low, blanks) if blanks else low

    ltoks, ftoks = _tokens(lex, norm, body, accented)
    scan = _scan(lex, ltoks, ftoks, accented)
    tally = _tally(lex, scan)
    tally.ack += emo_ack
    tally.nack += emo_nack

    has_digit = _DIGIT_RE.search(body) is not None
    when, when_text, time_amb = _time(lex, norm, body, now, has_digit)
    places = _places(lex, norm, body, accented)
    people = (
        _people(lex, body) if has_digit or not lex.number_starts.isdisjoint(ftoks) else None
    )
    phones = _phones(body) if has_digit else []
    emergency = has_digit and _EMERGENCY_RE.search(body) is not None

    ambiguous = scan.ambiguous or time_amb
    kind, category, confidence = _decide(lex, tally, ambiguous)
    severity: str | None = None
    if kind == "incident" and category is not None:
        severity = lex.default_sev.get(category, "medium")
        if tally.high or emergency or (people is not None and people >= lex.crowd_high):
            severity = "high"
        elif tally.low:
            severity = "low"
    if command is not None:
        if command.name not in _REPORT_COMMANDS and command.name in _COMMANDS:
            category = severity = None
        elif kind != "incident":
            category = severity = None
        kind = "command"
        confidence = 0.99 if command.name in _COMMANDS else 0.6
    return ParsedMessage(
        type=kind,
        category=category,
        severity=severity,
        ambiguous=ambiguous,
        confidence=confidence,
        time=when,
        time_text=when_text,
        places=tuple(places),
        people=people,
        phones=tuple(phones),
        command=command,
    )
