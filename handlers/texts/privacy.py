"""What members read about their personal data (Decree 13/2023/NĐ-CP, docs/privacy.md)."""

from __future__ import annotations

NOTICE = "🔒 Bot lưu tên, số điện thoại và tin nhắn anh/chị gửi để phục vụ công tác ANTT. Chi tiết: {where}"

PAGE_PATH = "/dashboard/baomat"

# The sent digests' line, said by /baomat and shown on the dashboard's page in the same words.
SENT_DIGESTS = "Bản tổng kết tuần đã gửi (có tên thành viên)"
SENT_DIGESTS_USE = "Xem lại tuần đó đã gửi gì, gửi người nhận sau đúng nội dung ấy"


def summary(messages_days: int, photos_days: int, inbox_days: int, digests_days: int) -> str:
    """The /baomat answer: what is kept, why, for how long, and how to ask for it or erase it."""
    return "\n".join(
        [
            "🔒 Dữ liệu cá nhân bot lưu (theo Nghị định 13/2023/NĐ-CP):",
            "• Tên, số điện thoại, doanh nghiệp: để gọi đúng người và báo cho điều phối viên.",
            f"• Tin nhắn gửi bot và trong nhóm: {messages_days} ngày, để ghi nhận báo cáo, điểm danh.",
            f"• Ảnh kèm báo cáo: {photos_days} ngày.",
            f"• Dữ liệu kỹ thuật (hộp thư đến): {inbox_days} ngày.",
            f"• {SENT_DIGESTS}: {digests_days} ngày.",
            "• Báo cáo sự việc giữ loại, thời gian, địa điểm để thống kê.",
            "Muốn xem hoặc xoá dữ liệu của mình, anh/chị nhắn điều phối viên.",
        ]
    )
