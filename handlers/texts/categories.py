"""One Vietnamese label per incident category, used by every text, export and page."""

from __future__ import annotations

CATEGORY = {
    "fire": "cháy/nổ",
    "theft": "trộm cắp",
    "fight": "đánh nhau/gây rối",
    "traffic": "tai nạn giao thông",
    "strike": "đình công/ngừng việc",
    "drugs": "ma túy",
    "suspicious": "đối tượng khả nghi",
    "accident": "tai nạn lao động",
    "poisoning": "ngộ độc",
    "hazmat": "hóa chất/ô nhiễm",
    "disaster": "thiên tai/ngập lụt",
    "equipment": "hỏng thiết bị/camera",
    "inspection": "kiểm tra/diễn tập",
    "other": "khác",
}
