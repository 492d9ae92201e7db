"""A list handed over as a file: CSV (UTF-8, with or without Excel's BOM) or the Excel
workbook it came from, read as CSV text (the roster, the propaganda calendar)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

from bot.cli import UsageError


def table_text(path: Path, label: str | None = None) -> str:
    """The file as text (UTF-8, with or without Excel's BOM), or an Excel workbook's first
    sheet as CSV text (councils hand their lists over as .xlsx); a clear usage error naming
    `label` (the path by default) otherwise."""
    name = label or str(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _sheet_as_csv(path, name)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{name}: file not found") from None
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not UTF-8 (save the CSV as 'CSV UTF-8' in Excel)") from None
    except OSError as exc:  # a folder, no permission: the reason, not the exception's name
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None


def _sheet_as_csv(path: Path, name: str) -> str:
    """The first sheet's rows as CSV text, every cell as it reads: whole numbers without ".0",
    dates as "2026-12-01 09:00", empty rows left out."""
    from openpyxl import load_workbook  # only when a workbook is given: a slow import

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise UsageError(f"{name}: file not found") from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UsageError(
            f"{name}: not an Excel workbook (.xlsx); or save it as 'CSV UTF-8'"
        ) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        out = io.StringIO()
        writer = csv.writer(out)
        for row in sheet.iter_rows(values_only=True) if sheet is not None else ():
            cells = [_cell_text(v) for v in row]
            if any(cells):
                writer.writerow(cells)
        return out.getvalue()
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """One cell as a person reads it in Excel."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
