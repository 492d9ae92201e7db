"""What the bot tells a member who asks about their own week (/cuatoi)."""

from __future__ import annotations

# {who}: "anh Tài"; {since}: "thứ Hai 07/12".
MINE_HEAD = "📋 {Who}, tuần này (từ {since}):"
MINE_CHECKINS = "✅ Điểm danh: {n} lần, lần cuối {last}"
MINE_NO_CHECKINS = "✅ Điểm danh: chưa có lần nào"
MINE_REPORTS = "📝 Báo cáo sự việc: {n}"
MINE_TASKS = "📌 Việc đang giao cho {you} ({n}):"
MINE_TASK = "• {code} {text}{due}"
MINE_TASK_DUE = ", hạn {due}"
MINE_ACKS = "📢 Thông báo {you} chưa xác nhận ({n}):"
MINE_ACK = "• {code} “{text}”: gõ /danhan {number}, hạn {due}"
# A member's /giaoviec: his tasks alone, /cuatoi for the rest of his week.
MINE_NO_TASKS = "Hiện chưa có việc nào giao cho {you}."
MINE_TASKS_MORE = "{You} gõ /cuatoi để xem cả tuần của mình (điểm danh, thông báo)."
MINE_NOTHING_OWED = "Không còn việc hay thông báo nào {you} cần làm. Cảm ơn {you}!"
