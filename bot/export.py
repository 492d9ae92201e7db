"""Writing export rows as JSON lines, CSV (with a BOM for Excel) or XLSX."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import pickle
import re
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from handlers import labels
from handlers.texts.engagement import away_label
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
    # The incidents page's and the chat's words for the same statuses.
    "incidents": {
        "category": labels.CATEGORY,
        "severity": labels.SEVERITY,
        "status": labels.INCIDENT_STATUS,
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
            if kind in ("reports", "incidents") and isinstance(row.get("places"), list):
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


class SheetSpool:
    """One export's rows as the sheet's cells, in pickled batches in a temporary file.

    A write-only sheet takes its column widths before its first row, and a width comes from
    the column's longest value: the rows wait on disk, a batch at a time, until all are seen.
    """

    def __init__(
        self, columns: Iterable[str], tz: ZoneInfo, headers: Sequence[str] | None = None
    ) -> None:
        self.columns = list(columns)
        self.names = list(headers or self.columns)
        self.tz = tz
        self.widths = [len(c) for c in self.names]
        self.rows = 0
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())

    def __enter__(self) -> SheetSpool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.file.close()

    def add(self, batch: Sequence[Mapping[str, Any]]) -> None:
        """Rows to cells, widths grown, the batch appended; CPU work, so run in a thread."""
        cells = [[_cell(row.get(c), self.tz) for c in self.columns] for row in batch]
        for values in cells:
            for i, v in enumerate(values):
                if v is not None:
                    self.widths[i] = max(self.widths[i], min(60, len(str(v))))
        pickle.dump(cells, self.file, pickle.HIGHEST_PROTOCOL)
        self.rows += len(cells)

    async def fill(self, rows: AsyncIterator[dict[str, Any]]) -> int:
        """Every row, SPOOL_ROWS at a time through a thread; the loop stays free meanwhile."""
        batch: list[dict[str, Any]] = []
        async for row in rows:
            batch.append(row)
            if len(batch) == SPOOL_ROWS:
                await asyncio.to_thread(self.add, batch)
                batch = []
        if batch:
            await asyncio.to_thread(self.add, batch)
        return self.rows

    def _batches(self) -> Iterator[list[list[Any]]]:
        self.file.seek(0)
        while True:
            try:
                yield pickle.load(self.file)  # our own file, written by add()
            except EOFError:
                return

    def save(self, out: IO[bytes], title: str) -> None:
        """The workbook, one sheet, header row frozen, into `out`; run it in a thread."""
        wb = Workbook(write_only=True)
        ws = _new_sheet(wb, title, self.names, [w + 2 for w in self.widths])
        for batch in self._batches():
            for values in batch:
                ws.append(_styled(ws, values))
        wb.save(out)


SPOOL_ROWS = 1000  # rows per trip to the thread, and per pickled batch in the spool
DATE_FORMAT = "yyyy-mm-dd hh:mm"


def _new_sheet(wb: Workbook, title: str, header: Sequence[Any], widths: Sequence[float]) -> Any:
    """A write-only sheet with its widths, frozen header row and header, ready for rows."""
    ws = wb.create_sheet(title[:31])
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.append(list(header))
    return ws


def _styled(ws: Any, values: Sequence[Any], percent: bool = False) -> list[Any]:
    """A row for a write-only sheet: dates (and, with `percent`, rates) as formatted cells."""
    row: list[Any] = []
    for v in values:
        if isinstance(v, datetime):
            fmt = DATE_FORMAT
        elif percent and isinstance(v, float):  # the digest's ack_rate, night_share
            fmt = "0%"
        else:
            row.append(v)
            continue
        cell = WriteOnlyCell(ws, value=v)
        cell.number_format = fmt
        row.append(cell)
    return row


async def write_xlsx(
    rows: AsyncIterator[dict[str, Any]],
    columns: Iterable[str],
    out: IO[bytes],
    tz: ZoneInfo,
    title: str = "export",
    headers: Sequence[str] | None = None,
) -> int:
    """One sheet, header row frozen; `headers` names the columns for people.

    Rows are spooled to disk and the workbook written in a thread: memory stays flat."""
    with SheetSpool(columns, tz, headers) as spool:
        n = await spool.fill(rows)
        await asyncio.to_thread(spool.save, out, title)
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


# A digest sheet: its name and rows, the header row first.
Sheet = tuple[str, list[list[Any]]]


def digest_xlsx(digest: Digest) -> bytes:
    """The digest as a workbook: totals with last week, groups, enterprises, people, directives."""
    header = ["Tên"] + [label for _k, label in DIGEST_FIGURES]
    sheets: list[Sheet] = [_totals_sheet(digest)]
    for title, items in (
        ("Nhóm", [(g.name, f) for g, f in digest.groups]),
        ("Doanh nghiệp", digest.enterprises),
    ):
        rows: list[list[Any]] = [header]
        for name, fig in items:
            values = fig.to_dict()
            rows.append([_text(name)] + [values[k] for k, _l in DIGEST_FIGURES])
        sheets.append((title, rows))
    sheets += [_shift_sheet(digest), _incident_sheet(digest), _request_sheet(digest)]
    sheets += _people_sheets(digest)
    sheets.append(_directive_sheet(digest))
    return _workbook(sheets)


def _totals_sheet(digest: Digest) -> Sheet:
    """The week's figures beside last week's, then reports by category."""
    now, prev = digest.totals.to_dict(), digest.previous.to_dict() if digest.previous else {}
    last_week = labels.week_label(digest.trend[-2][0]) if prev else ""
    rows: list[list[Any]] = [["Chỉ số", labels.week_label(digest.week), last_week]]
    for key, label in DIGEST_FIGURES:
        rows.append([label, now[key], prev.get(key)])
    for cat, n in sorted(now["reports_by_category"].items()):
        rows.append(
            [
                _text(f"Báo cáo: {labels.label(labels.CATEGORY, cat)}"),
                n,
                prev.get("reports_by_category", {}).get(cat, 0),
            ]
        )
    return "Tổng hợp", rows


def _people_sheets(digest: Digest) -> list[Sheet]:
    """The most active members, those not active yet, and those on leave."""
    tz = digest.tz

    def person(m: Any, last: Any) -> list[Any]:
        return [
            _cell(m.member_id, tz),
            _text(m.name or m.member_id or "?"),  # as the chat text names them
            _text(m.enterprise or ""),
            last,
        ]

    head = ["Mã", "Tên", "Doanh nghiệp"]
    return [
        (
            "Tích cực",
            [[*head, "Lượt tương tác"]] + [person(m, m.interactions) for m in digest.top_members],
        ),
        (
            "Chưa hoạt động",
            [[*head, "Lần cuối"]]
            + [person(m, _cell(m.last_active_at, tz)) for m in digest.inactive_members],
        ),
        (
            "Nghỉ phép",
            [[*head, "Đến ngày", "Nghỉ"]]
            + [
                [*person(m, _cell(leave.end, tz)), away_label(leave, tz)]
                for m, leave in digest.on_leave
            ],
        ),
    ]


def _directive_sheet(digest: Digest) -> Sheet:
    """Directives still owed: who acknowledged, who not, who late, who on leave."""
    rows: list[list[Any]] = [
        [
            "Nội dung",
            "Gửi lúc",
            "Đã xác nhận",
            "Cần xác nhận",
            "Chưa xác nhận",
            "Xác nhận trễ",
            ON_LEAVE_APART,
        ]
    ]
    for d in digest.pending_directives:
        away = [f"{who} ({away_label(leave, digest.tz)})" for who, leave in d.on_leave]
        rows.append(
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
    return "Thông báo", rows


def _shift_sheet(digest: Digest) -> Sheet:
    """Check-ins per enterprise and shift, by kind (the JSON's `shifts`)."""
    rows: list[list[Any]] = [
        [
            "Doanh nghiệp",
            "Ca",
            "Từ",
            "Đến",
            "Ca đêm",
            "Điểm danh",
            "Có mặt",
            "Vào ca",
            "Hết ca",
            "Tuần tra",
        ]
    ]
    for s in digest.shifts:
        rows.append(
            [
                _text(s.enterprise),
                _text(s.shift),
                s.start.strftime("%H:%M") if s.start else "",
                s.end.strftime("%H:%M") if s.end else "",
                labels.YES_NO[s.night],
                s.checkins,
                s.attendance,
                s.shift_starts,
                s.shift_ends,
                s.patrols,
            ]
        )
    return "Theo ca", rows


def _incident_sheet(digest: Digest) -> Sheet:
    """The week's incidents with how each ended, in the words of the chat and the pages."""
    rows: list[list[Any]] = [list(INCIDENT_HEADERS)]
    # The JSON keeps places as typed; the sheet shows them as replies and pages do.
    for line, i in zip(digest.incidents, digest.to_json()["incidents"], strict=True):
        rows.append(
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
    return "Sự việc", rows


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


def _request_sheet(digest: Digest) -> Sheet:
    """Members' requests asked in the week, answered or still waiting."""
    rows: list[list[Any]] = [
        ["Mã", "Người hỏi", "Nội dung", "Hỏi lúc", "Trả lời lúc", "Tình trạng"]
    ]
    for r in digest.to_json()["requests"]:
        state = "answered" if r["answered_at"] else "open"
        rows.append(
            [
                r["code"],
                _text(r["member_id"] or ""),
                _text(r["text"]),
                _local_cell(r["asked_at"]),
                _local_cell(r["answered_at"]),
                labels.REQUEST_STATUS[state],
            ]
        )
    return "Yêu cầu", rows


def _local_cell(iso: str | None) -> datetime | None:
    """A local ISO time from the digest JSON as the naive local datetime Excel shows."""
    return datetime.fromisoformat(iso).replace(tzinfo=None) if iso else None


def _workbook(sheets: Sequence[Sheet]) -> bytes:
    """Write-only sheets, each fitted to its values, dates and rates formatted."""
    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = _new_sheet(wb, title, rows[0], _fitted(rows))
        for values in rows[1:]:
            ws.append(_styled(ws, values, percent=True))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _fitted(rows: Sequence[Sequence[Any]]) -> list[float]:
    """Column widths from the longest value, header included (8 for an empty column)."""
    widths: list[float] = []
    for i in range(max(len(r) for r in rows)):
        shown = (len(str(r[i])) for r in rows if i < len(r) and r[i] is not None)
        widths.append(min(60, max(shown, default=8) + 2))
    return widths
