"""What `members import` and `posts import` share: reading the CSV and printing the result."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Protocol

from bot.cli import EXIT_FAIL, EXIT_OK, UsageError


class ImportResult(Protocol):
    """The counts and per-line errors of a CSV import (roster or posts)."""

    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[str]


async def read_csv_text(path: Path) -> str:
    """The file as text (UTF-8, with or without Excel's BOM); a clear usage error otherwise."""
    try:
        return (await asyncio.to_thread(path.read_bytes)).decode("utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 (save the CSV as 'CSV UTF-8' in Excel)") from None
    except OSError as exc:  # a folder, no permission: the reason, not the exception's name
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def report_import(path: Path, result: ImportResult) -> int:
    """Each rejected line on stderr, the counts on stdout; exit 1 if anything was refused."""
    for err in result.errors:
        print(f"{path}: {err}", file=sys.stderr)
    print(
        f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.rejected} rejected"
    )
    fatal = any(e.startswith("header: missing") for e in result.errors)
    return EXIT_FAIL if fatal or result.rejected else EXIT_OK
