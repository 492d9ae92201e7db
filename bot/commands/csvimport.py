"""What `members import` and `posts import` share: reading the CSV (or the Excel sheet it was
saved from) and printing the result."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Protocol

from bot.cli import EXIT_FAIL, EXIT_OK
from bot.tablefile import table_text


class ImportResult(Protocol):
    """The counts and per-line errors of a CSV import (roster or posts)."""

    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[str]


async def read_csv_text(path: Path) -> str:
    """The file's text off the event loop (see `table_text`)."""
    return await asyncio.to_thread(table_text, path)


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
