"""What the bot says when asked for an emergency or park number."""

from __future__ import annotations

HEAD = "📞 Số điện thoại khẩn cấp:"
LINE = "• {name}: {phone}"
# The country's numbers (Vietnam), always known; free from any phone.
NATIONAL = (
    ("fire", "Báo cháy, cứu nạn cứu hộ", "114"),
    ("police", "Công an", "113"),
    ("ambulance", "Cấp cứu", "115"),
)
