"""Split long text into chunks a platform accepts, counting UTF-16 code units like Zalo."""

from __future__ import annotations

import re

ZALO_MAX_UNITS = 2000


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: characters outside the BMP (most emoji) count 2."""
    # Encoded in C (a lone surrogate passes as the one unit it is), not counted character
    # by character in Python: every send measures its whole text.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_text(text: str, limit: int = ZALO_MAX_UNITS) -> list[str]:
    """Chunks of at most `limit` units, breaking at paragraph, then line, then word."""
    text = text.strip()
    if not text:
        return []
    if len(text) * 2 <= limit:
        return [text]  # the usual message: even all of it outside the BMP would fit
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _best_cut(rest, limit)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            chunks.append(head)
    if rest:
        chunks.append(rest)
    return chunks


def _prefix_fitting(text: str, limit: int) -> int:
    """Number of characters of `text` whose UTF-16 length is at most `limit`."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def _best_cut(text: str, limit: int) -> int:
    window_end = _prefix_fitting(text, limit)
    window = text[:window_end]
    # Prefer the last break of the strongest kind that keeps the chunk at least a third full.
    floor = window_end // 3
    for pattern in (r"\n\s*\n", r"\n", r"\s"):
        last = None
        for match in re.finditer(pattern, window):
            last = match
        if last is not None and last.start() >= floor:
            return last.end() if pattern != r"\s" else last.start() + 1
    return max(window_end, 1)
