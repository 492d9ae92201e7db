"""The provincial overview as a workbook: every park, who needs attention, the trend."""

from __future__ import annotations

import io

from openpyxl import Workbook

from bot.export import ON_LEAVE_APART, _text
from handlers import labels
from handlers.province import ProvinceDigest

# Column label -> the key of ProvinceDigest.figures_json per park (labels as on the dashboard).
PARK_COLUMNS = (
    ("Thành viên", "members"),
    ("Tham gia", "active"),
    ("Tỉ lệ tham gia", "participation"),
    ("Tin nhắn", "messages"),
    ("Điểm danh", "checkins"),
    ("Điểm danh ban đêm", "checkins_night"),
    ("Tuần tra", "patrols"),
    ("Báo cáo", "reports"),
    ("Sự việc mới", "incidents_new"),
    ("Sự việc đang mở", "incidents_open"),
    ("Trung vị đến khi nhận (phút)", "median_ack_minutes"),
    ("Trung vị đến khi xong (phút)", "median_resolve_minutes"),
    ("Thông báo", "directives"),
    ("Cần xác nhận", "expected_acks"),
    (ON_LEAVE_APART, "acks_on_leave"),  # not in "Cần xác nhận" nor the rate
    ("Đã xác nhận", "acks"),
    ("Tỉ lệ xác nhận", "ack_rate"),
    ("Yêu cầu", "requests"),
    ("Yêu cầu đã trả lời", "requests_answered"),
)
RATES = ("participation", "ack_rate")


def province_xlsx(digest: ProvinceDigest) -> bytes:
    """Sheets: the parks (and the province's row), attention, the trend per park."""
    data = digest.to_json()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Toàn tỉnh"
    ws.append(["KCN", *(label for label, _k in PARK_COLUMNS)])
    rows = [(p.name, digest.figures_json(p.figures)) for p in digest.parks]
    rows.append(("Toàn tỉnh", data["province"]))
    for name, values in rows:
        ws.append([_text(name), *(values[key] for _l, key in PARK_COLUMNS)])
    rate_cols = [i + 2 for i, (_l, key) in enumerate(PARK_COLUMNS) if key in RATES]
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.column in rate_cols and isinstance(cell.value, float):
                cell.number_format = "0%"
    cats = sorted({c for _n, v in rows for c in v["reports_by_category"]})
    if cats:
        ws = wb.create_sheet("Báo cáo theo loại")
        ws.append(["KCN", *(labels.label(labels.CATEGORY, c) for c in cats)])
        for name, values in rows:
            ws.append([_text(name), *(values["reports_by_category"].get(c, 0) for c in cats)])
    ws = wb.create_sheet("Cần quan tâm")
    ws.append(["KCN", "Lý do"])
    for park in digest.attention:
        for reason in park.reasons:
            ws.append([_text(park.name), _text(reason.text)])
    ws = wb.create_sheet("Xu hướng")
    ws.append(["Tuần", "KCN", "Thành viên", "Tham gia", "Điểm danh", "Tuần tra", "Báo cáo"])
    names = {p.id: p.name for p in digest.parks}
    for week in data["trend"]:
        label = labels.week_label(week["week"])
        for council, h in [*week["councils"].items(), ("", week["province"])]:
            name = names.get(council, "Toàn tỉnh")
            figures = [h[k] for k in ("members", "active", "checkins", "patrols", "reports")]
            ws.append([label, _text(name), *figures])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
