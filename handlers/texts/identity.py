"""What the bot says while it confirms that a chat account is a coordinator or admin."""

from __future__ import annotations

ROLE_WORDS = {"coordinator": "điều phối viên", "admin": "quản trị viên"}

ASK_PHONE = (
    "Chào anh/chị! Tên Zalo của anh/chị trùng với một {role} trong danh sách Hội đồng. "
    "Anh/chị vui lòng nhắn số điện thoại đã đăng ký để xác nhận."
)
ASK_PHONE_GROUP = (
    "Để xác nhận tài khoản, anh/chị vui lòng nhắn riêng cho bot số điện thoại đã đăng ký."
)
WAIT_COORDINATOR = (
    "Chào anh/chị! Tên Zalo của anh/chị trùng với một {role} trong danh sách Hội đồng. "
    "Bot đã nhờ điều phối viên xác nhận; trong lúc chờ, anh/chị dùng bot như khách."
)
WAIT_NOBODY = (
    "Chào anh/chị! Tên Zalo của anh/chị trùng với một {role} trong danh sách Hội đồng. "
    "Anh/chị liên hệ ban quản lý để được thêm mã Zalo vào danh sách."
)
PHONE_WRONG = (
    "Số điện thoại chưa khớp với danh sách. Anh/chị kiểm tra lại và nhắn lại giúp bot "
    "(còn {left} lần)."
)
PHONE_LOCKED = (
    "Số điện thoại vẫn chưa khớp nên bot dừng xác nhận qua số điện thoại. "
    "Anh/chị liên hệ điều phối viên của Hội đồng để được xác nhận."
)
LINKED = "✅ Đã xác nhận anh/chị là {name}, {role} của Hội đồng. Gõ /huongdan để xem các lệnh."
LINKED_BY = (
    "✅ {by} đã xác nhận anh/chị là {name}, {role} của Hội đồng. Gõ /huongdan để xem các lệnh."
)

CONFIRM_ASK = (
    '🔐 Tài khoản Zalo "{display}" nhắn bot, tên trùng với {role} {name} '
    "(chưa liên kết tài khoản). Nếu đúng là người này, anh/chị trả lời "
    '"đồng ý" vào tin này hoặc nhắn /xacnhan {n}. Nếu không phải, trả lời "không".'
)
CONFIRM_DONE = 'Đã liên kết tài khoản Zalo "{display}" với {name}. Cảm ơn anh/chị!'
CONFIRM_REFUSED = (
    'Đã ghi nhận: tài khoản "{display}" không phải {name}; tài khoản này vẫn là khách.'
)
CONFIRM_UNKNOWN = "Không tìm thấy yêu cầu xác nhận số {n}, hoặc yêu cầu đã được xử lý."
CONFIRM_NONE = "Hiện không có tài khoản nào chờ xác nhận."
CONFIRM_LIST = "Các tài khoản chờ xác nhận (nhắn /xacnhan <số>):\n{lines}"
CONFIRM_LINE = '• {n}: Zalo "{display}" xưng là {name}'
