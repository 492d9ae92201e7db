"""Fold the corpus to its unaccented twin (standard library only).

Usage: python tests/data/understanding/fold.py  (reads corpus.jsonl, writes corpus_folded.jsonl)
The fold: NFD, drop combining marks, đ->d, Đ->D. `ambiguous` is recomputed by `folds_ambiguous`.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Accented words and phrases whose folded form has another common reading (chay: cháy/chạy/
# chảy). A line that used one of them typed with diacritics becomes ambiguous once folded,
# because its reading then rests on that word. Matched whole-word on the NFC lower-case text.
AMBIGUOUS_SOURCES: tuple[str, ...] = (
    "cháy",  # chay: chạy (run), chảy (flow), chay (vegetarian)
    "chạy",  # chay: cháy
    "chảy",  # chay: cháy
    "nổ",  # no: no (full), nợ (debt)
    "rơi",  # roi: rồi (already)
    "đâm",  # dam: đám, đầm
    "chém",  # chem: chêm
    "trộm",  # trom: trộm only in context, trơm
    "lạ",  # la: là, la (shout)
    "ma túy",  # ma tuy: mà tuy
    "ma tuý",
    "hỏng",  # hong: hông (= không), hồng
    "cây đổ",  # cay do: cây đó, cây đỏ
    "sét",  # set: sết, set (a set)
    "giật",  # giat: giặt (wash)
    "tràn dầu",  # tran dau: trận đấu (match)
    "lửa",  # lua: lúa (rice), lùa (herd)
    "bị mất",  # bi mat: bí mật (secret)
    "gây rối",  # gay roi: gãy rồi (broken already)
    "bỏng",  # bong: bông, bóng
    "ngạt",  # ngat: ngát
    "sập",  # sap: sắp (about to)
    "tông",  # tong: tổng
)

# Fixed phrases that settle the word (chữa cháy is never chạy): removed before matching.
SETTLED: tuple[str, ...] = ("chữa cháy", "báo cháy", "phòng cháy", "chống cháy", "cháy nổ")
# Only these types can rest on such a word; an absence, check-in, ack, not-ack, question or
# command is read from other words (xin nghỉ, có mặt, đã nhận, ?, /lệnh).
AMBIGUOUS_TYPES = frozenset({"incident", "all_clear", "other"})

_PATTERNS = [re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)") for word in AMBIGUOUS_SOURCES]


def fold(text: str) -> str:
    """Drop every diacritic: NFD, remove combining marks, đ->d."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare.replace("đ", "d").replace("Đ", "D"))


def without_settled(lowered: str) -> str:
    """`lowered` with the SETTLED phrases (accented or folded) blanked out."""
    for phrase in SETTLED:
        for form in (phrase, fold(phrase)):
            lowered = re.sub(r"(?<!\w)" + re.escape(form) + r"(?!\w)", " ", lowered)
    return lowered


def folds_ambiguous(text: str) -> bool:
    """True when `text`, once folded, would rest on a word listed in AMBIGUOUS_SOURCES."""
    lowered = without_settled(unicodedata.normalize("NFC", text).lower())
    return any(pattern.search(lowered) for pattern in _PATTERNS)


def fold_row(row: dict) -> dict:
    """The unaccented twin of one corpus row (text, places and reason folded)."""
    twin = dict(row)
    twin["text"] = fold(row["text"])
    twin["ambiguous"] = bool(row["ambiguous"]) or (
        row["type"] in AMBIGUOUS_TYPES and folds_ambiguous(row["text"])
    )
    twin["accents"] = "none"
    if row.get("places"):
        twin["places"] = [[kind, fold(code) if code else code] for kind, code in row["places"]]
    if row.get("reason"):
        twin["reason"] = fold(row["reason"])
    return twin


def main(argv: list[str]) -> int:
    """Write corpus_folded.jsonl next to corpus.jsonl, one twin per row, duplicates dropped
    (the first of two lines that fold to the same text, ignoring case and spacing, is kept)."""
    source = Path(argv[1]) if len(argv) > 1 else HERE / "corpus.jsonl"
    target = Path(argv[2]) if len(argv) > 2 else HERE / "corpus_folded.jsonl"
    seen: set[str] = set()
    lines = []
    for raw in source.read_text(encoding="utf-8").splitlines():
        twin = fold_row(json.loads(raw))
        key = " ".join(twin["text"].lower().split())
        if key in seen:
            continue
        seen.add(key)
        lines.append(json.dumps(twin, ensure_ascii=False))
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{target.name}: {len(lines)} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
