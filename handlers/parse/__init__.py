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
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from handlers.parse import learned
from handlers.parse.classify import _decide, _rules_settle, _severity, _Tally, _tally
from handlers.parse.commands import (
    _COMMANDS,
    _EMOTICON_RE,
    _MENTION_RE,
    _REPORT_COMMANDS,
    _URL_RE,
    COMMAND_NAMES,
    _blank,
    _command,
)
from handlers.parse.entities import _EMERGENCY_RE, _head_count, _people, _phones, _places
from handlers.parse.learned import second_opinion
from handlers.parse.result import Command, ParsedMessage, Place, _parsed
from handlers.parse.scanning import (
    _arrived_clauses,
    _bulb_burnt,
    _directed_clauses,
    _exit_shut,
    _fire_alarm_false,
    _others_absent_clauses,
    _people_inside,
    _promised_clauses,
    _read,
    _responder_clauses,
    _roll_call_clauses,
    _says_any,
    _scan,
    _someone_trapped,
    _thing_scraped,
    _tokens,
)
from handlers.parse.timewords import NOTICED, _resolve_time, _time_spec, _TimeSpec
from handlers.parse.vocabulary import (
    _ABSENT,
    _ACK,
    _CHECKIN,
    _CLEAR,
    _INC,
    _NACK,
    _PLAIN,
    LIGHT_INJURY,
    M_ACCENTED,
    M_DIGIT,
    M_LAUGH,
    M_NOUN,
    M_NUMBER,
    TRAPPED,
    _Entry,
    _Lexicon,
    _lexicon,
)
from handlers.text import fold, lower, normalize_text

__all__ = ["COMMAND_NAMES", "Command", "ParsedMessage", "Place", "parse"]

DEFAULT_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")
# A false fire alarm (lexicon `fire_alarm`): its category, the reason of its low severity, and
# the confidence it is read with at least (an all-clear's words, certain enough to file).
FALSE_ALARM_CATEGORY: Final = "inspection"
FALSE_ALARM_WHY: Final = "false_alarm"
FALSE_ALARM_CONFIDENCE: Final = 0.7
# A leave asked for in so many words ("xin nghỉ", "nghỉ phép", "xin vắng": one phrase of this
# weight, not "nghỉ" twice in a holiday notice): the model's "other" does not overrule it.
SURE_ABSENCE: Final = 3.0
STRONG_FIRE: Final = 3.5  # fire evidence the learned opinion may not overrule (cháy xưởng...)
RELAYED_FIRE_CONFIDENCE: Final = 0.8  # "Thông báo: cháy kho 2": the fire, relayed
Opinion = Callable[[Sequence[str], str, str | None, bool], tuple[str, str | None]]
# The end of a sentence that another follows: a full stop, "!" or "?" and a space, or a line
# break, before a word (not before a trailing emoji).
_SENTENCE_END: Final = re.compile(r"(?:[.!?]+[^\S\n]+|\n\s*)(?=\w)")


# "… rồi làm sao đây": what to do now, asked after saying what happened. Its own clause, so
# that "cháy xưởng 2 rồi làm sao đây" reports the fire (a question clause reports nothing).
_WHAT_NOW_RE: Final = re.compile(
    r"(?<=\w) (?=(?:lam sao day|lam gi day|gio sao|gio lam sao|phai lam sao|tinh sao"
    r"|lam sao gio)\b)"
)


def _what_now_apart(norm: str, body: str) -> tuple[str, str]:
    """`norm` and `body` with a comma for the space before a "what now" phrase (the same
    length: every offset read from them still holds)."""
    folded = fold(body)
    if "sao" not in folded and "gi day" not in folded:
        return norm, body
    cuts = [m.start() for m in _WHAT_NOW_RE.finditer(folded)]
    for k in cuts:
        norm, body = f"{norm[:k]},{norm[k + 1 :]}", f"{body[:k]},{body[k + 1 :]}"
    return norm, body


def _fire_relayed(tally: _Tally, places: Sequence[Place]) -> bool:
    """A notice whose words are a fire at a place with a code ("kho 2", "xưởng 3"), not a
    drill, not denied, nothing else reported: no campaign or year's figures, the fire."""
    return (
        tally.notice >= 1.0
        and tally.inc.get("fire", 0.0) >= STRONG_FIRE
        and len(tally.inc) == 1
        and not (tally.drill or tally.denied or tally.clear)
        and any(p.code for p in places)
    )


def _only_in(
    signals: Sequence[tuple[_Entry, int, int, int, bool, bool]], clauses: frozenset[int]
) -> bool:
    """Whether every incident signal lies in `clauses`."""
    return all(clause in clauses for e, _n, clause, *_ in signals if e.kind == _INC)


def _asks_leave(signals: Sequence[tuple[_Entry, int, int, int, bool, bool]]) -> bool:
    """Whether a signal, not negated, asks for leave in so many words (SURE_ABSENCE)."""
    return any(
        e.kind == _ABSENT and not negated and e.w >= SURE_ABSENCE for e, negated, *_ in signals
    )


def _analyse_text(
    text: str, opinion: Opinion = second_opinion
) -> tuple[ParsedMessage, _TimeSpec | None]:
    """Read a message's text: the parse without its time, and the time words to resolve.
    `opinion` may revise the rules' type and category when the rules are unsure (the learned
    second opinion)."""
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
    norm, body = _what_now_apart(norm, body)

    ltoks, ftoks, marks = _read(lex, norm, body)
    accented = bool(marks & M_ACCENTED)
    scan = _scan(lex, ltoks, ftoks, accented)
    tally = _tally(lex, scan)
    directed = responding = others = frozenset[int]()
    if tally.checkin or tally.absent or tally.ack:
        # a reminder to others: its check-in words are not the sender's
        directed = _directed_clauses(lex, ltoks, ftoks)
        if tally.checkin:  # "hết ca em báo anh nhé": a promise for the shift's end
            directed |= _promised_clauses(lex, ltoks, ftoks)
        if tally.absent:  # "anh Nam xin nghỉ hôm nay": someone else's, not the sender's
            others = _others_absent_clauses(lex, ltoks, ftoks)
            directed |= others
    if tally.inc or tally.checkin:
        # the fire brigade or the police coming: its words report no new incident
        responding = _responder_clauses(lex, ltoks, ftoks)
    if directed or responding:
        tally = _tally(lex, scan, directed, responding)
    arrived = _arrived_clauses(lex, ltoks, ftoks)
    tally.checkin += lex.arrival_weight * sum(not scan.questions[c] for c in arrived)
    called = _roll_call_clauses(lex, ltoks, ftoks) if not tally.notice else frozenset()
    if called:
        # "ca chiều tổ bảo vệ đủ 4 người": the shift reporting in, unless asked or told to
        if not directed:
            directed = _directed_clauses(lex, ltoks, ftoks)
        counted = sum(not scan.questions[c] and c not in directed for c in called)
        tally.checkin += lex.roll_weight * counted
    tally.ack += emo_ack
    tally.nack += emo_nack
    tally.others_replies()
    if TRAPPED in tally.high:
        if not _someone_trapped(lex, ltoks, ftoks):
            tally.nobody_trapped()
    elif tally.inc and _people_inside(lex, ltoks, ftoks, accented):
        tally.people_inside()
    if LIGHT_INJURY in tally.low and _thing_scraped(lex, ltoks, ftoks):
        tally.thing_scraped()
    if (
        "fire" in tally.inc
        and not tally.high
        and _bulb_burnt(lex, ltoks, ftoks, scan.signals, accented)
    ):
        tally.bulb_burnt()  # "bóng đèn hành lang bị cháy": burnt out, no fire
    if not tally.hazard and not tally.question and _exit_shut(lex, ltoks, ftoks):
        tally.exit_shut(lex.exit_weight)
    if tally.hazard and _says_any(lex.sanction_words, ltoks, ftoks):
        tally.sanctioned()

    has_digit = bool(marks & M_DIGIT)
    spec = _time_spec(lex, norm, body, marks, accented)
    places = _places(lex, norm, body, ltoks, accented, marks)
    people: int | None = None
    if marks & M_NOUN:  # a head count needs a noun ("người", "cn"...)
        number_words = bool(marks & M_NUMBER)
        if has_digit or number_words:
            people = _people(lex, body, accented, has_digit, number_words)
    phones = tuple(_phones(body)) if has_digit else ()
    emergency = "11" in body and _EMERGENCY_RE.search(body) is not None

    timing = spec is not None and spec.ambiguous
    if marks & M_LAUGH and tally.inc:
        # "haha cháy quá 🔥🔥" is slang (great!); a report with laughter still names a place,
        # a time, people or a phone.
        timed = spec is not None and spec.clock is not None
        tally.joke = not (places or people or phones or emergency or timed)
    kind, category, confidence, ambiguous = _decide(lex, tally, scan.ambiguous, timing)
    if others and kind == "incident" and _only_in(scan.signals, others):
        # "đồng chí Hạnh bị ốm phải nhập viện, đề nghị bố trí người trực thay": someone's
        # absence told, the illness its reason; no report of an incident.
        kind, category = "other", None
    joke = tally.joke and kind != "incident"  # the rules' call: the model does not see laughter
    # "nhớ khóa cửa kẻo mất trộm": every incident word names what to avoid, the rules' call too
    # (the model sees the words, not the warning).
    warning = tally.warned and not tally.inc
    if (
        command is None
        and not joke
        and not warning
        and not _rules_settle(lex, kind, tally, ltoks, ftoks)
        and learned.consulted(kind, confidence, tally.inc)
    ):
        strong_fire = tally.inc.get("fire", 0.0) >= STRONG_FIRE or bool(tally.high)
        revised = opinion(ftoks, kind, category, strong_fire)
        if kind == "absent" and revised[0] == "other" and _asks_leave(scan.signals):
            # "em xin phép nghỉ từ thứ 4 đến thứ 6 tuần này để về quê có việc": the model,
            # unsure of a long request, would lose a leave the rules read plainly.
            revised = (kind, category)
        if others and not tally.absent and kind == "other":
            # The absence words are someone else's ("anh Nam xin nghỉ"), and what the model
            # reads in them too (their illness is no report).
            revised = (kind, category)
        if revised != (kind, category):
            kind, category = revised
            ambiguous = ambiguous and kind == "incident"
    if kind == "other" and command is None and _fire_relayed(tally, places):
        # "Thông báo: cháy kho 2": a notice that names a fire at a numbered or named place is
        # the fire, relayed (a notice's fire is usually a campaign or the year's figures, which
        # name no such place).
        kind, category = "incident", "fire"
        confidence = max(confidence, RELAYED_FIRE_CONFIDENCE)
        ambiguous = scan.ambiguous
    if kind != "incident" and command is None and (tally.clear or tally.checkin):
        excepted = None
        if lex.exception_re.search(body):
            excepted = _exception_reading(lex, norm, body, accented, opinion)
        if excepted is None and tally.inc and _reported_after_verdict(scan.signals):
            excepted = _later_clause_reading(lex, norm, body, opinion)
        if excepted is not None and _noted_fault(excepted[0]):
            # "…, không phát hiện bất thường. Ghi chú: đèn cổng phụ bị cháy bóng": a minor
            # fault noted in a report stays in the report (the check-in's note, parse17).
            excepted = None
        if excepted is not None:
            tail, tail_spec = excepted
            return _parsed(
                tail.type, tail.category, tail.severity, tail.reasons, tail.ambiguous,
                tail.confidence, None, None, tail.places or places, tail.people, phones, None,
            ), tail_spec or spec  # fmt: skip
    false_alarm = kind == "all_clear" and command is None and _fire_alarm_false(lex, ltoks, ftoks)
    if false_alarm:
        # "chuông báo cháy kêu, kiểm tra không có cháy", no cause found: the detectors may need
        # seeing to, so it is recorded, as a check of fire safety
        kind, category, ambiguous = "incident", FALSE_ALARM_CATEGORY, False
        confidence = max(confidence, FALSE_ALARM_CONFIDENCE)
    severity: str | None = None
    reasons: tuple[str, ...] = ()
    if (
        kind == "incident"
        and category is not None
        and ("\n" in body or ". " in body or "! " in body or "? " in body)  # several sentences
        and _SENTENCE_END.search(body)
    ):
        # A long report: the time and places of the incident are those of its sentence.
        span = _incident_sentence(lex, norm, body, category)
        if span is not None:
            a, b = span
            s_norm, s_body = norm[a:b], body[a:b]
            s_toks, _, s_marks = _read(lex, s_norm, s_body)
            spec = _time_spec(lex, s_norm, s_body, s_marks, accented) or spec
            near = _places(lex, s_norm, s_body, s_toks, accented, s_marks)
            if near:
                keys = {(p.kind, p.code) for p in near}
                places = near + tuple(p for p in places if (p.kind, p.code) not in keys)
    if false_alarm:
        severity, reasons = "low", (FALSE_ALARM_WHY,)
    elif kind == "incident" and category is not None:
        night = False
        if tally.intrusion:  # only an intrusion is graver at night
            clock = spec.clock if spec is not None else None
            night = lex.night.has_any(ltoks, accented) or (
                clock is not None and (clock[0] >= 22 or clock[0] < 5)
            )
        severity, reasons = _severity(lex, tally, category, emergency, people, night)
    if spec is not None:
        spec = _time_as_read(lex, spec, kind, category, ltoks, ftoks)
    if command is not None:
        if kind != "incident" or (
            command.name not in _REPORT_COMMANDS and command.name in _COMMANDS
        ):
            category = severity = None
            reasons = ()
        kind = "command"
        confidence = 0.99 if command.name in _COMMANDS else 0.6
    if people is None and has_digit and kind != "incident":
        # "Quân số: 4/4": the shift's strength; an incident's people are those it befalls
        # (a guard's head count is no crowd)
        people = _head_count(body)
    parsed = _parsed(
        kind,
        category,
        severity,
        reasons,
        ambiguous,
        confidence,
        None,
        None,
        places,
        people,
        phones,
        command,
    )
    return parsed, spec


def _time_as_read(
    lex: _Lexicon,
    spec: _TimeSpec,
    kind: str,
    category: str | None,
    ltoks: list[str],
    ftoks: list[str],
) -> _TimeSpec:
    """The time words as the reading of the message makes them: a weekday in a notice that
    reports what happened is the last one ("Thông báo: thứ 4 có trộm vào kho 2"; a drill or
    an inspection announced keeps the coming one); an hour of arrival with nothing said done
    is today's, even later ("7h tối em có mặt" at 08:14: no presence now, no last evening;
    lexicon `time.arrive`)."""
    if spec.week == NOTICED and kind == "incident" and category != FALSE_ALARM_CATEGORY:
        return replace(spec, week="")
    if (
        kind == "check_in"
        and spec.clock is not None
        and spec.day_offset is None
        and spec.weekday is None
        and spec.month_day is None
        and _says_any(lex.arrive_words, ltoks, ftoks)
        and not _says_any(lex.arrived_words, ltoks, ftoks)
    ):
        return replace(spec, ahead=True)
    return spec


# What may stand right before an exception word that opens a clause ("…. Riêng camera 5").
_CLAUSE_MARKS: Final = ",.;:!?-\n"


def _exception_reading(
    lex: _Lexicon, norm: str, body: str, accented: bool, opinion: Opinion
) -> tuple[ParsedMessage, _TimeSpec | None] | None:
    """The reading of an exception that names an incident after an all-clear or a roll call
    ("…, không phát hiện gì bất thường. Riêng camera số 5 mất tín hiệu"): the report is the
    exception's, from its word on. None when the message has none."""
    for m in lex.exception_re.finditer(body):
        word = " ".join(m.group().split())
        if not lex.exception_words.has(word, accented):
            continue  # typed bare in a message with marks: "nhung" may be "những"
        head_text = body[: m.start()].rstrip()
        if not head_text:
            continue  # nothing before it to except from (and the tail would be the message)
        if lex.exception_opening.has(word, accented) and head_text[-1:] not in _CLAUSE_MARKS:
            continue  # "xe riêng" is no exception
        tail, tail_spec = _analyse_text(norm[m.start() :], opinion)
        if tail.type != "incident":
            continue
        head, _ = _analyse_text(norm[: m.start()], opinion)
        if head.type not in ("all_clear", "check_in"):
            continue
        if lex.exception_explains.has(word, accented) and tail.category in _denied(
            lex, norm[: m.start()], body[: m.start()]
        ):
            continue  # "không phải cháy, chỉ có khói thôi": the smoke explains the denial
        return tail, tail_spec
    return None


def _noted_fault(tail: ParsedMessage) -> bool:
    """Whether the incident after a report's all-clear or roll call is a minor fault of
    equipment (a bulb burnt out): a note of the report, not a report of its own."""
    return tail.category == "equipment" and tail.severity == "low"


def _reported_after_verdict(signals: Sequence[tuple[_Entry, int, int, int, bool, bool]]) -> bool:
    """Whether an incident word is said plainly in a clause after the last all-clear, denial
    or check-in ("…, không phát hiện gì bất thường, camera số 5 hỏng"): a cheap test before
    reading the clauses apart."""
    verdict = max(
        (
            clause
            for e, negated, clause, *_ in signals
            if (e.kind in (_CLEAR, _CHECKIN) and not negated) or (e.kind == _INC and negated)
        ),
        default=-1,
    )
    return any(
        e.kind == _INC and not negated and mode == _PLAIN and clause > verdict
        for e, negated, clause, mode, *_ in signals
    )


# Where a clause ends: a run of clause punctuation.
_CLAUSE_END: Final = re.compile(r"[,.;:!?\n]+")


def _later_clause_reading(
    lex: _Lexicon, norm: str, body: str, opinion: Opinion
) -> tuple[ParsedMessage, _TimeSpec | None] | None:
    """An incident in the clauses after an all-clear or a roll call, with no exception word
    ("Ca 3 tuần tra khu A, không phát hiện gì bất thường, camera số 5 hỏng từ 2h sáng"): the
    report is theirs, as after "riêng". Not when it is what the all-clear denied or explains
    a false alarm ("báo nhầm, có khói do đốt rác"), nor the patrol itself ("…, đã kiểm tra
    kỹ"), nor the list a denial goes on with ("không để xảy ra cháy nổ, trộm cắp").
    None when there is none."""
    for m in _CLAUSE_END.finditer(body):
        if not body[: m.start()].strip() or not body[m.end() :].strip():
            continue
        tail, tail_spec = _analyse_text(norm[m.end() :], opinion)
        if tail.type != "incident" or (tail.category == "inspection" and not tail.reasons):
            continue
        if _opens_with_incident(lex, norm[m.end() :], body[m.end() :]):
            continue
        head, _ = _analyse_text(norm[: m.start()], opinion)
        if head.type not in ("all_clear", "check_in"):
            continue
        denied = _denied(lex, norm[: m.start()], body[: m.start()], with_false_alarm=True)
        if tail.category in denied or FALSE_ALARM in denied:
            continue
        return tail, tail_spec
    return None


def _opens_with_incident(lex: _Lexicon, norm: str, body: str) -> bool:
    """Whether the text opens with an incident phrase ("trộm cắp dịp cuối năm"): after
    a denial, the next item of what it denies, not a report of its own."""
    ltoks, ftoks, accented = _tokens(lex, norm, body)
    signals = _scan(lex, ltoks, ftoks, accented).signals
    if not signals or not ftoks:
        return False
    first = signals[0][0]
    # "camera" alone (a weak word) is the subject of a fault to come: "camera số 5 hỏng"
    return first.kind == _INC and first.w >= 1.0 and fold(first.toks[0]) == ftoks[0]


FALSE_ALARM: Final = "*"  # in _denied's answer: the text says an alarm was false (báo nhầm)


def _denied(lex: _Lexicon, norm: str, body: str, with_false_alarm: bool = False) -> frozenset[str]:
    """The categories of the incident words the text says are not there ("không phải cháy"),
    and FALSE_ALARM when `with_false_alarm` and the text says an alarm was false."""
    ltoks, ftoks, accented = _tokens(lex, norm, body)
    signals = _scan(lex, ltoks, ftoks, accented).signals
    denied = {e.cat or "other" for e, negated, *_ in signals if e.kind == _INC and negated}
    if with_false_alarm and any(e.kind == _CLEAR and e.deny and not neg for e, neg, *_ in signals):
        denied.add(FALSE_ALARM)
    return frozenset(denied)


def _incident_sentence(
    lex: _Lexicon, norm: str, body: str, category: str
) -> tuple[int, int] | None:
    """The span of the sentence that weighs most for `category`, when there are several."""
    best: tuple[float, int, int] | None = None
    start = 0
    ends = [m.end() for m in _SENTENCE_END.finditer(body)]
    for end in [*ends, len(body)]:
        if end > start:
            ltoks, ftoks, accented = _tokens(lex, norm[start:end], body[start:end])
            tally = _tally(lex, _scan(lex, ltoks, ftoks, accented))
            weight = tally.inc.get(category, 0.0)
            if weight and (best is None or weight > best[0]):
                best = (weight, start, end)
        start = end
    if best is None or (best[1], best[2]) == (0, len(body)):
        return None
    return best[1], best[2]


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
        p.type, p.category, p.severity, p.reasons, p.ambiguous, p.confidence, when, spec.text,
        p.places, p.people, p.phones, p.command,
    )  # fmt: skip


def parse(text: str, sent_at: datetime, tz: ZoneInfo | None = None) -> ParsedMessage:
    """Read one chat message; relative times are resolved in `tz` (default Asia/Ho_Chi_Minh)."""
    return _with_time(_analyse(text), sent_at, tz)


# Lines of the common kinds (a command, an incident with its time and place, an answer).
_WARM_UP_LINES: Final = ("/huongdan", "Báo cáo: cháy kho số 3 lúc 14 giờ 30", "đã nhận ạ")


def warm_up() -> None:
    """Load the lexicon and the learned model now: the first message would otherwise pay
    for it on the event loop (~50 ms, every delivery waiting behind it)."""
    learned.preload()
    for line in _WARM_UP_LINES:
        _analyse_text(line)


def _parse_uncached(text: str, sent_at: datetime, tz: ZoneInfo | None = None) -> ParsedMessage:
    """`parse()` without the cache of readings: what a text never seen before costs."""
    return _with_time(_analyse_text(text), sent_at, tz)
