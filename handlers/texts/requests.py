"""What the bot says about members' requests (YCn) and in the coordinators' daily summary."""

from __future__ import annotations

from datetime import date

WEEKDAY = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")

# To the member who asked: say exactly where the question went, never more.
ASKED_PRIVATE = (
    "Cảm ơn {name}! Bot đã chuyển câu hỏi ({code}) tới điều phối viên. "
    "Khi có trả lời, bot sẽ báo lại ngay."
)
ASKED_LATER = (
    "Cảm ơn {name}! Bot đã ghi nhận câu hỏi ({code}) và sẽ chuyển {target} lúc {when}. "
    "Khi có trả lời, bot sẽ báo lại ngay."
)
LATER_TARGET = {
    "private": "tới điều phối viên",
    "coordinators": "vào nhóm điều phối viên",
    "council": "vào nhóm {group} (chưa nhắn riêng được cho điều phối viên)",
}
# A question about the urgent incident under way, passed on at once in quiet hours.
ASKED_AT_ONCE = (
    "Cảm ơn {name}! Bot đã chuyển câu hỏi ({code}) về sự việc {incident} {target}. "
    "Khi có trả lời, bot sẽ báo lại."
)
AT_ONCE_TARGET = {
    "private": "tới điều phối viên ngay",
    "coordinators": "vào nhóm điều phối viên ngay",
    "council": "ngay vào nhóm {group} (chưa nhắn riêng được cho điều phối viên)",
}
# A question held for the morning whose incident has just been reported as urgent.
HELD_SENT_NOW = (
    "Sự việc {incident} vừa được báo khẩn nên bot đã chuyển câu hỏi ({code}) của {name} "
    "{target}, không chờ đến sáng."
)
ASKED_COORDINATORS_CHAT = (
    "Cảm ơn {name}! Bot đã chuyển câu hỏi ({code}) vào nhóm điều phối viên. "
    "Khi có trả lời, bot sẽ báo lại ngay."
)
ASKED_COUNCIL = (
    "Cảm ơn {name}! Bot chưa nhắn riêng được cho điều phối viên nên đã chuyển câu hỏi ({code}) "
    "vào nhóm {group}. Khi có trả lời, bot sẽ báo lại ngay."
)
ASKED_NOBODY = (
    "Bot đã ghi lại câu hỏi của {name} ({code}) nhưng chưa chuyển được cho điều phối viên nào. "
    "Anh/chị liên hệ trực tiếp điều phối viên giúp nhé."
)

# A question or a request to change a task, said quoting it: to the one who gave the task.
# {task}: "CV1"; {giver}: "anh Quân".
ASKED_GIVER = (
    "Cảm ơn {name}! Bot đã chuyển câu hỏi ({code}) về việc {task} tới {giver}, người giao việc."
    " Khi có trả lời, bot sẽ báo lại ngay."
)
ASKED_GIVER_LATER = (
    "Cảm ơn {name}! Bot đã ghi nhận câu hỏi ({code}) về việc {task} và sẽ chuyển tới {giver},"
    " người giao việc, lúc {when}. Khi có trả lời, bot sẽ báo lại ngay."
)

# A question with nothing in it ("?", "gì vậy ạ?"); {Name}: "Chị Mai", {You}: "Chị".
ASK_WHAT = "{Name} muốn hỏi gì ạ? {You} nhắn rõ câu hỏi, bot sẽ chuyển tới điều phối viên."
ADDED_FORWARDED = "Bot đã chuyển thêm nội dung này vào câu hỏi {code}."
ADDED_KEPT = "Bot đã ghi thêm nội dung này vào câu hỏi {code}."

# To the coordinators.
FORWARD = (
    "❓ {code}{about}: {who} ({enterprise}) hỏi{where}:\n"
    "“{text}”\n"
    "Trả lời: bấm Trả lời vào tin này, hoặc gõ /traloi {code} nội dung."
)
FOLLOW_UP = "❓ {code} (bổ sung) – {who}:\n“{text}”"
ABOUT = " (về {incident})"
ABOUT_TASK = " về việc {task} ({text})"
WHERE_GROUP = " trong nhóm {group}"
NO_ENTERPRISE = "chưa rõ đơn vị"
ANSWER_SENT = "Bot đã chuyển câu trả lời {code} tới {name}."
ALREADY_ANSWERED = "{code} đã được {who} trả lời lúc {at}."
NOT_FOUND = "Bot không tìm thấy yêu cầu {code}. Gõ /yeucau để xem các yêu cầu đang chờ."
USAGE_TRALOI = "Cách dùng: /traloi YC<số> nội dung trả lời, vd /traloi YC3 Anh liên hệ phòng 2 nhé."
EMPTY_ANSWER = "Anh/chị nhập nội dung trả lời giúp bot, vd /traloi {code} nội dung."

# To the member, when the answer comes.
ANSWER = "💬 Trả lời cho câu hỏi {code} của {name}:\n{answer}\n— {who}, điều phối viên"
# From someone woken for the incident it asks about who is no coordinator (escalation chain).
ANSWER_WOKEN = "💬 Trả lời cho câu hỏi {code} của {name}:\n{answer}\n— {who}"

# /yeucau
OPEN_HEADER = "Yêu cầu đang chờ trả lời ({n}):"
OPEN_LINE = "• {code} {who} ({enterprise}), {age}: “{text}”"
OPEN_NONE = "Không có yêu cầu nào đang chờ trả lời."
OPEN_FOOTER = "Trả lời: /traloi YC<số> nội dung."
MINE_HEADER = "Câu hỏi của {name} đang chờ trả lời:"
MINE_LINE = "• {code}, {age}: “{text}”"
MINE_NONE = "{name} không có câu hỏi nào đang chờ trả lời."

# The daily summary: one message per coordinator, only when something needs attention.
SUMMARY_HELLO = "Chào {name}, việc cần theo dõi hôm nay ({day}):"
SUMMARY_HELLO_GROUP = "Chào các anh/chị điều phối viên, việc cần theo dõi hôm nay ({day}):"
SUMMARY_INCIDENTS = "🚨 Sự việc đang mở ({n}):"
SUMMARY_INCIDENT_LINE = "• {code} {category}{place}: {status}, {age}"
SUMMARY_HANDLER = {"acknowledged": "{who} đã nhận xử lý", "handling": "{who} đang xử lý"}
SUMMARY_REQUESTS = "❓ Câu hỏi chưa trả lời ({n}):"
SUMMARY_REQUEST_LINE = "• {code} {who} ({enterprise}), {age}: “{text}”"
SUMMARY_TASKS = "⏰ Việc quá hạn ({n}):"
SUMMARY_TASK_LINE = "• {code} {who}: {text}, {late}"
SUMMARY_DIRECTIVES = "📢 Thông báo còn thiếu xác nhận ({n}):"
SUMMARY_DIRECTIVE_LINE = (
    "• {code} “{text}”: {acked}/{expected} đã xác nhận{note}, hạn {deadline}"  # tally_note
)
SUMMARY_MORE = "• … và {n} mục khác"
# /tonghop (or "tình hình hôm nay thế nào" from a coordinator): the summary at any hour.
TODAY_HEAD = "Việc cần theo dõi hôm nay ({day}):"
TODAY_NOTHING = (
    "Hôm nay ({day}) chưa có việc cần theo dõi: không có sự việc đang mở, câu hỏi chờ trả lời,"
    " việc quá hạn hay thông báo còn thiếu xác nhận."
)
SUMMARY_FOOTER = (
    "Gõ /baocao xem sự việc, /yeucau xem câu hỏi, /giaoviec xem việc, /thongbao xem thông báo."
)


def weekday_date(day: date) -> str:
    """'thứ Hai 07/12'."""
    return f"{WEEKDAY[day.weekday()]} {day.strftime('%d/%m')}"


def age(start: date, today: date, verb: str, waiting: str) -> str:
    """Days, not hours: 'mở hôm nay', 'mở hôm qua', 'đã mở 7 ngày' ('hỏi'/'chờ' for requests)."""
    days = (today - start).days
    if days <= 0:
        return f"{verb} hôm nay"
    if days == 1:
        return f"{verb} hôm qua"
    return f"đã {waiting} {days} ngày"


def late_by(due: date, today: date) -> str:
    days = (today - due).days
    return "quá hạn từ hôm nay" if days <= 0 else f"quá hạn {days} ngày"


def clip(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
