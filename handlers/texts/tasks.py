"""What the bot says about assigning, accepting, finishing and cancelling tasks."""

from __future__ import annotations

# {you}: the assignee's title ("đồng chí", "chị"; "anh/chị" when unknown), {You} opening it.
TASK_ASSIGNED = (
    "📝 {You} được giao việc {code}: {text}{due}.\n"
    'Trả lời "nhận việc" vào tin này để báo đã nhận; làm xong trả lời "xong" (kèm ghi chú '
    "nếu có) hoặc nhắn /xong {code}. Cảm ơn {you}!"
)
# Added to "Đã giao việc ..." when the task's message waits for the morning; {you}: the
# coordinator's title.
TASK_HELD_FOR_MORNING = (
    "\n🌙 Đang ngoài giờ nên bot sẽ gửi việc lúc {at}. Nếu gấp, {you} gọi điện trực tiếp "
    "cho người nhận nhé."
)
# Added to "Đã giao việc ..." for each assignee the bot has no private chat with: where the
# task went ({group}), or that it reached nobody; {name}: "anh Nam", {you} the giver's title.
TASK_SENT_TO_GROUP = "\n📣 Bot gửi việc vào nhóm {group} vì {name} chưa nhắn riêng cho bot."
TASK_UNREACHED = (
    "\n⚠️ Bot không báo được việc này cho {name} (chưa nhắn riêng cho bot, không ở nhóm nào"
    " bot biết); {you} báo trực tiếp giúp nhé."
)
TASK_CREATED_MANY = "📝 Đã giao việc cho {n} người: {who}. Nội dung: {text}{due}."
TASK_CREATED_ONE = "{name} ({code})"
TASK_PICK_NEXT = (
    'Còn "{name}" có {n} người khớp:\n{options}\nTrả lời số thứ tự để chọn người nhận việc.'
)
TASK_ACCEPTED = "👍 Đã ghi nhận {name} nhận việc {code}. Cảm ơn {you}!"
# Accepted before the task message went out: the reply carries the task, and is quoted to close it.
TASK_ACCEPTED_UNSENT = (
    "👍 Đã ghi nhận {name} nhận việc {code}: {text}{due}.\n"
    'Làm xong trả lời "xong" vào tin này (kèm ghi chú nếu có) hoặc nhắn /xong {code}. '
    "Cảm ơn {you}!"
)
TASK_ACCEPTED_ALREADY = "{You} đã nhận việc {code} rồi. Cảm ơn {you}!"
TASK_DONE_LATE = "✅ Việc {code} đã hoàn thành (trễ hạn {due}). Cảm ơn {name}!"
TASK_DONE_NOTIFY = "✅ {name} đã hoàn thành việc {code}: {text}.{late}{note}"
TASK_DONE_NOTIFY_LATE = " Trễ hạn ({due})."
TASK_DONE_NOTIFY_NOTE = "\nGhi chú: {note}"
TASK_CANCELLED = "Việc {code} đã hủy trước đó rồi."
# "xong" unquoted with one open task; {Name}: "Anh Tài"; {note}: TASK_DONE_ASK_NOTE or "".
TASK_DONE_ASK = (
    '{Name} xong việc {code} ({text}) rồi phải không? Trả lời "đúng" để bot ghi nhận{note}.'
)
TASK_DONE_ASK_NOTE = ', kèm ghi chú: "{note}"'
TASK_DONE_ASK_NO = "Việc {code} vẫn để mở. Khi xong, {you} nhắn /xong {code} kèm ghi chú nhé."
TASK_DONE_WHICH = "{You} đang có các việc {codes}. Việc nào đã xong, nhắn /xong CV<số> kèm ghi chú."

CANCEL_USAGE = "Cú pháp: /huy CV3 (hủy việc), /huy TB2 (hủy thông báo), /huy SV5 (báo nhầm)."
CANCEL_NOT_ALLOWED = "Chỉ người tạo {code} hoặc quản trị viên mới hủy được."
TASK_CANCEL_DONE = "Đã hủy việc {code} giao cho {name}."
# After TASK_CANCEL_DONE, when the task's message had not gone out yet (held for the morning).
TASK_CANCEL_UNSENT = " Tin giao việc chưa gửi đi nên bot không báo gì thêm."
# {Name}: the assignee ("Chị Lan"): the notice may go to the group the task was given in.
TASK_CANCEL_NOTICE = "Việc {code} ({text}) đã được hủy. {Name} không cần làm nữa. Cảm ơn {you}!"
TASK_CANCEL_CLOSED = "Việc {code} đã hoàn thành, không hủy được nữa."
DIRECTIVE_NOT_FOUND = "Không tìm thấy thông báo {code}."
DIRECTIVE_CANCEL_DONE = "Đã hủy thông báo {code} và báo lại {groups}."
DIRECTIVE_CANCEL_POST = "📢 Thông báo {code} đã được hủy. Các đồng chí không cần xác nhận nữa."
DIRECTIVE_CANCEL_CLOSED = "Thông báo {code} đã kết thúc hoặc đã hủy trước đó."
