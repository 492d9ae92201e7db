"""Writing export rows as JSON lines, CSV (with a BOM for Excel) or XLSX."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from handlers import labels
from handlers.texts.incidents import places_text

if TYPE_CHECKING:
    from handlers.digest import Digest

# A cell starting with one of these is run as a formula by Excel (CSV injection): chat text
# is user-supplied, so such cells get a leading apostrophe, which Excel shows as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What XML 1.0 does not allow in a document (control characters, lone surrogates, U+FFFE,
# U+FFFF): openpyxl writes them anyway and Excel or openpyxl then cannot open the file.
# Chat text can carry any of them, so every text cell is cleaned (issue 13).
XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)


def _cell(value: Any, tz: ZoneInfo) -> Any:
    """CSV/XLSX cells: lists joined, datetimes shown in local time."""
    if isinstance(value, datetime):
        return value.astimezone(tz).replace(tzinfo=None)
    if isinstance(value, list):
        return _text("; ".join(_flat(v) for v in value))
    if isinstance(value, dict):
        return _text(json.dumps(value, ensure_ascii=False))
    if isinstance(value, str):
        return _text(value)
    return value


def _text(value: str) -> str:
    value = XML_FORBIDDEN.sub("", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def _flat(v: Any) -> str:
    if isinstance(v, dict):
        return " ".join(str(x) for x in v.values() if x)
    return str(v)


# Which columns of which export hold a machine value people read as a word (issue 16.3).
VALUE_LABELS: dict[str, dict[str, Mapping[str, str]]] = {
    "messages": {"type": labels.MESSAGE_TYPE, "category": labels.CATEGORY},
    "reports": {
        "category": labels.CATEGORY,
        "severity": labels.SEVERITY,
        "status": labels.REPORT_STATUS,
    },
    "checkins": {"kind": labels.CHECKIN_KIND},
    "members": {"role": labels.ROLE, "status": labels.MEMBER_STATUS},
    "tasks": {"status": labels.TASK_STATUS},
    "nudges": {"channel": labels.NUDGE_CHANNEL},
    "outbox": {"kind": labels.OUTBOX_KIND, "status": labels.OUTBOX_STATUS},
    "requests": {"status": labels.REQUEST_STATUS},
}


async def for_people(
    kind: str, rows: AsyncIterator[dict[str, Any]], lang: str = "vi"
) -> AsyncIterator[dict[str, Any]]:
    """Rows as a spreadsheet shows them: in Vietnamese, machine values become words.

    With lang='en' the rows pass unchanged (the machine values are English already).
    """
    tables = VALUE_LABELS.get(kind, {})
    async for row in rows:
        if lang == "vi":
            row = dict(row)
            for col, table in tables.items():
                value = row.get(col)
                if isinstance(value, str):
                    row[col] = table.get(value, value)
            for col, value in row.items():
                if isinstance(value, bool):
                    row[col] = labels.YES_NO[value]
            if kind == "reports" and isinstance(row.get("places"), list):
                row["places"] = places_text(p for p in row["places"] if isinstance(p, dict))
        yield row


async def write_jsonl(rows: AsyncIterator[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    async for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
        n += 1
    return n


async def write_csv(
    rows: AsyncIterator[dict[str, Any]],
    columns: Iterable[str],
    out: IO[str],
    tz: ZoneInfo,
    headers: Sequence[str] | None = None,
    delimiter: str = ",",
) -> int:
    """CSV for Excel; `headers` names the columns for people (else the machine keys)."""
    # Excel reads UTF-8 only with a BOM; without it Vietnamese turns to mojibake.
    out.write("\ufeff")
    cols = list(columns)
    writer = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore", delimiter=delimiter)
    writer.writerow(dict(zip(cols, headers or cols, strict=True)))
    n = 0
    async for row in rows:
        cells = {k: _cell(v, tz) for k, v in row.items()}
        for k, v in cells.items():
            if isinstance(v, datetime):
                cells[k] = v.strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow(cells)
        n += 1
    return n


async def write_xlsx(
    rows: AsyncIterator[dict[str, Any]],
    columns: Iterable[str],
    out: IO[bytes],
    tz: ZoneInfo,
    title: str = "export",
    headers: Sequence[str] | None = None,
) -> int:
    """One sheet, header row frozen; `headers` names the columns for people."""
    cols = list(columns)
    names = list(headers or cols)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    ws.append(names)
    widths = [len(c) for c in names]
    n = 0
    async for row in rows:
        values = [_cell(row.get(c), tz) for c in cols]
        ws.append(values)
        for i, v in enumerate(values):
            widths[i] = max(widths[i], min(60, len(str(v)) if v is not None else 0))
        n += 1
    for i in range(1, len(cols) + 1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = widths[i - 1] + 2
        for cell in ws[letter][1:]:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    out.write(buf.getvalue())
    return n


ON_LEAVE_APART = "Nghỉ phép (không tính)"
DIGEST_FIGURES = (
    ("members", "Thành viên"),
    ("active", "Tham gia"),
    ("inactive", "Chưa hoạt động"),
    ("reengaged", "Quay lại sau nhắc"),
    ("messages", "Tin nhắn"),
    ("checkins", "Điểm danh"),
    ("checkins_night", "Điểm danh ban đêm"),
    ("night_share", "Tỉ lệ ban đêm"),
    ("patrols", "Tuần tra"),
    ("reports", "Báo cáo"),
    ("directives", "Thông báo"),
    ("acks", "Đã xác nhận"),
    ("acks_late", "Xác nhận trễ hạn"),
    ("expected_acks", "Cần xác nhận"),
    # Owed by members on leave for the whole window: not in "Cần xác nhận" nor the rate.
    ("acks_on_leave", ON_LEAVE_APART),
    ("ack_rate", "Tỉ lệ xác nhận"),
    ("tasks_done", "Việc xong"),
    ("tasks_overdue", "Việc quá hạn"),
    ("nudges_sent", "Lời nhắc đã gửi"),
    ("messages_sent", "Tin bot đã gửi"),
)


def digest_xlsx(digest: Digest) -> bytes:
    """The digest as a workbook: totals with last week, groups, enterprises, people, directives."""
    wb = Workbook()
    totals = wb.active
    assert totals is not None
    totals.title = "Tổng hợp"
    now, prev = digest.totals.to_dict(), digest.previous.to_dict() if digest.previous else {}
    last_week = labels.week_label(digest.trend[-2][0]) if prev else ""
    totals.append(["Chỉ số", labels.week_label(digest.week), last_week])
    for key, label in DIGEST_FIGURES:
        totals.append([label, now[key], prev.get(key)])
    for cat, n in sorted(now["reports_by_category"].items()):
        totals.append(
            [
                _text(f"Báo cáo: {labels.label(labels.CATEGORY, cat)}"),
                n,
                prev.get("reports_by_category", {}).get(cat, 0),
            ]
        )
    header = ["Tên"] + [label for _k, label in DIGEST_FIGURES]
    for title, items in (
        ("Nhóm", [(g.name, f) for g, f in digest.groups]),
        ("Doanh nghiệp", digest.enterprises),
    ):
        ws = wb.create_sheet(title)
        ws.append(header)
        for name, fig in items:
            values = fig.to_dict()
            ws.append([_text(name)] + [values[k] for k, _l in DIGEST_FIGURES])
    _shift_sheet(wb, digest)
    _incident_sheet(wb, digest)
    _request_sheet(wb, digest)
    ws = wb.create_sheet("Tích cực")
    ws.append(["Mã", "Tên", "Doanh nghiệp", "Lượt tương tác"])
    for m in digest.top_members:
        ws.append(
            [
                _cell(m.member_id, digest.tz),
                _text(m.name or m.member_id or "?"),  # as the chat text names them
                _text(m.enterprise or ""),
                m.interactions,
            ]
        )
    ws = wb.create_sheet("Chưa hoạt động")
    ws.append(["Mã", "Tên", "Doanh nghiệp", "Lần cuối"])
    for m in digest.inactive_members:
        ws.append(
            [
                _cell(m.member_id, digest.tz),
                _text(m.name or m.member_id or "?"),  # as the chat text names them
                _text(m.enterprise or ""),
                _cell(m.last_active_at, digest.tz),
            ]
        )
    ws = wb.create_sheet("Nghỉ phép")
    ws.append(["Mã", "Tên", "Doanh nghiệp", "Đến ngày"])
    for m, until in digest.on_leave:
        ws.append(
            [
                _cell(m.member_id, digest.tz),
                _text(m.name or m.member_id or "?"),  # as the chat text names them
                _text(m.enterprise or ""),
                _cell(until, digest.tz),
            ]
        )
    ws = wb.create_sheet("Thông báo")
    ws.append(
        [
            "Nội dung",
            "Gửi lúc",
            "Đã xác nhận",
            "Cần xác nhận",
            "Chưa xác nhận",
            "Xác nhận trễ",
            ON_LEAVE_APART,
        ]
    )
    for d in digest.pending_directives:
        away = [f"{who} (đến {until.astimezone(digest.tz):%d/%m})" for who, until in d.on_leave]
        ws.append(
            [
                _text(d.text),
                _cell(d.created_at, digest.tz),
                d.acked,
                d.expected,
                _text(", ".join(d.behind)),
                _text(", ".join(d.late)),
                _text(", ".join(away)),
            ]
        )
    for sheet in wb.worksheets:
        _fit(sheet)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, float):  # rates: ack_rate, night_share
                    cell.number_format = "0%"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _shift_sheet(wb: Workbook, digest: Digest) -> None:
    """Check-ins per enterprise and shift, by kind (the JSON's `shifts`)."""
    ws = wb.create_sheet("Theo ca")
    ws.append(
        ["Doanh nghiệp", "Ca", "Từ", "Đến", "Ca đêm", "Điểm danh", "Có mặt", "Vào ca", "Tuần tra"]
    )
    for s in digest.shifts:
        ws.append(
            [
                _text(s.enterprise),
                _text(s.shift),
                s.start.strftime("%H:%M") if s.start else "",
                s.end.strftime("%H:%M") if s.end else "",
                labels.YES_NO[s.night],
                s.checkins,
                s.attendance,
                s.shift_starts,
                s.patrols,
            ]
        )


def _incident_sheet(wb: Workbook, digest: Digest) -> None:
    """The week's incidents with how each ended, in the words of the chat and the pages."""
    ws = wb.create_sheet("Sự việc")
    ws.append(INCIDENT_HEADERS)
    # The JSON keeps places as typed; the sheet shows them as replies and pages do.
    for line, i in zip(digest.incidents, digest.to_json()["incidents"], strict=True):
        ws.append(
            [
                i["code"],
                labels.label(labels.CATEGORY, i["category"]),
                labels.label(labels.SEVERITY, i["severity"]),
                labels.label(labels.INCIDENT_STATE_AT, i["status"]),
                _text(places_text(line.place_items)),
                _local_cell(i["reported_at"]),
                _local_cell(i["acknowledged_at"]),
                _local_cell(i["resolved_at"]),
                _text(", ".join(i["reporters"])),
                _text(i["handler"] or ""),
                _text(i["outcome"] or ""),
                i["reports"],
            ]
        )


INCIDENT_HEADERS = [
    "Mã",
    "Loại",
    "Mức độ",
    "Trạng thái",
    "Nơi",
    "Báo lúc",
    "Nhận lúc",
    "Xong lúc",
    "Người báo",
    "Người xử lý",
    "Kết quả",
    "Số báo cáo",
]


def _request_sheet(wb: Workbook, digest: Digest) -> None:
    """Members' requests asked in the week, answered or still waiting."""
    ws = wb.create_sheet("Yêu cầu")
    ws.append(["Mã", "Người hỏi", "Nội dung", "Hỏi lúc", "Trả lời lúc", "Tình trạng"])
    for r in digest.to_json()["requests"]:
        state = "answered" if r["answered_at"] else "open"
        ws.append(
            [
                r["code"],
                _text(r["member_id"] or ""),
                _text(r["text"]),
                _local_cell(r["asked_at"]),
                _local_cell(r["answered_at"]),
                labels.REQUEST_STATUS[state],
            ]
        )


def _local_cell(iso: str | None) -> datetime | None:
    """A local ISO time from the digest JSON as the naive local datetime Excel shows."""
    return datetime.fromisoformat(iso).replace(tzinfo=None) if iso else None


def _fit(ws: Any) -> None:
    """Column widths from the longest value, dates formatted, header row frozen."""
    for column in ws.iter_cols():
        width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        ws.column_dimensions[column[0].column_letter].width = min(60, width + 2)
        for cell in column:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    ws.freeze_panes = "A2"
