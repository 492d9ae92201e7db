"""What the bot says about check-ins, directives, tasks and nudges."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from handlers.text import whole_percent
from handlers.texts.requests import weekday_date

if TYPE_CHECKING:
    from models.leave import Leave

CHECKIN_OK = {
    "attendance": "✅ Đã ghi nhận {name} có mặt lúc {time}. Cảm ơn {you}!",
    "shift": "✅ Đã ghi nhận {name} vào ca lúc {time}. Chúc ca trực an toàn!",
    "shift_end": "✅ Đã ghi nhận {name} hết ca lúc {time}. Cảm ơn {you}!",
    # A head count for a shift still to come ("ca đêm nay có 4 người trực" at 10:40): the
    # strength reported, no one's shift started.
    "roll_call": "✅ Đã ghi nhận {name} báo quân số trực lúc {time}: {people} người. Cảm ơn {you}!",
    "patrol": "✅ Đã ghi nhận báo cáo tuần tra của {name} lúc {time}: tình hình bình thường. Cảm ơn {you}!",
    # An all-clear that names no patrol, round or shift ("chị ơi kho B bình thường"): recorded
    # as a patrol, but not called one (docs/parser.md).
    "clear": "✅ Đã ghi nhận {name} báo lúc {time}: bình thường. Cảm ơn {you}!",
    # A nudge answered with a word of still following ("em vẫn theo dõi nhóm ạ", "vẫn làm
    # bình thường, chỉ không nhắn thôi"): the presence the nudge asked for, and a kind word.
    "present": "✅ Đã ghi nhận {name} có mặt lúc {time}. Cảm ơn {you} đã trả lời bot! Có việc gì {you} cứ nhắn bot nhé.",
    # A shift's report pasted at its end ("BÁO CÁO CA TRỰC 11/12 …", "bc ca 1: qs 5, …"),
    # recorded as the shift's patrol; its labelled note ("Ghi chú: …") said back, kept with it.
    "shift_report": "✅ Đã ghi nhận báo cáo ca trực của {name} lúc {time}. Cảm ơn {you}!",
    "shift_report_noted": (
        "✅ Đã ghi nhận báo cáo ca trực của {name} lúc {time}, kèm ghi chú: {note}. Cảm ơn {you}!"
    ),
}
# A second check-in of the same kind in the same shift: not recorded again, but answered
# (a member who wrote to the bot must not be left wondering); {time}: the first one's.
CHECKIN_AGAIN = {
    "attendance": "Bot đã ghi nhận {name} có mặt lúc {time} rồi. Cảm ơn {you}!",
    "shift": "Bot đã ghi nhận {name} vào ca lúc {time} rồi. Chúc ca trực an toàn!",
    "shift_end": "Bot đã ghi nhận {name} hết ca lúc {time} rồi. Cảm ơn {you}!",
}
# Days away told once over ("mấy hôm nay em nghỉ ốm"): {days} BACK_DAYS or BACK_ONE_DAY,
# {wish} BACK_WELL when he was unwell, else "".
BACK_OK = "Cảm ơn {name} đã báo, bot ghi nhận {you} nghỉ {days}.{wish}"
BACK_DAYS = "từ {start} đến {until}"
BACK_ONE_DAY = "ngày {day}"
BACK_WELL = " Chúc {you} mau khỏe!"
# A leave taken back ("mai em vẫn đi làm, hủy giúp em"); {what}: "báo vắng ngày mai (thứ Ba
# 15/12)" or "lịch nghỉ từ 16/12 đến 18/12".
LEAVE_WITHDRAWN = "Đã hủy {what} của {name}. Cảm ơn {you} đã báo lại!"
LEAVE_WITHDRAWN_DAY = "báo vắng {day}"
LEAVE_WITHDRAWN_SPAN = "lịch nghỉ từ {start} đến {until}"
ABSENT_OK = "Đã ghi nhận {name} báo vắng. Cảm ơn {you} đã báo trước."
# A day's absence with its day named ("mai e xin nghỉ 1 hôm"): the day read, said back.
ABSENT_DAY_OK = "Đã ghi nhận {name} báo vắng {day}. Cảm ơn {you} đã báo trước."
# A leave with an end ("nghỉ phép đến 10/12", "nghỉ 3 ngày"): the day read, said back.
ABSENT_UNTIL_OK = "Đã ghi nhận {name} nghỉ đến {until}. Cảm ơn {you} đã báo trước."
# A leave that starts on a later day: both days, so a misread start is caught at once.
ABSENT_SPAN_OK = "Đã ghi nhận {name} nghỉ từ {start} đến {until}. Cảm ơn {you} đã báo trước."
# "tuần này em đi công tác" (the week under way, from its Monday): told during the absence,
# so thanked for telling, not for telling ahead.
ABSENT_WEEK_OK = "Đã ghi nhận {name} vắng đến hết tuần này ({until}). Cảm ơn {you} đã báo!"
LATE_OK = "Đã ghi nhận {name} báo đến muộn. Cảm ơn {you} đã báo trước."

DIRECTIVE_POST = (
    "📢 THÔNG BÁO {code}\n{text}\n\n"
    '👉 {ask} bấm Trả lời tin này và gõ "đã nhận" '
    "(hoặc nhắn riêng cho bot: /danhan {id}). Hạn xác nhận: {deadline}."
)
DIRECTIVE_SENT = (
    "Đã gửi thông báo {code} tới {groups}. Cần {expected} người xác nhận{note} trước {deadline}."
)
DIRECTIVE_NO_TEXT = "{You} nhập nội dung sau lệnh, vd: /thongbao Tăng cường tuần tra dịp lễ."
# A coordinator's "Thông báo: ..." in private: perhaps forwarded, so it is not broadcast.
DIRECTIVE_HOW = (
    "Bot chưa gửi tin này tới các nhóm. Để gửi thông báo cần xác nhận, {you} gõ"
    " /thongbao <nội dung> (gửi mọi nhóm) hoặc /thongbao [tên nhóm] <nội dung> (gửi một nhóm)."
)
# A member's "Thông báo: ..." in a group (a notice relayed): kept as his message, neither a
# question for a coordinator nor a notice to acknowledge. Said once a day: without it he would
# wait for acknowledgements nobody is asked for.
MEMBER_NOTICE_KEPT = (
    "Bot đã lưu tin của {name}. Bot chỉ theo dõi xác nhận đối với thông báo của điều phối viên."
)
DIRECTIVE_NO_GROUP = "Chưa có nhóm nào để gửi thông báo. Khai báo nhóm trong config.yaml (groups)."
DIRECTIVE_UNKNOWN_GROUP = 'Không tìm thấy nhóm "{name}". Các nhóm: {groups}.'
ACK_OK = "👍 Đã ghi nhận {name} xác nhận thông báo {code}. Cảm ơn {you}!"
# The acknowledgement that opens a message saying more (an absence said with it).
ACK_NOTED = "👍 Đã ghi nhận {name} xác nhận thông báo {code}."
# A reply under a directive with something to say: acknowledged, and passed to its author.
ACK_PASSED_ON = (
    "👍 Đã ghi nhận {name} xác nhận thông báo {code} và đã chuyển lời của {you} tới {author}."
    " Cảm ơn {you}!"
)
REPLY_PASSED_ON = "Bot đã chuyển lời của {you} về thông báo {code} tới {author}. Cảm ơn {you}!"
DIRECTIVE_REPLY = "💬 {who} trả lời thông báo {code}{where}:\n“{text}”"
REPLY_WHERE_GROUP = " trong nhóm {group}"
ACK_ALREADY = "{You} đã xác nhận thông báo {code} rồi. Cảm ơn {you}!"
# {you}: the member's title ("đồng chí", "chị"; "anh/chị" when unknown).
ACK_NOTHING = "Hiện không có thông báo nào cần {you} xác nhận. Cảm ơn {you}!"
ACK_UNKNOWN = "Không tìm thấy thông báo {code}."
ACK_CANCELLED = "Thông báo {code} đã được hủy, {name} không cần xác nhận nữa."
QUOTE_LIMIT = 300  # a directive quoted in a chase: the first lines say what it was


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` whole when short; else cut between words, with "…" to say there is more."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(None, 1)[0] if " " in cut else cut).rstrip(" ,;:.") + "…"


# A member who owes a notice asks which one ("thông báo gì vậy anh"): it again, and how to
# acknowledge it.
NOTICE_AGAIN = (
    'Thông báo {code} ({who}lúc {at}):\n"{text}"\n'
    'Đọc xong {you} trả lời "đã nhận" hoặc nhắn /danhan {id} giúp bot nhé. Hạn: {deadline}.'
)
ACK_REMINDER_PRIVATE = (
    '⏰ Nhắc nhẹ: {name} chưa xác nhận thông báo {code}:\n"{text}"\n'
    "Trả lời /danhan {id} giúp bot nhé. Hạn: {deadline}. Cảm ơn {you}!"
)
ACK_REMINDER_GROUP = (
    "⏰ Thông báo {code} còn {missing} {people} chưa xác nhận: {names}.\n"
    'Đề nghị trả lời "đã nhận" vào tin thông báo hoặc nhắn /danhan {id} cho bot. Hạn: {deadline}.'
)
# A tally "{acked}/{expected}" counts over those expected to answer; members on leave for the
# whole window are left out and shown apart: "5/8 đã nhận (1 nghỉ phép)" (`tally_note`).
DIRECTIVE_CLOSED = (
    "📋 Thông báo {code} đã hết hạn xác nhận: {acked}/{expected} người đã nhận{note}.\n"
    "{by_enterprise}{missing_line}"
)
DIRECTIVE_STATUS_LINE = (
    "• {code} ({created}): {acked}/{expected} đã nhận{note}; chưa nhận: {missing}"
)
DIRECTIVE_STATUS_LEAVE = "; nghỉ phép: {people}"
DIRECTIVE_STATUS_NONE = "Không có thông báo nào đang chờ xác nhận."
MISSING_LINE = "Chưa nhận: {names}."
ALL_ACKED = "Tất cả đã nhận. 👏"
ON_LEAVE_LINE = "🏖 Nghỉ phép: {people}."
TALLY_ON_LEAVE = "{n} nghỉ phép"
# A member's time away, the one label of every tally, digest, dashboard page and sheet: a day's
# absence ("mai em xin nghỉ") is "vắng 08/12", never leave "đến 08/12"; a leave with an end is
# "đến 10/12" after a name under "Nghỉ phép", "nghỉ phép đến 10/12" alone.
AWAY_DAY = "vắng {day}"
AWAY_UNTIL = "đến {day}"
AWAY_UNTIL_ALONE = "nghỉ phép đến {day}"


def away_label(leave: Leave, tz: ZoneInfo, alone: bool = False) -> str:
    """ "vắng 08/12" for a day's absence; "đến 10/12" for a leave ("nghỉ phép đến 10/12"
    `alone`, where no "Nghỉ phép" heading says what it is)."""
    day = leave.end.astimezone(tz).strftime("%d/%m")
    if leave.one_day:
        return AWAY_DAY.format(day=day)
    return (AWAY_UNTIL_ALONE if alone else AWAY_UNTIL).format(day=day)


def away_now(leave: Leave, tz: ZoneInfo) -> str:
    """Said of someone away today: "đang nghỉ phép đến 04/12", or "vắng 08/12"."""
    label = away_label(leave, tz, alone=True)
    return label if leave.one_day else f"đang {label}"


def tally_note(acked: int, expected: int, on_leave: int = 0, *, rate: bool = True) -> str:
    """What follows a tally "5/8": " (63%, 1 nghỉ phép)", the rate over those expected to
    answer and the members on leave apart (docs/acks-and-budget.md); "" if nothing to add."""
    parts = [f"{whole_percent(acked, expected)}%"] if rate and expected else []
    if on_leave:
        parts.append(TALLY_ON_LEAVE.format(n=on_leave))
    return f" ({', '.join(parts)})" if parts else ""


TASK_USAGE = "Cú pháp: /giaoviec @tên nội dung việc han 30/11 (hạn có thể kèm giờ, vd 30/11 17h)."
TASK_WHO = 'Không tìm thấy thành viên "{name}" trong danh sách. Kiểm tra lại tên giúp bot nhé.'
TASK_PICK = 'Có {n} người khớp "{name}":\n{options}\nTrả lời số thứ tự để chọn người nhận việc.'
# {you}/{You}: the coordinator's own title ("anh", "đồng chí"; "anh/chị" when unknown).
TASK_PICK_RANGE = "Danh sách chỉ có {n} người: {you} trả lời một số từ 1 đến {n} giúp bot nhé."
TASK_CREATED = "📝 Đã giao việc {code} cho {name}: {text}{due}."
TASK_DUE = ", hạn {due}"
TASK_DUE_PAST = "Hạn {due} đã qua. {You} gõ lại lệnh với hạn mới giúp bot nhé."
TASK_DONE = "✅ Việc {code} đã hoàn thành. Cảm ơn {name}!"
TASK_DONE_NOTIFY = "✅ {name} đã hoàn thành việc {code}: {text}."
TASK_ALREADY_DONE = "Việc {code} đã hoàn thành trước đó rồi."
TASK_NOT_FOUND = "Không tìm thấy việc {code}."
TASK_NOT_YOURS = (
    "Việc {code} được giao cho {name}; chỉ người nhận việc hoặc điều phối viên mới đóng được."
)
# {Name}: the assignee as the sentence's subject ("Đồng chí Hùng làm xong ...").
TASK_REMINDER = (
    "⏰ Nhắc việc {code}: {text}. Hạn {due}. {Name} làm xong nhắn /xong {code} giúp bot nhé!"
)
TASK_OVERDUE_MEMBER = (
    "⚠️ Việc {code} đã quá hạn ({due}): {text}. {Name} làm xong nhắn /xong {code} giúp bot nhé!"
)
# The next working day, once more; {then}: TASK_OVERDUE_THEN when the assigner can be told.
TASK_OVERDUE_AGAIN = (
    "⏰ Nhắc lại: việc {code} đã quá hạn từ {due}: {text}. {Name} làm xong nhắn /xong {code}"
    " giúp bot nhé.{then}"
)
TASK_OVERDUE_THEN = " Nếu việc vẫn chưa xong, ngày làm việc tới bot sẽ báo {assigner}."
# To the assigner, privately: {who} the assignee's full name, {name} the short one.
TASK_OVERDUE_ASSIGNER = (
    "⚠️ Việc {code} giao cho {who} đã quá hạn từ {due}: {text}. Bot đã nhắc {name} nhưng chưa"
    " thấy báo xong; {you} liên hệ trực tiếp giúp nhé."
)
# When the bot has no way to the assignee (no private chat, no group it knows him in).
TASK_OVERDUE_ASSIGNER_UNREACHED = (
    "⚠️ Việc {code} giao cho {who} đã quá hạn từ {due}: {text}. Bot không nhắn được cho {name}"
    " nên chưa nhắc; {you} liên hệ trực tiếp giúp nhé."
)
TASK_OVERDUE_ASSIGNER_LEAVE = (
    "⚠️ Việc {code} giao cho {who} đã quá hạn từ {due}: {text}. {Name} {away} nên bot không"
    " nhắc; {you} cân nhắc giao lại cho người khác."
)
TASK_STATUS_LINE = "• {code} {name}: {text} — {state}"
TASK_STATUS_NONE = "Không có việc nào đang mở."
DONE_USAGE = "Cú pháp: /xong <mã việc>, vd /xong CV3."

# {you}: the member's title once named ("đồng chí"), {You} the same opening a sentence.
NUDGE_PRIVATE = {
    1: 'Chào {name} 👋 Đã {days} ngày bot chưa thấy {you} tương tác. {You} nhắn "có mặt" để điểm danh giúp bot nhé. Cảm ơn {you}! 🙏',
    2: 'Chào {name}, đã {days} ngày bot chưa nhận được tin của {you}. Đề nghị {you} điểm danh ("có mặt") và xem các thông báo mới của Hội đồng. Cảm ơn {you}!',
}
NUDGE_GROUP_PRAISE = "👏 Cảm ơn {names} đã tích cực tham gia tuần qua!\n"
# {everyone}: the group's register ("các đồng chí" in the council, "anh chị em" among
# colleagues), {Everyone} the same opening a sentence.
NUDGE_GROUP = {
    1: '{praise}Nhắc nhẹ: {names} lâu rồi chưa tương tác với bot. {Everyone} nhắn "@{bot} có mặt" để điểm danh nhé. 🙏',
    2: '{praise}Đề nghị {names} điểm danh ("@{bot} có mặt") và xác nhận các thông báo của Hội đồng. Đã nhiều ngày bot chưa nhận được tin của {everyone}.',
}
NUDGE_COORDINATOR = "📋 Thành viên chưa hoạt động lâu ngày (cần đôn đốc):\n{lines}"
NUDGE_COORDINATOR_LINE = "• {name} ({enterprise}): {days} ngày"


def absence_day_text(day: date, today: date) -> str:
    """ "hôm nay (06/12)", "ngày mai (thứ Hai 07/12)", "thứ Sáu 11/12": an absence's day."""
    if day == today:
        return f"hôm nay ({day.strftime('%d/%m')})"
    if day == today + timedelta(days=1):
        return f"ngày mai ({weekday_date(day)})"
    return weekday_date(day)
