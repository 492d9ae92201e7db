"""What the weekly digest, /thongke and /chuahoatdong say: praise first, then the figures."""

from __future__ import annotations

from handlers.labels import CATEGORY, INCIDENT_STATE_AT, ROLE, SEVERITY, STATUS

# One label table for the chat, the pages, the chart and the spreadsheet: handlers/labels.py.
__all__ = ["CATEGORY", "ROLE", "SEVERITY", "STATUS"]

TITLE = "📊 Tổng kết tuần {num} ({start}–{end})"
TITLE_WEEK = "📊 Tuần {num} ({start}–{end})"
TITLE_PARK = "{title} · {park}"
SO_FAR = ", tính đến {as_of}"
TITLE_GROUP = "📊 {group}: tuần {num} ({start}–{end})"
THANKS = "🌟 Cảm ơn những anh/chị tích cực nhất: {names}. Rất đáng để mọi người noi theo!"
NO_THANKS = "🌟 Tuần này bot chưa ghi nhận tương tác nào; mong tuần tới sôi nổi hơn."
ACTIVE = "👥 Tham gia: {active}/{members} thành viên ({pct}){delta}"
REENGAGED = "🔁 {n} người đã quay lại sau lời nhắc."
DELTA_UP = ", tăng {n} so với tuần trước"
DELTA_DOWN = ", giảm {n} so với tuần trước"
DELTA_SAME = ", bằng tuần trước"
ACTIVITY = "📝 {checkins} lượt điểm danh{detail} · {reports} báo cáo sự việc{breakdown}"
CHECKIN_DETAIL = " ({patrols} tuần tra, {night} ban đêm)"
SHIFTS = "🕘 Điểm danh theo ca: {shifts}{night}"
SHIFTS_NIGHT = " · ban đêm {pct}"
DIRECTIVES = "📣 {n} thông báo · đã xác nhận {acks}/{expected}{pct}{late}"
ACKS_LATE = ", {n} người xác nhận trễ hạn"
TASKS = "✅ Việc được giao: {done} xong · {overdue} quá hạn"
OPEN_INCIDENTS = "📌 Sự việc đang mở: {n} ({breakdown})"  # the daily summary's and /baocao's words
INCIDENTS = "🚨 Sự việc trong tuần ({n}):"
INCIDENT_LINE = "• {code} {category}{place}{merged}: {outcome}"
AT_PLACE = " ở {place}"
MERGED = " ({n} báo cáo)"
INCIDENTS_MORE = "… và {n} sự việc khác: xem trên trang quản lý."
# How an incident stands, in the words of its page and the chat.
OUTCOME = INCIDENT_STATE_AT
OUTCOME_BY = {"acknowledged": "{who} đã nhận", "handling": "{who} đang xử lý"}
COVERAGE = (
    "ℹ️ Bot chỉ thấy tin nhắn riêng, tin @bot và tin trả lời bot ({n} tin): "
    "việc không báo qua bot không có nghĩa là chưa làm."
)
PENDING = "📌 Thông báo “{text}” còn {n} người chưa xác nhận: {names}"
INACTIVE = "💤 Chưa hoạt động ({n}): {names}"
INACTIVE_COUNT = "💤 {n} thành viên chưa hoạt động; điều phối viên sẽ liên hệ riêng."
PENDING_COUNT = "📌 Thông báo “{text}”: còn {n} người chưa xác nhận."
# Those on leave when a notice went out are not "chưa xác nhận": they are shown apart.
PENDING_AWAY = "📌 Thông báo “{text}”: người chưa xác nhận đều đang nghỉ phép"
PENDING_AWAY_NAMES = "; nghỉ phép: {names}"
ON_LEAVE = "🏖 Nghỉ phép ({n}): {names}"
ON_LEAVE_COUNT = "🏖 {n} thành viên nghỉ phép."
ON_LEAVE_UNTIL = "{who} {away}"  # away: texts.engagement.away_label, "đến 10/12"
ALL_ACTIVE = "💤 Mọi thành viên đều đã tham gia. Tuyệt vời!"
MORE = "và {n} người khác"
HOLIDAY_WEEK = "🎌 Tuần có ngày nghỉ lễ: {days}."
BUDGET = "✉️ Tin đã gửi tháng này: {used}/{limit}"
LINK = "🔗 Xem đầy đủ: {url}"
PHOTO_CAPTION = "Biểu đồ hoạt động tuần {num}"

# {you}/{You}: the coordinator's title ("anh", "đồng chí"; "anh/chị" when unknown).
STATS_PRIVATE_ONLY = "Bot đã gửi danh sách riêng cho {you} qua tin nhắn cá nhân."
STATS_NEED_PRIVATE = (
    "Có {n} thành viên chưa hoạt động trong {days} ngày qua. {You} nhắn riêng cho bot lệnh "
    "/chuahoatdong để xem danh sách nhé."
)
INACTIVE_HEADER = "💤 Chưa hoạt động trong {days} ngày qua ({n} người):"
INACTIVE_LINE = "• {name}{enterprise} · lần cuối: {last}"
INACTIVE_NONE = "🎉 Trong {days} ngày qua mọi thành viên đều đã tham gia. Cảm ơn cả nhóm!"
INACTIVE_NONE_BUT_LEAVE = (
    "🎉 Trong {days} ngày qua, ngoài người đang nghỉ phép, mọi thành viên đều đã tham gia."
)
ON_LEAVE_HEADER = "🏖 Đang nghỉ phép ({n} người):"
ON_LEAVE_LINE = "• {name}{enterprise} · {away}"
INACTIVE_MORE = "… và {n} người khác: xem đủ trên trang quản lý."
NEVER = "chưa thấy"

CHART_TITLE = "Hoạt động tuần {num}"
CHART_ACTIVE = "Thành viên hoạt động"
CHART_INACTIVE = "Chưa hoạt động"
CHART_TREND = "4 tuần gần nhất"
CHART_MESSAGES = "Tin nhắn"
CHART_REPORTS = "Báo cáo"
CHART_CHECKINS = "Điểm danh"
CHART_EMPTY = "Chưa có dữ liệu"
CHART_WEEK = "Tuần"
