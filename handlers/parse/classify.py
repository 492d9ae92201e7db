"""The decision: evidence tallied per type and category, then type, category, confidence."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.parse.scanning import _Scan
from handlers.parse.vocabulary import (
    _ABSENT,
    _ACK,
    _CAUSED,
    _CHECKIN,
    _CLEAR,
    _EXPLAINED,
    _INC,
    _NACK,
    _SEV,
    _Entry,
    _Lexicon,
)


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
