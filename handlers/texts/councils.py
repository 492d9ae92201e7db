"""Several parks on one installation (issue 20): the park question and alerts' park."""

from __future__ import annotations

# A member of two parks' councils writes privately: asked once which park it is about.
ASK_PARK = (
    "Anh/chị đang ở Hội đồng ANTT của nhiều KCN. Tin này về KCN nào ạ?\n"
    "{choices}\n"
    "Anh/chị trả lời số hoặc tên KCN (vd: 1)."
)
CHOICE = "{n}. {name}"
PARK_CHOSEN = "✅ Bot ghi nhận: các tin nhắn riêng của anh/chị là về {name}."
PARK_AGAIN = (
    "Bot chưa rõ anh/chị chọn KCN nào. Anh/chị trả lời số 1 đến {n} hoặc tên KCN giúp bot ạ."
)
# The province's copy of an urgent alert says which park it comes from.
PROVINCE_COPY = "🏭 {park}\n{alert}"
