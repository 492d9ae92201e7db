"""What the provincial overview says: the province's board reads every park on one page."""

from __future__ import annotations

TITLE = "🏛 Toàn tỉnh: tổng kết tuần {num} ({start}–{end})"
TITLE_WEEK = "🏛 Toàn tỉnh: tuần {num} ({start}–{end})"
SO_FAR = ", tính đến {as_of}"
TOTALS = (
    "{parks} KCN: {active}/{members} thành viên tham gia ({pct}), {checkins} điểm danh, "
    "{patrols} tuần tra, {reports} báo cáo, {open} sự việc đang mở{ack}."
)
PARK = (
    "• {name}: {active}/{members} tham gia ({pct}), {checkins} điểm danh, {patrols} tuần tra, "
    "{reports} báo cáo, {open} sự việc đang mở{ack}."
)
ACK = ", xác nhận {pct}"  # left out when no acknowledgement was asked
ATTENTION = "⚠️ Cần quan tâm:"
PARKS = "Từng KCN:"
ATTENTION_LINE = "• {name}: {reason}"
MORE_REASONS = " (và {n} vấn đề khác)"
ALL_WELL = "✅ Tuần này không KCN nào cần lưu ý đặc biệt."
LINK = "Xem chi tiết từng KCN: {url}"
NONE = "–"  # a rate with nothing asked

# Why a park needs attention: one short sentence each (rules in docs/scaling.md).
REASON = {
    "open_incident": "sự việc {code} ({category}) còn mở đã {days} ngày.",
    "slow_ack": "sự việc được nhận chậm, trung vị {took} sau khi báo (toàn tỉnh {province}).",
    "low_acks": "tỉ lệ xác nhận chỉ {pct}, thấp hơn nhiều so với toàn tỉnh ({province}).",
    "no_night": "cả tuần không có lượt điểm danh hay tuần tra ban đêm.",
    "low_participation": "chỉ {pct} thành viên tham gia trong tuần (toàn tỉnh {province}).",
    "unanswered": "{n} yêu cầu của thành viên chưa được trả lời.",
}

MINUTES = "{n} phút"
HOURS = "{n} giờ"
DAYS = "{n} ngày"

# The weekly job's photo caption and the chart's titles.
PHOTO_CAPTION = "🏛 Biểu đồ toàn tỉnh tuần {num}"
CHART_TITLE = "Toàn tỉnh tuần {num}"
CHART_PARKS = "Tham gia và xác nhận theo KCN"
CHART_TREND = "Toàn tỉnh các tuần gần đây"
PARTICIPATION = "Tham gia"
ACK_RATE = "Tỉ lệ xác nhận"
