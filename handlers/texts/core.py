"""What every deployment says: help, unknown commands, welcome. Short and warm."""

from __future__ import annotations

# The member's help, one line per thing they can do: /huongdan shows them all, and a question
# about one of them ("làm sao để báo sự cố") is answered with its line (HOWTO_ANSWER).
HELP_LINES = {
    "report": 'Báo sự việc: nhắn nội dung, vd "cháy ở xưởng 2" hoặc /baocao <nội dung>',
    "check_in": 'Điểm danh: nhắn "có mặt" hoặc /diemdanh',
    "ack": 'Xác nhận thông báo: trả lời "đã nhận" vào tin của bot hoặc /danhan',
    "task": (
        'Việc được giao: trả lời "nhận việc" vào tin giao việc; xong thì trả lời "xong" '
        "kèm ghi chú, hoặc /xong <mã việc> <ghi chú>"
    ),
    "ask": "Hỏi hoặc nhờ hỗ trợ: nhắn câu hỏi, bot chuyển tới điều phối viên và báo lại câu trả lời",
    "mine": "Xem tuần này của mình (điểm danh, việc được giao, thông báo chưa xác nhận): /cuatoi",
}
HELP_MEMBER = (
    "Bot ANTT xin chào! Anh/chị có thể:\n"
    + "".join(f"• {line}\n" for line in HELP_LINES.values())
    + "• Xem hướng dẫn: /huongdan"
)

HELP_COORDINATOR = (
    "\nDành cho điều phối viên:\n"
    "• /thongbao <nội dung>: gửi thông báo cần xác nhận (trong nhóm: gõ @Bot Thông báo: <nội dung>)\n"
    "• /giaoviec @tên <việc> han <ngày>: giao việc (@tên @tên2: giao cho nhiều người)\n"
    "• /huy CV<số>, /huy TB<số>: hủy việc hoặc thông báo mình đã tạo\n"
    "• /tonghop: việc cần theo dõi hôm nay; /thongke: số liệu tuần này\n"
    "• /chuahoatdong: thành viên chưa hoạt động\n"
    "• /khen @tên <lý do>: khen gương người tốt, việc tốt\n"
    "• /yeucau: câu hỏi đang chờ trả lời; /traloi YC<số> <nội dung>: trả lời\n"
    "• /baocao: các sự việc đang mở\n"
    "• /xuly <mã>, /xong <mã>, /bao_nham <mã>: cập nhật sự việc\n"
    "• /xacnhan: xác nhận tài khoản Zalo của điều phối viên mới"
)

HELP_ADMIN = "\nQuản trị: sửa danh sách thành viên trên trang quản lý."

UNKNOWN_COMMAND = "Bot chưa hiểu lệnh /{name}. Gõ /huongdan để xem các lệnh."
# {you}: the member's title ("anh"; "anh/chị" only when the roster gives none).
COORDINATOR_ONLY = "Lệnh /{name} dành cho điều phối viên. Cảm ơn {you} đã quan tâm!"
# {name}: "anh Quân"; {you}: "anh" (the member's title; "anh/chị" when unknown).
# A private "cảm ơn bot" with nothing else: thanked back, in a word.
THANKS_BACK = "Dạ, không có gì ạ. Cần gì {name} cứ nhắn bot nhé!"
NOT_UNDERSTOOD_PRIVATE = (
    "Chào {name}! Bot đã ghi nhận tin nhắn. Nếu cần báo sự việc, {you} nhắn rõ nội dung và"
    " địa điểm; gõ /huongdan để xem hướng dẫn."
)
# "Làm sao để báo sự cố?": answered at once with the help's line ({line}), not forwarded.
# {name}: "anh Tài"; {You}: "Anh" (the title opening a sentence).
HOWTO_ANSWER = "Chào {name}! {line}.{extra} {You} gõ /huongdan để xem đủ hướng dẫn."
HOWTO_FIRE = " Nếu có cháy, gọi ngay 114."  # asked how to report: a fire cannot wait for a chat
# "Bot làm được gì?": the help's labels in one sentence.
HOWTO_ABOUT = (
    "Bot giúp {you} báo sự việc, điểm danh, xác nhận thông báo, nhận và báo xong việc được giao,"
    " và chuyển câu hỏi tới điều phối viên"
)
# A voice note: the bot cannot listen, and must not seem to have taken a report from it.
VOICE_NOT_HEARD = (
    "Bot chưa nghe được tin nhắn thoại, {you} nhắn bằng chữ giúp bot nhé (việc gì, ở đâu)."
    " Nếu có cháy, gọi ngay 114."
)
WELCOME_GUEST = (
    "Chào {name}! Anh/chị chưa có trong danh sách Hội đồng; bot đã ghi nhận và đưa vào danh "
    "sách chờ điều phối viên xác nhận."
)


# Asked in a group, answered privately (it names people or what they owe): said in the group.
SENT_PRIVATELY = "Bot đã nhắn riêng cho {you} ạ."
# ... and when the bot has no private chat with the asker yet.
ASK_PRIVATELY = "{You} nhắn riêng cho bot “{words}” để xem nhé (tin này nêu tên người)."


def help_text(role: str) -> str:
    """Usage for the asker's role: members see their commands, coordinators see theirs too."""
    text = HELP_MEMBER
    if role in ("coordinator", "admin"):
        text += HELP_COORDINATOR
    if role == "admin":
        text += HELP_ADMIN
    return text


# Acknowledgements (issue 15): a late one is recorded and thanked, never refused.
ACK_LATE = "👍 Cảm ơn {name}! Bot đã ghi nhận xác nhận thông báo {code} (sau hạn)."
ACK_NOT_ADDRESSED = (
    "Thông báo {code} không gửi tới nhóm của anh/chị nên anh/chị không cần xác nhận. Cảm ơn!"
)
