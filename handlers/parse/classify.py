"""The decision: evidence tallied per type and category, then type, category, confidence,
severity and the reasons for it."""

from __future__ import annotations

from handlers.parse.scanning import _REPLIES, NOT_YET, _says_any, _Scan
from handlers.parse.vocabulary import (
    _ABSENT,
    _ACK,
    _CAUSED,
    _CHECKIN,
    _CLEAR,
    _EXPLAINED,
    _FOUND,
    _INC,
    _NACK,
    _NOTICE,
    _PREVENTED,
    _SEV,
    CAME_TO,
    FAINTED,
    HURT,
    LIGHT_INJURY,
    REQUEST,
    SHIFT_END,
    TRAPPED,
    _Entry,
    _Lexicon,
)

URGENT = "urgent"  # the reason of "khẩn", "gấp", "cứu với"
HAZARD = "hazard"  # the mark of a fire-safety hazard ("chắn lối thoát hiểm"): no reason
SCRATCH = "scratch"  # the reason of a thing scraped ("xe bị trầy xước"): low
STUCK = "equipment"  # what a thing stuck is ("thẻ bị kẹt trong máy")
# Evidence from words typed without doubt that makes a category on its own (one clear word).
SURE = 2.5
# A notice this plain (a hotline list, a timetable) is never a report, whatever it names.
STRONG_NOTICE = 3.0


class _Tally:
    """The evidence of one message. Scalars default at class level: a message sets few of
    them, and a dataclass's generated __init__ cost as much as the whole tally."""

    clear = ack = nack = checkin = absent = notice = 0.0
    found = 0.0  # words of a report that found something ("phát hiện", "tạm giữ")
    request = False  # a request to verify or to work together ("cần hỗ trợ xác minh")
    exact = question = intrusion = drill = denied = False
    hazard = False  # a fire-safety hazard said (lexicon `why: hazard`): the rules' call
    hazard_w = 0.0  # the weight for `other` of the hazard's words
    joke = False  # laughter and no detail of a report (no place, time, people, phone)
    warned = False  # incident words that name what to avoid ("kẻo mất trộm")
    responders = False  # words that name responders coming ("xe cứu hỏa tới rồi"), not counted
    trapped = 0.0  # weight for `other` of words that say someone is trapped (vocabulary.TRAPPED)
    firm_high = False  # something high that is more than a sign to check (a loud bang)
    hints_only = True  # every incident signal is a sign to check (smell, smoke, noise)
    negated_guess = False  # every ambiguous reading was negated (_Scan.negated_guess)
    last_incident = -1  # index of the last incident signal
    verdict = -1  # index of the last "checked, all fine" signal

    def __init__(self) -> None:
        self.inc: dict[str, float] = {}
        self.sure: dict[str, float] = {}  # without readings that rest on an ambiguous word
        self.high: list[str] = []  # reasons that raise the severity
        self.low: list[str] = []  # reasons that lower it

    def nobody_trapped(self) -> None:
        """No person is named trapped ("thẻ bị kẹt trong máy"): the words report a thing stuck,
        a fault of equipment, not people in danger."""
        self.high.remove(TRAPPED)
        for weights in (self.inc, self.sure):
            moved = min(self.trapped, weights.get("other", 0.0))
            if moved:
                weights["other"] -= moved
                if not weights["other"]:
                    del weights["other"]
                weights[STUCK] = weights.get(STUCK, 0.0) + moved

    def thing_scraped(self) -> None:
        """The scrapes said befall a thing ("xe bị trầy xước"): minor damage, nobody hurt."""
        self.low.remove(LIGHT_INJURY)
        _add(self.low, SCRATCH)

    def bulb_burnt(self) -> None:
        """The fire words say a lamp burnt out ("bóng đèn hành lang bị cháy"): broken
        equipment, a minor matter, not a fire."""
        for weights in (self.inc, self.sure):
            moved = weights.pop("fire", 0.0)
            if moved:
                weights["equipment"] = weights.get("equipment", 0.0) + moved
        _add(self.low, "minor")

    def others_replies(self) -> None:
        """A report that found something tells of other people: its check-in, absence and
        acknowledgement words are theirs ("không giải thích được lý do có mặt", "công nhân
        vào ca đêm", "tài xế đã nhận lỗi"), not the sender's, once it names what was found."""
        if self.found and any(
            score >= 1.0 for cat, score in self.inc.items() if cat != "inspection"
        ):
            self.checkin = self.ack = self.absent = 0.0

    def exit_shut(self, weight: float) -> None:
        """An escape route said locked or blocked, its place between ("lối thoát hiểm xưởng 2
        bị khóa"): a hazard, as the phrase said in one piece is."""
        self.hazard = True
        self.hazard_w += weight
        self.hints_only = False
        for weights in (self.inc, self.sure):
            weights["other"] = weights.get("other", 0.0) + weight

    def sanctioned(self) -> None:
        """The hazard was recorded or sanctioned ("lập biên bản vụ để xe chắn lối thoát hiểm",
        "đình chỉ … do vi phạm …"): the inspection's finding, no hazard left to report."""
        self.hazard = False
        for weights in (self.inc, self.sure):
            moved = min(self.hazard_w, weights.get("other", 0.0))
            if moved:
                weights["other"] -= moved
                if not weights["other"]:
                    del weights["other"]
                weights["inspection"] = weights.get("inspection", 0.0) + moved

    def people_inside(self) -> None:
        """People are inside what is stuck ("thang máy bị kẹt, có 2 người bên trong"): they
        are trapped, as if named before the words."""
        self.high.append(TRAPPED)
        self.firm_high = True


def _add(reasons: list[str], why: str) -> None:
    if why and why not in reasons:
        reasons.append(why)


def _tally(
    lex: _Lexicon,
    scan: _Scan,
    directed: frozenset[int] = frozenset(),
    responding: frozenset[int] = frozenset(),
) -> _Tally:
    """Add up the evidence outside questions, with negation, denial and causes applied.
    `directed`: clauses that tell others what to do; their replies are not the sender's.
    `responding`: clauses saying responders come; their incident and reply words name them."""
    t = _Tally()
    t.negated_guess = scan.negated_guess
    denied = False
    causes: list[_Entry] = []
    qs, asked_from = scan.questions, scan.asked_from
    t.question = any(qs)
    for index, (entry, negated, clause, mode, exact, amb) in enumerate(scan.signals):
        if qs[clause] and index >= asked_from[clause]:
            continue  # asked, not reported
        kind, w = entry.kind, entry.w
        if mode == _PREVENTED:
            t.warned = t.warned or kind == _INC
            continue
        if directed and clause in directed and kind in _REPLIES:
            continue  # "nhớ có mặt đúng giờ nhé": a reminder, not the sender's check-in
        if responding and clause in responding and (kind == _INC or kind in _REPLIES):
            t.responders = True  # "xe cứu hỏa tới nơi rồi": no new fire, no check-in
            continue
        if kind == _INC:
            if negated:
                t.clear += w
                # A sign not seen ("không thấy khói", "chưa có lửa") or anything not seen yet
                # ("chưa thấy cháy") clears only itself: the smoke reported stays a fire.
                if negated != NOT_YET and not (entry.hint or entry.sign):
                    denied = True
                    if entry.cat != "other" and entry.why not in HURT and entry.why != "death":
                        t.denied = True
                if entry.sev == "high":
                    _add(t.low, "no_injury" if entry.why in HURT else "minor")
            elif mode == _EXPLAINED and denied:
                continue  # "không phải cháy, chỉ là khói": the smoke is the explanation
            elif mode == _CAUSED:
                causes.append(entry)
            else:
                cat = entry.cat or "other"
                t.inc[cat] = t.inc.get(cat, 0.0) + w
                if not amb:
                    t.sure[cat] = t.sure.get(cat, 0.0) + w
                t.exact = t.exact or exact
                if cat != "inspection":
                    t.hints_only = t.hints_only and entry.hint
                    t.last_incident = index
                if entry.sev == "high":
                    _add(t.high, entry.why)
                    t.firm_high = t.firm_high or not entry.hint
                    if entry.why == TRAPPED and cat == "other":
                        t.trapped += w
                elif entry.sev == "low":
                    _add(t.low, entry.why)
                elif entry.why == "intrusion":
                    t.intrusion = True
                elif entry.why == "drill":
                    t.drill = True
                elif entry.why == HAZARD and cat == "other":
                    t.hazard = True
                    t.hazard_w += w
        elif kind == _CLEAR:
            if negated:
                if entry.neg_cat:  # "không bình thường" reports something wrong
                    t.inc[entry.neg_cat] = t.inc.get(entry.neg_cat, 0.0) + w
                    t.sure[entry.neg_cat] = t.sure.get(entry.neg_cat, 0.0) + w
                    t.hints_only = False
                    t.last_incident = index
            else:
                t.clear += w
                denied = denied or entry.deny
                t.denied = t.denied or entry.deny
                if entry.sev == "low":
                    _add(t.low, entry.why)
                elif w >= 1.5 or entry.deny:
                    t.verdict = index
        elif kind == _SEV:
            if negated:
                if entry.sev == "high":
                    _add(t.low, "no_injury" if entry.why in HURT else "minor")
            elif entry.sev == "high":
                _add(t.high, entry.why)
                t.firm_high = True
            elif entry.sev == "low":
                _add(t.low, entry.why)
            if w and not negated:
                t.inc["other"] = t.inc.get("other", 0.0) + w
                t.sure["other"] = t.sure.get("other", 0.0) + w
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
                # "em chưa hết ca": still on shift, which is no absence.
                t.absent += 0.0 if entry.why == SHIFT_END else w
            else:
                t.checkin += w
        elif kind == _ABSENT:
            if negated:
                t.checkin += w / 2
            else:
                t.absent += w
        elif kind == _FOUND:
            if not negated:
                t.found += w
        elif kind == _NOTICE and not negated:
            t.request = t.request or entry.why == REQUEST
            if clause == 0:
                t.notice += w
    if t.hints_only and t.last_incident >= 0 and scan.causes:
        _explain_signs(t, scan)
    t.others_replies()  # before the causes: a report's replies are no reply to explain
    # A cause ("vì kẹt xe", "do chập điện") is part of the report unless it only explains an
    # absence, a check-in, an acknowledgement or a false alarm.
    if causes and not (denied or t.absent or t.checkin or t.ack or t.nack):
        for entry in causes:
            cat = entry.cat or "other"
            t.inc[cat] = t.inc.get(cat, 0.0) + entry.w
            t.sure[cat] = t.sure.get(cat, 0.0) + entry.w
            t.hints_only = False
            if entry.sev == "high":
                _add(t.high, entry.why)
                t.firm_high = True
    return t


def _explain_signs(t: _Tally, scan: _Scan) -> None:
    """A cause that names nothing alarming after signs to check ("khói là do đốt rác") explains
    them away, as "không sao" would: it is the verdict."""
    signals, qs = scan.signals, scan.questions
    for at, clause in scan.causes:
        if at <= t.last_incident or qs[clause]:
            continue
        alarming = any(
            entry.kind == _INC and where == clause for entry, _, where, _, _, _ in signals[at:]
        )
        if not alarming:
            t.verdict = max(t.verdict, at)


# Confidence before rounding -> rounded: a few dozen sums recur, and round(x, 2) costs
# more than a lookup.
_ROUNDED: dict[float, float] = {}
ROUNDED_MAX = 10_000  # bounded, though the sums come from a small set of weights


def _clamp(x: float) -> float:
    # Comparisons rather than min(max()): two builtin calls cost more than the rest of it.
    got = _ROUNDED.get(x)
    if got is None:
        got = round(0.99 if x > 0.99 else 0.05 if x < 0.05 else x, 2)
        if len(_ROUNDED) < ROUNDED_MAX:
            _ROUNDED[x] = got
    return got


FIRM_ACK = 3.0  # "đã nhận", "đã rõ", "nhận lệnh": words that answer a notice by themselves


def _decide(
    lex: _Lexicon, t: _Tally, ambiguous: bool, timing: bool
) -> tuple[str, str | None, float, bool]:
    """Type, category, confidence, and whether the reading rests on an ambiguous word
    (`ambiguous`: one was read; `timing`: the time words were a guess, "toi qua")."""
    ambiguous = ambiguous or timing
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
        if t.drill and best >= 1.0:
            best_cat = "inspection"  # a drill's fire or casualties are part of the exercise
        # An inspection that found things normal, or that someone cannot attend, is no report.
        routine = best_cat == "inspection" and (t.clear or t.absent or t.checkin)
        # A smell, smoke or a noise (even a loud bang) that was checked and found fine is an
        # all-clear.
        checked = t.hints_only and t.verdict > t.last_incident and not t.firm_high
        # A timetable or a meeting notice names things without reporting them; a request's
        # "khẩn" is its priority ("Thông báo khẩn: … cần hỗ trợ xác minh …").
        notice = t.notice >= 1.0 and best_cat in lex.notice_yields and not _grave(t)
        notice = notice or t.notice >= STRONG_NOTICE  # a list of hotlines names every danger
        # "báo nhầm", "không phải cháy": the alarm was false.
        false_alarm = t.denied and not t.high
        # The member's own absence, or a file they cannot open, told with everyday words.
        personal = not t.high and (
            (t.absent >= 2.5 and best_cat in lex.absence_yields)
            or (t.nack >= 2.0 and best_cat in lex.not_ack_yields)
        )
        # One weak word ("khói" in a name, "Khoi có mặt") gives way to a plain reply.
        weak = best < 2.0 and max(t.checkin, t.ack, t.absent, t.nack) > best
        # "haha cháy quá 🔥🔥", "thằng Dung nổ quá trời 😂": slang among friends, unless it
        # says danger beyond the word joked about (someone hurt, a call for help).
        joke = t.joke and lex.joke_high.issuperset(t.high)
        if best >= 1.0 and not (
            routine or checked or notice or false_alarm or personal or weak or joke
        ):
            # The reading rests on a guess only when the sure evidence alone would not make it,
            # and a guess at a word said not to be there is no part of it.
            guessed = ambiguous and not t.negated_guess
            unsure = timing or (guessed and t.sure.get(best_cat, 0.0) < SURE)
            conf = 0.5 + 0.1 * min(best, 4.0) + (0.05 if t.exact else 0.0)
            if second >= 0.8 * best:
                conf -= 0.1  # two categories nearly tie
            return "incident", best_cat, _clamp(conf - (0.25 if unsure else 0.0)), unsure
    penalty = 0.25 if ambiguous else 0.0
    if t.absent:
        kind, score = "absent", t.absent
    elif t.checkin and t.ack < FIRM_ACK:
        # A firm acknowledgement ("đã nhận thông báo, 7h em có mặt", "đã có mặt, đã nhận
        # thông báo") answers the notice, and the notice is what the bot chases; with it "có
        # mặt" is a promise or a by-the-way. ("ca 2 đã tiếp nhận vị trí, quân số đủ" is a
        # shift reporting in: a weaker word.)
        kind, score = "check_in", t.checkin
    elif t.clear:
        kind, score = "all_clear", t.clear
    elif t.nack:
        kind, score = "not_ack", t.nack
    elif t.ack:
        kind, score = "ack", t.ack
    elif t.question:
        return "question", None, 0.7, ambiguous
    else:
        return "other", None, 0.4 if best else 0.5, ambiguous
    return kind, None, _clamp(0.5 + 0.1 * min(score, 4.0) - penalty), ambiguous


def _grave(t: _Tally) -> list[str]:
    """The reasons that make the incident high, but for the urgency of a notice that asks for
    help with a check ("Thông báo khẩn / … cần hỗ trợ xác minh …"): how soon to answer, not
    danger."""
    asks = t.request and t.notice >= 1.0
    return [why for why in t.high if not (asks and why == URGENT)]


def _severity(
    lex: _Lexicon, t: _Tally, category: str, emergency: bool, people: int | None, night: bool
) -> tuple[str, tuple[str, ...]]:
    """An incident's severity and the short words saying why (none for the default)."""
    high = _grave(t)
    if emergency:
        _add(high, "emergency_call")
    if people is not None and people >= lex.crowd_high_by_category.get(category, lex.crowd_high):
        _add(high, "many_people")
    if night and t.intrusion:
        _add(high, "night")
    # Some reasons say nothing about danger in some categories (lexicon `not_high`).
    high = [why for why in high if category not in lex.not_high.get(why, ())]
    if CAME_TO in t.low and FAINTED in high:
        # "ngất xỉu ở xưởng may, đã tỉnh lại": come to, the fainting is no longer grave; only
        # the fainting ("ngất xỉu, chảy máu đầu, đã tỉnh" stays high for the bleeding)
        high.remove(FAINTED)
    low = [why for why in t.low if why not in (LIGHT_INJURY, CAME_TO)]
    if high == ["injury"] and ("minor" in low or LIGHT_INJURY in t.low):
        high = []  # "bị bỏng nhẹ", "băng bó rồi": a light injury is not a grave one...
        low = [why for why in low if why != "minor"]
    if high == ["toxic"] and "contained" in low:
        high = []  # "mùi gas nồng nặc ..., em đã khóa van": the leak is shut off
    if t.drill:
        return "low", ("drill",)
    if high:
        return "high", tuple(high)
    if low:  # ...nor a minor matter: someone was hurt
        return "low", tuple(low)
    return lex.default_sev.get(category, "medium"), ()


def _rules_settle(
    lex: _Lexicon, kind: str, tally: _Tally, ltoks: list[str], ftoks: list[str]
) -> bool:
    """Whether the rules' reading stands without the learned opinion (lexicon `settled`): a
    notice of an inspection or drill to come, a drill said over with all well; responders
    coming with nothing else reported (the model sees "cứu hỏa", not that it arrives); a
    fire-safety hazard reported."""
    if tally.responders and not tally.inc:
        return True
    if kind == "other" and not tally.inc and _says_any(lex.watch_orders, ltoks, ftoks):
        return True  # "anh Tài theo dõi sát, báo liên tục nhé": an order, no suspect reported
    if kind == "other" and not tally.inc and _says_any(lex.follows_group, ltoks, ftoks):
        return True  # "em vẫn theo dõi nhóm ạ": a member following the group, no suspect
    if kind == "other" and tally.notice >= 1.0 and "inspection" in tally.inc:
        return not _says_any(lex.settled_done, ltoks, ftoks)
    if kind == "all_clear" and tally.drill:
        return _says_any(lex.settled_over, ltoks, ftoks)
    # A fire-safety hazard ("xe nâng đậu chắn trụ nước chữa cháy"): the model sees the vehicle
    # and the gear, not that one blocks the other.
    return kind == "incident" and tally.hazard and _best(tally) == "other"


def _best(tally: _Tally) -> str:
    """The category with the most evidence."""
    return max(tally.inc, key=tally.inc.__getitem__)
