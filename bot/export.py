"""Writing export rows as JSON lines, CSV (with a BOM for Excel) or XLSX."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.utils import get_column_letter


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
        return "; ".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _flat(v: Any) -> str:
    if isinstance(v, dict):
        return " ".join(str(x) for x in v.values() if x)
    return str(v)


async def write_jsonl(rows: AsyncIterator[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    async for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
        n += 1
    return n


async def write_csv(rows: AsyncIterator[dict[str, Any]], columns: Iterable[str], out: IO[str],
                    tz: ZoneInfo) -> int:
    out.write("\ufeff")  # Excel reads UTF-8 only with a BOM; without it Vietnamese turns to mojibake
    cols = list(columns)
    writer = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore")
    writer.writeheader()
    n = 0
    async for row in rows:
        cells = {k: _cell(v, tz) for k, v in row.items()}
        for k, v in cells.items():
            if isinstance(v, datetime):
                cells[k] = v.strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow(cells)
        n += 1
    return n


async def write_xlsx(rows: AsyncIterator[dict[str, Any]], columns: Iterable[str], out: IO[bytes],
                     tz: ZoneInfo, title: str = "export") -> int:
    cols = list(columns)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    ws.append(cols)
    widths = [len(c) for c in cols]
    n = 0
    async for row in rows:
        values = [_cell(row.get(c), tz) for c in cols]
        ws.append(values)
        for i, v in enumerate(values):
            widths[i] = max(widths[i], min(60, len(str(v)) if v is not None else 0))
        n += 1
    for i, c in enumerate(cols, start=1):
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
