"""Vietnamese words for every machine value a person reads: pages, charts, spreadsheets, chat.

Categories come from handlers/texts/categories.py, the table the chat replies use, so a fire is
"cháy/nổ" in the alert, on the dashboard, on the chart and in the spreadsheet alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from handlers.texts.categories import CATEGORY as CATEGORY

__all__ = ["CATEGORY"]

SEVERITY = {"high": "nghiêm trọng", "medium": "trung bình", "low": "nhẹ"}
# An incident's state, in chat (handlers/texts/incidents.py uses this table) and on pages.
INCIDENT_STATUS = {
    "reported": "chờ người nhận",
    "acknowledged": "đã có người nhận",
    "handling": "đang xử lý",
    "resolved": "đã xử lý xong",
    # It happened and ended by itself ("họ đã bỏ đi rồi, không sao"): no false alarm.
    "settled": "đã ổn",
    "false_alarm": "báo nhầm",
    "noted": "đã ghi nhận, không cần xử lý",
}
# The digest's incident states: "open" is a reported incident nobody has taken yet.
INCIDENT_STATE_AT = {**INCIDENT_STATUS, "open": INCIDENT_STATUS["reported"]}
REPORT_STATUS = {
    "confirmed": "đã xác nhận",
    "unconfirmed": "chưa xác nhận",
    "pending": "chờ xác nhận",
    "false_alarm": "báo nhầm",
}
TASK_STATUS = {"open": "chưa xong", "done": "đã xong", "cancelled": "đã hủy"}
DIRECTIVE_STATUS = {"open": "đang mở", "closed": "đã đóng", "cancelled": "đã hủy"}
REQUEST_STATUS = {"open": "chờ trả lời", "answered": "đã trả lời", "closed": "đã đóng"}
# One filter shows any of these (a report's state is its incident's status, else its own).
STATUS = {**TASK_STATUS, **DIRECTIVE_STATUS, **REPORT_STATUS, **INCIDENT_STATUS}

# The chat says "quản trị viên" too (handlers/texts/identity.py).
ROLE = {
    "member": "thành viên",
    "coordinator": "điều phối viên",
    "admin": "quản trị viên",
    "province": "Ban Quản lý tỉnh",
}
MEMBER_STATUS = {"member": "thành viên", "guest": "khách"}
# "điểm danh" is every kind together (the digest's check-ins); attendance is "có mặt", as the
# shift table and the chat's own reply ("... có mặt lúc 07:02") call it.
CHECKIN_KIND = {
    "attendance": "có mặt",
    "shift": "vào ca",
    "shift_end": "hết ca",
    "roll_call": "quân số ca",
    "patrol": "tuần tra",
}
MESSAGE_TYPE = {
    "incident": "báo sự việc",
    "all_clear": "bình thường",
    "ack": "xác nhận",
    "not_ack": "chưa nhận",
    "check_in": "điểm danh",
    "absent": "vắng mặt",
    "absent_withdrawn": "báo vắng đã hủy",
    "leave_cancel": "hủy báo vắng",
    "question": "câu hỏi",
    "command": "lệnh",
    "chat": "trò chuyện",
    "other": "khác",
}
MESSAGE_KIND = {"text": "chữ", "photo": "ảnh", "image": "ảnh", "sticker": "nhãn dán"}
OUTBOX_KIND = {
    "alert": "cảnh báo",
    "reply": "trả lời",
    "directive": "thông báo",
    "task": "việc được giao",
    "digest": "tổng kết tuần",
    "digest_chart": "biểu đồ tuần",
    "nudge": "lời nhắc",
    "post": "bài tuyên truyền",
    "praise": "lời khen",
    "reminder": "nhắc việc",
    "private": "tin riêng",
}
OUTBOX_STATUS = {
    "pending": "chờ gửi",
    "sending": "đang gửi",
    "sent": "đã gửi",
    "failed": "gửi lỗi",
    "cancelled": "đã hủy",
}
NUDGE_CHANNEL = {"private": "tin riêng", "group": "trong nhóm", "coordinator": "qua điều phối"}
GROUP_KIND = {
    "council": "hội đồng",
    "enterprise": "doanh nghiệp",
    "fire_safety": "an toàn PCCC",
    "private": "tin riêng",
}
# What each step of an incident's timeline (IncidentEvent.kind) is called, on its page and in
# the chat's /baocao SV<số>.
EVENT = {
    "report": "Báo cáo",
    "merged": "Báo cáo thêm (gộp vào)",
    "detail": "Người báo bổ sung",
    "update": "Tin cập nhật",
    "handler_update": "Người xử lý cập nhật",
    "photo": "Ảnh kèm",
    "alert_held": "Hoãn cảnh báo",
    "alert": "Cảnh báo điều phối viên",
    "escalation": "Chuyển cấp",
    "escalation_done": "Hết bậc chuyển cấp",
    "reminder": "Nhắc sự việc còn mở",
    "confirmed": "Người báo xác nhận",
    "unconfirmed": "Chưa được xác nhận",
    "withdrawn": "Người báo rút báo cáo",
    "disputed": "Một người báo cho là báo nhầm",
    "corrected": "Sửa thông tin",
    "moved": "Tách sang sự việc khác",
    "reported": "Mở lại",
    **{k: f"Chuyển trạng thái: {v}" for k, v in INCIDENT_STATUS.items() if k != "reported"},
}
YES_NO = {True: "có", False: "không"}


def label(table: Mapping[str, str], key: str | None) -> str:
    """The Vietnamese word for `key`, a dash for nothing, the key itself if it is new."""
    if not key:
        return "–"
    return table.get(key, key)


def week_label(week: str) -> str:
    """'2026-W47' as people say it: 'Tuần 47/2026'."""
    year, _, num = week.partition("-W")
    return f"Tuần {int(num)}/{year}" if num.isdigit() else week
