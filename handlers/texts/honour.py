"""What the bot says when honouring good examples and about missed night patrols."""

from __future__ import annotations

PRAISE_USAGE = "Cú pháp: /khen @tên lý do. Ví dụ: /khen @Lan phát hiện sớm đám cháy ở kho 3."
PRAISE_WHO = (
    'Không tìm thấy thành viên "{name}" trong danh sách. Anh/chị kiểm tra lại tên giúp nhé.'
)
PRAISE_WHICH = (
    '"{name}" có {n} người khớp: {options}. Anh/chị ghi rõ họ tên hoặc số điện thoại giúp nhé.'
)
PRAISE_POST = (
    "🌟 Gương người tốt, việc tốt: Hội đồng ANTT khen ngợi {name} ({enterprise}): {reason}. "
    "Cảm ơn {name} đã góp phần giữ bình yên cho khu công nghiệp!"
)
PRAISE_DONE = "Đã ghi nhận lời khen {name} và đăng vào {n} nhóm."
# Given at night: the post waits for the morning (it would wake every member of the groups).
PRAISE_DONE_MORNING = (
    "Đã ghi nhận lời khen {name}; bot sẽ đăng vào {n} nhóm lúc {at} (đang ngoài giờ)."
)
PRAISE_DONE_NO_GROUP = (
    "Đã ghi nhận lời khen {name}. {name_cap} chưa ở nhóm nào có bot nên chưa đăng được."
)

BOARD_TITLE = "🏅 Bảng vinh danh tháng {month}: gương người tốt, việc tốt"
BOARD_LINE = (
    "• {name} ({enterprise}): {reason} ({reports} báo cáo, {patrols} lượt tuần tra trong tháng)"
)
BOARD_THANKS = "Xin cảm ơn các anh/chị!"

DIGEST_PRAISED = "🌟 Được khen tuần này: {names}."
DIGEST_PATROLS = (
    "🚶 Tuần tra theo ca: {done}/{expected} lượt, {missed} ca thiếu tuần tra ({names})."
)

PATROL_SHIFT = " Lượt tuần tra này tính cho {shift}."
PATROL_MISSED = (
    "Chào {name}, {shift} ({start}-{end} ngày {day}) của {enterprise} chưa có báo cáo tuần tra. "
    'Nếu đã đi tuần, anh/chị nhắn "tuần tra ... bình thường" cho bot để ghi nhận giúp nhé. Cảm ơn anh/chị!'
)

CAMERAS_OPEN = "📷 {n} camera chưa sửa xong: {items}."
CAMERA_ITEM = "{name} ({code}, từ {since})"
