"""Check-ins: attendance ("có mặt", /diemdanh), shift start ("đã vào ca"), shift end ("hết ca")
and patrol all-clears."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update

from handlers.chat import chat_reply
from handlers.config import shift_times
from handlers.context import Context
from handlers.deadlines import AWAY_RE, LATE_RE, Span, absence_day, leave_span, week_named
from handlers.intents.basic import plain_message
from handlers.registry import hook, intent
from handlers.text import fold, lower, normalize_text
from handlers.texts import engagement as texts
from handlers.texts import honour as honour_texts
from models import fastlane
from models.honour import shift_at
from models.people import address, title_of
from models.prefetch import cast_table, checked_in_since, checkin_time_since, note_checkin
from models.scoping import record_council
from models.tables import CheckIn, Message

_INSERT_CHECKIN = insert(cast_table(CheckIn))
SHIFT_WORDS = ("vao ca", "nhan ca", "len ca", "bat dau ca", "truc ca")
# Folded: a shift named, then its head count ("ca chiều tổ bảo vệ đủ 4 người", "ca 3 thiếu
# quân số"): the shift's roll call, a shift start like "đã vào ca".
ROLL_CALL_RE = re.compile(
    r"\bca (?:\d+|sang|chieu|toi|dem|ngay|truc|[a-d])\b.*\b(?:quan so|du|thieu)\b"
)
# Folded: a head count ("4 người", "5 anh em"): with a check-in's reading, how many are on
# duty, as a directive asks ("báo cáo số người trực mỗi ca").
HEAD_COUNT_RE = re.compile(r"\b\d+ (?:nguoi|anh em|ae|dong chi|bao ve)\b")
# Folded: the end of a shift ("hết ca rồi", "bàn giao ca xong", "em về đây"), as
# the lexicon's check-in phrases with `why: shift_end` say it: the member signs off.
SHIFT_END_RE = re.compile(
    r"\b(?:het ca|xong ca|ket thuc ca|het gio truc|giao ca xong|(?:da )?ban giao ca"
    r"|ban giao cho ca sau|(?:em|e|toi) ve (?:truoc )?day)\b"
)
# Folded: "đến muộn", "đi trễ 30 phút", "vào ca muộn": coming late, which is no absence.
# Folded: a patrol, a round or a shift named ("tuần tra kho B", "đi 1 vòng", "ca đêm"): the
# all-clear is answered as a patrol report; without them it is a plain all-clear.
PATROL_RE = re.compile(
    r"\b(?:tuan tra|di tuan|kiem tra|ra soat|truc|canh gac|chot|(?:di|mot|1) vong"
    r"|ca (?:\d+|sang|chieu|toi|dem|ngay|truc|[a-d]))\b"
)

# Folded: a shift's report named ("BÁO CÁO CA TRỰC 11/12", "bc ca 1: qs 5, …", "Báo cáo ca
# đêm", "báo cáo kết quả ca 3", "báo cáo trực ca 3"): pasted at the shift's end, it is the
# shift's report, recorded as its patrol.
SHIFT_REPORT_RE = re.compile(
    r"\b(?:bao cao|bc) (?:ket qua |truc )?ca (?:\d+|sang|chieu|toi|dem|ngay|truc|[a-d])\b"
)
# A note the report labels ("Ghi chú: đèn cổng phụ bị cháy bóng, đã báo bảo trì."): said back
# in the receipt, so the sender sees it kept with the report (docs/parser.md, parse17).
NOTE_RE = re.compile(r"\b(?:ghi chú|ghi chu|lưu ý|luu y)\s*:\s*(?P<note>[^\n]+)", re.IGNORECASE)
NOTE_LONGEST = 160


def checkin_kind(ctx: Context) -> str:
    """patrol for all-clear reports and a shift's report, shift_end for a shift's end, shift
    for shift words, attendance otherwise."""
    if ctx.parsed is not None and ctx.parsed.type == "all_clear":
        return "patrol"
    if names_shift_report(ctx.text):
        # "BÁO CÁO CA TRỰC … Ca: 3 … Quân số: 4/4" at 06:05 reads as the shift's roll call, but
        # it is the report of the shift ending, not a shift started
        return "patrol"
    if names_shift_end(ctx.text):
        return "shift_end"
    return "shift" if names_shift(ctx.text) else "attendance"


@lru_cache(maxsize=1024)
def names_shift_end(text: str) -> bool:
    """Whether the text says the member's shift is over (SHIFT_END_RE); "ca" typed with a
    mark is another word ("em có mặt, làm xong cả rồi": all done)."""
    low = lower(normalize_text(text))
    folded = fold(low)  # normalised text folds to the same length: spans line up
    for m in SHIFT_END_RE.finditer(folded):
        if all(w == "ca" for w in low[m.start() : m.end()].split() if fold(w) == "ca"):
            return True
    return False


@lru_cache(maxsize=1024)
def names_shift_report(text: str) -> bool:
    """Whether the text is a shift's report (SHIFT_REPORT_RE); "ca" typed with a mark is
    another word ("báo cáo cả ngày")."""
    low = lower(normalize_text(text))
    folded = fold(low)  # normalised text folds to the same length: spans line up
    for m in SHIFT_REPORT_RE.finditer(folded):
        if any(w == "ca" for w in low[m.start() : m.end()].split() if fold(w) == "ca"):
            return True
    return False


def report_note(text: str) -> str:
    """The note a report labels ("Ghi chú: …"), without its closing stop; "" when none."""
    m = NOTE_RE.search(normalize_text(text))
    if m is None:
        return ""
    note = m.group("note").strip().rstrip(".!;, ")
    return note if len(note) <= NOTE_LONGEST else note[: NOTE_LONGEST - 1].rstrip() + "…"


@lru_cache(maxsize=1024)
def names_shift(text: str) -> bool:
    """Whether the text has shift words or a shift's roll call; kept per text ("đã vào ca"
    recurs every shift)."""
    folded = fold(text).lower()
    return (
        any(w in folded for w in SHIFT_WORDS)
        or ROLL_CALL_RE.search(folded) is not None
        or HEAD_COUNT_RE.search(folded) is not None
    )


def names_head_count(text: str) -> bool:
    """Whether the text counts people ("ca đêm nay có 4 người trực")."""
    return HEAD_COUNT_RE.search(fold(text).lower()) is not None


@lru_cache(maxsize=1024)
def names_patrol(text: str) -> bool:
    """Whether the text speaks of a patrol, a round or a shift (PATROL_RE)."""
    folded = fold(text).lower()
    return PATROL_RE.search(folded) is not None or any(w in folded for w in SHIFT_WORDS)


# Without configured `shifts` for the member's enterprise, shifts start at these local hours
# (06-14, 14-22, 22-06): one attendance, one shift start and one shift end per member per shift
# are recorded; a repeat is answered with the first one's time (docs/acks-and-budget.md).
SHIFT_STARTS = (6, 14, 22)
ONCE_PER_SHIFT = ("attendance", "shift", "shift_end")


def shift_start(at: datetime, tz: ZoneInfo) -> datetime:
    """Start of the shift `at` falls in (UTC)."""
    local = at.astimezone(tz)
    starts = [h for h in SHIFT_STARTS if h <= local.hour]
    if starts:
        begin = local.replace(hour=starts[-1], minute=0, second=0, microsecond=0)
    else:  # before 06:00: the night shift began at 22:00 the day before
        begin = (local - timedelta(days=1)).replace(
            hour=SHIFT_STARTS[-1], minute=0, second=0, microsecond=0
        )
    return begin.astimezone(UTC)


def current_shift_start(ctx: Context) -> datetime:
    """Start of the member's shift now: their enterprise's configured shift on duty, else the
    fixed hours (an enterprise working 07-19 must not have two "shifts" split at 14:00)."""
    at = ctx.event.sent_at
    enterprise = ctx.member.enterprise
    if enterprise and enterprise in ctx.settings.shifts:
        span = shift_at(shift_times(ctx.settings), ctx.tz, enterprise, at)
        if span is not None:
            return span.start.astimezone(UTC)
    return shift_start(at, ctx.tz)


async def already_checked_in(ctx: Context, kind: str) -> bool:
    since = current_shift_start(ctx)
    known = await checked_in_since(ctx.session, ctx.member.id, kind, since, ctx.now)
    if known is not None:
        return known
    stmt = (
        select(func.count())
        .select_from(CheckIn)
        .where(CheckIn.member_pk == ctx.member.id, CheckIn.kind == kind, CheckIn.at >= since)
    )
    return bool((await ctx.session.execute(stmt)).scalar_one())


# Folded: a schedule, not a shift starting now ("tuần này em trực ca đêm cả tuần", "từ mai em
# vào ca 2", "tuần sau em trực ca 3"); "ca tuần tra" is a patrol shift.
SCHEDULE_RE = re.compile(
    r"\b(?:tuan (?:nay|sau|toi)|ca tuan(?! tra)|tu (?:ngay )?mai|(?:hang|moi) (?:ngay|tuan))\b"
)
# Folded: a part of today still to come ("tối nay em trực ca 3" said at 08:14), with the local
# hour it starts; before 06:00 "đêm nay" is the night under way.
LATER_TODAY_RE = re.compile(r"\b(chieu|toi|dem) nay\b")
PART_STARTS = {"chieu": 13, "toi": 18, "dem": 21}
DAY_BEGINS = 6


def scheduled(text: str, at: datetime, tz: ZoneInfo) -> bool:
    """Whether a check-in's words announce a shift for later rather than one starting now:
    a week or a day to come, or a part of today that has not begun (within 30 minutes it
    has: "tối nay em trực ca 3" at 17:45)."""
    folded = fold(lower(text))
    if SCHEDULE_RE.search(folded):
        return True
    local = at.astimezone(tz)
    soon = local + timedelta(minutes=NOW_MINUTES)
    return local.hour >= DAY_BEGINS and any(
        soon.hour < PART_STARTS[m.group(1)] for m in LATER_TODAY_RE.finditer(folded)
    )


NOW_MINUTES = 30


def planned(ctx: Context) -> bool:
    """ "mai em có mặt lúc 7h", "có mặt ở hội trường 8h sáng mai", "tuần này em trực ca đêm cả
    tuần": a time still to come says what will be, not a presence now (the parse keeps the
    future only when it is stated; a schedule's words are read here)."""
    if ctx.parsed is None or ctx.parsed.command is not None:
        return False
    if ctx.parsed.type == "check_in" and scheduled(ctx.text, ctx.event.sent_at, ctx.tz):
        return True
    when = ctx.parsed.time
    if isinstance(when, datetime):
        return when > ctx.event.sent_at + timedelta(minutes=NOW_MINUTES)
    if isinstance(when, date):
        return when > ctx.event.sent_at.astimezone(ctx.tz).date()
    return False


@intent("check_in", "all_clear", "command:diemdanh")
async def check_in(ctx: Context) -> None:
    await checked_in(ctx)


async def checked_in(ctx: Context, *, answered: bool = False) -> None:
    """Record and answer a check-in; `answered`: the message got its answer already (an
    acknowledgement that says "có mặt" too), so a repeat in the shift is not answered."""
    if planned(ctx):
        if ctx.parsed is not None and ctx.parsed.people and names_head_count(ctx.text):
            # "ca đêm nay có 4 người trực" at 10:40: tonight's strength, reported now
            await _record(ctx, "roll_call")
            return
        await plain_message(ctx)
        return
    kind = checkin_kind(ctx)
    if kind in ONCE_PER_SHIFT and await already_checked_in(ctx, kind):
        # "có mặt" twice in a shift: recorded the first time; this one is told so.
        if not answered:
            await _answer_again(ctx, kind)
        return
    await _record(ctx, kind)


async def presence(ctx: Context, *, warm: bool = False) -> None:
    """An answer to a nudge ("ok", "em vẫn theo dõi nhóm ạ"): the attendance it asked for,
    recorded once a shift; `warm`: a word of still following, answered with a kind word."""
    if await already_checked_in(ctx, "attendance"):
        await _answer_again(ctx, "attendance")
        return
    await _record(ctx, "attendance", said="present" if warm else None)


async def _answer_again(ctx: Context, kind: str) -> None:
    """ "Bot đã ghi nhận anh Tài có mặt lúc 07:02 rồi": the shift's first check-in's time.
    From the slice's facts when they know it (a repeat is never recorded, so the shift holds
    one check-in of the kind): a statement built per repeat cost a tenth of a flood's CPU."""
    since = current_shift_start(ctx)
    known, first = await checkin_time_since(ctx.session, ctx.member.id, kind, since, ctx.now)
    if not known:
        first = (
            await ctx.session.execute(
                select(func.min(CheckIn.at)).where(
                    CheckIn.member_pk == ctx.member.id,
                    CheckIn.kind == kind,
                    CheckIn.at >= since,
                )
            )
        ).scalar_one_or_none()
    local = (first or ctx.event.sent_at).astimezone(ctx.tz)
    text = texts.CHECKIN_AGAIN[kind].format(
        name=address(ctx.member), time=f"{local:%H:%M}", you=title_of(ctx.member)
    )
    await chat_reply(ctx, text)


async def _record(ctx: Context, kind: str, said: str | None = None) -> None:
    """Record the check-in of this kind with the member's words and answer him (`said`:
    the answer's key in CHECKIN_OK when not the kind's own)."""
    note = ctx.parsed.command.args if ctx.parsed and ctx.parsed.command else ctx.text
    council = record_council(ctx.session)
    # One Core INSERT of the values write_row would write, with no ORM row: nothing in the
    # event reads the check-in back (note_checkin keeps what the slice needs to know).
    values = {
        "message_pk": ctx.message.id if ctx.message else None,
        "member_pk": ctx.member.id,
        "chat_id": ctx.event.chat_id,
        "kind": kind,
        "note": note[:500],
        "at": ctx.event.sent_at,
        "council_id": council,
    }
    await fastlane.execute_core(ctx.session, _INSERT_CHECKIN, values)
    note_checkin(ctx.session, council, ctx.member.id, kind, ctx.event.sent_at)
    local = ctx.event.sent_at.astimezone(ctx.tz)
    at = f"{local.hour:02d}:{local.minute:02d}"  # strftime("%H:%M"), for a fifth of the cost
    note_said = ""
    if said is None:
        said = "clear" if kind == "patrol" and not names_patrol(ctx.text) else kind
        if kind == "patrol" and names_shift_report(ctx.text):
            note_said = report_note(ctx.text)
            said = "shift_report_noted" if note_said else "shift_report"
    people = ctx.parsed.people if ctx.parsed is not None else None
    text = texts.CHECKIN_OK[said].format(
        name=address(ctx.member), time=at, you=title_of(ctx.member), people=people, note=note_said
    )
    await chat_reply(ctx, text + _shift_note(ctx, said))


def _shift_note(ctx: Context, kind: str) -> str:
    """A patrol is counted for the shift on duty when it was sent (config `shifts`)."""
    enterprise = ctx.member.enterprise
    if kind != "patrol" or not enterprise or enterprise not in ctx.settings.shifts:
        return ""
    span = shift_at(shift_times(ctx.settings), ctx.tz, enterprise, ctx.event.sent_at)
    return honour_texts.PATROL_SHIFT.format(shift=span.name) if span else ""


@intent("absent")
async def absent(ctx: Context) -> None:
    """Thanks for saying so ahead: late ("đến muộn") is said as late, not as away."""
    folded = fold(ctx.text).lower()
    late = LATE_RE.search(folded) is not None and AWAY_RE.search(folded) is None
    name, you = address(ctx.member), title_of(ctx.member)
    # "em nhận được rồi ạ, nhưng em xin vắng": the notice it opens with is acknowledged too.
    from handlers.intents.directives import ack_opening  # directives imports this module

    acked = await ack_opening(ctx)
    answer = texts.LATE_OK.format(name=name, you=you) if late else _away_answer(ctx, name, you)
    await chat_reply(ctx, f"{acked}\n{answer}" if acked else answer)


def _away_answer(ctx: Context, name: str, you: str) -> str:
    """The absence said back as read, so a misread day is caught at once: a leave's days
    ("nghỉ từ 09/12 đến 11/12", or "nghỉ đến 10/12" from today: the nudges stay away till
    then), a day's absence with its day ("báo vắng ngày mai (thứ Hai 07/12)"), else neither."""
    said_at = ctx.event.sent_at
    span = leave_span(ctx.text, said_at, ctx.tz)
    if span is not None and span[1] <= said_at:
        return _back_answer(ctx, span, name, you)
    day = absence_day(ctx.text, said_at, ctx.tz)
    if span is not None and span[2] and span[1] > said_at:
        start, end = (t.astimezone(ctx.tz).date() for t in span[:2])
        today = said_at.astimezone(ctx.tz).date()
        if span[0] < said_at and week_named(fold(lower(ctx.text)), today) == start:
            # "tuần này em đi công tác" said on Monday or later: away already, so the week is
            # named and no "báo trước" is claimed.
            return texts.ABSENT_WEEK_OK.format(name=name, until=f"{end:%d/%m}", you=you)
        if end != day:
            words = {"name": name, "until": f"{end:%d/%m}", "you": you}
            if start > said_at.astimezone(ctx.tz).date():
                return texts.ABSENT_SPAN_OK.format(start=f"{start:%d/%m}", **words)
            return texts.ABSENT_UNTIL_OK.format(**words)
    if day is None:
        return texts.ABSENT_OK.format(name=name, you=you)
    when = texts.absence_day_text(day, said_at.astimezone(ctx.tz).date())
    return texts.ABSENT_DAY_OK.format(name=name, day=when, you=you)


# Folded: being unwell ("nghỉ ốm", "bị sốt", "nằm viện"): the answer wishes him well.
UNWELL_RE = re.compile(r"\b(?:om|benh|sot|cam cum|nam vien|di vien|phau thuat|mo)\b")


def _back_answer(ctx: Context, span: Span, name: str, you: str) -> str:
    """Days away told once over ("em vẫn đây ạ, mấy hôm nay em nghỉ ốm"): he is here; the
    days kept as away are said back, and a sick member is wished well."""
    first, last = (t.astimezone(ctx.tz).date() for t in span[:2])
    days = (
        texts.BACK_ONE_DAY.format(day=f"{first:%d/%m}")
        if first == last
        else texts.BACK_DAYS.format(start=f"{first:%d/%m}", until=f"{last:%d/%m}")
    )
    unwell = UNWELL_RE.search(fold(lower(ctx.text))) is not None
    wish = texts.BACK_WELL.format(you=you) if unwell else ""
    return texts.BACK_OK.format(name=name, you=you, days=days, wish=wish)


# Folded: a leave taken back. "hủy" / "rút lại" with leave words or in a few words ("hủy giúp
# em" after "xin nghỉ mai"), or working after all ("mai em vẫn đi làm", "không nghỉ nữa").
WITHDRAW_RE = re.compile(r"\b(?:huy|rut lai)\b")
LEAVE_WORD_RE = re.compile(r"\b(?:nghi|vang|phep)\b")
STILL_WORKING_RE = re.compile(
    r"\bvan (?:di lam|den|lam|truc|vao ca|co mat)\b|\bdi lam binh thuong\b"
    r"|\bkhong (?:xin )?nghi nua\b"
)
# "xin nghỉ mai, hủy ca trực giúp em" asks for a leave; "không xin nghỉ nữa" does not.
ASKS_LEAVE_RE = re.compile(r"(?<!khong )\bxin (?:phep )?nghi\b(?! nua)")
OTHER_CODE_RE = re.compile(r"\b(?:cv|sv|tb|yc)\s*-?\s*\d")
WITHDRAW_WORDS = 14  # longer is something else said, not a leave taken back
WITHDRAWN = "absent_withdrawn"  # Message.type of a leave taken back: no longer read as leave
WITHDRAWING = "leave_cancel"  # Message.type of the words that took it back


@hook(9)
async def leave_taken_back(ctx: Context) -> bool:
    """ "à không, mai em vẫn đi làm, hủy giúp em", "huy nghi mai": the sender's newest leave
    still to come or under way is withdrawn and he is told which; with none, nothing."""
    if ctx.parsed is not None and ctx.parsed.command is not None:
        return False
    folded = fold(lower(ctx.text))
    if len(folded.split()) > WITHDRAW_WORDS or OTHER_CODE_RE.search(folded):
        return False
    still = STILL_WORKING_RE.search(folded) is not None
    withdraw = WITHDRAW_RE.search(folded) is not None and (
        still or LEAVE_WORD_RE.search(folded) is not None or _only_taking_back(folded)
    )
    if not (withdraw or still) or ASKS_LEAVE_RE.search(folded):
        return False  # cheap first: most messages take nothing back
    leave = await _leave_ahead(ctx)
    if leave is None:
        return False
    row_id, span, said_text, said_at = leave
    await ctx.session.execute(update(Message).where(Message.id == row_id).values(type=WITHDRAWN))
    if ctx.message is not None:
        ctx.message.type = WITHDRAWING  # "huy nghi mai" is no leave for tomorrow itself
    first, last = (t.astimezone(ctx.tz).date() for t in span[:2])
    day = absence_day(said_text, said_at, ctx.tz)
    if day is not None and first == last:
        today = ctx.event.sent_at.astimezone(ctx.tz).date()
        what = texts.LEAVE_WITHDRAWN_DAY.format(day=texts.absence_day_text(day, today))
    else:
        what = texts.LEAVE_WITHDRAWN_SPAN.format(start=f"{first:%d/%m}", until=f"{last:%d/%m}")
    name, you = address(ctx.member), title_of(ctx.member)
    await chat_reply(ctx, texts.LEAVE_WITHDRAWN.format(what=what, name=name, you=you))
    return True


# Folded words that leave "hủy giúp em" about nothing else: right after a leave, it is that.
TAKE_BACK_WORDS = frozenset(
    {"huy", "rut", "lai", "giup", "dum", "ho", "em", "e", "anh", "chi", "nhe", "nha", "a"}
    | {"oi", "thoi", "khong", "di", "luon", "cho", "voi"}
)


def _only_taking_back(folded: str) -> bool:
    """ "à không, hủy giúp em": nothing but taking back; "hủy báo cháy, em nhầm" is not."""
    return all(w in TAKE_BACK_WORDS for w in re.findall(r"\w+", folded))


async def _leave_ahead(ctx: Context) -> tuple[int, Span, str, datetime] | None:
    """The sender's newest leave not over yet: (its message, its span, its words, when)."""
    rows = await ctx.session.execute(
        select(Message.id, Message.text, Message.sent_at)
        .where(
            Message.member_pk == ctx.member.id,
            Message.type == "absent",
            Message.sent_at <= ctx.event.sent_at,
            Message.sent_at >= ctx.event.sent_at - timedelta(days=LEAVE_LOOKBACK_DAYS),
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(10)
    )
    for row_id, text, sent_at in rows:
        if ctx.message is not None and row_id == ctx.message.id:
            continue  # "huy nghi mai" read as a leave itself
        span = leave_span(text or "", sent_at, ctx.tz)
        if span is not None and span[1] > ctx.event.sent_at:
            return row_id, span, text or "", sent_at
    return None


LEAVE_LOOKBACK_DAYS = 60  # a leave asked for further ahead than this is rare
