"""Print the corpus counts (by type, category, register, channel, accents) as Markdown.

Usage: python tests/data/understanding/stats.py [corpus.jsonl]
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELDS = ("type", "category", "severity", "register", "channel", "accents", "ambiguous")


def counts(rows: list[dict]) -> dict[str, Counter[str]]:
    """Counter per field; a missing value counts as '-'."""
    out: dict[str, Counter[str]] = {}
    for field in FIELDS:
        out[field] = Counter(
            str(row.get(field) if row.get(field) is not None else "-") for row in rows
        )
    return out


def _folded(row: dict) -> str:
    decomposed = unicodedata.normalize("NFD", row["text"].lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _has(pattern: str) -> Callable[[dict], bool]:
    return lambda row: re.search(pattern, _folded(row)) is not None


# What the issue asks the parser to get right, and how many lines exercise each.
TRAPS: dict[str, Callable[[dict], bool]] = {
    "chay/chạy/chảy not a fire": lambda r: _has(r"\bchay\b")(r) and r["category"] != "fire",
    "chảy máu / máu chảy": _has(r"chay mau|mau chay"),
    "checked, false alarm, negated (all_clear)": lambda r: r["type"] == "all_clear",
    "drill or inspection (never fire)": lambda r: r["category"] == "inspection",
    "typo or keyboard slip": lambda r: "typo" in r,
    "notice or schedule (other)": lambda r: r["register"] == "notice" and r["type"] == "other",
    "lateness or leave (absent)": lambda r: r["type"] == "absent",
    "thanks, greeting, sticker, emoji (other)": lambda r: (
        r["type"] == "other"
        and (_has(r"cam on|chao|chuc|\[")(r) or not re.search(r"[a-z]", _folded(r)))
    ),
    "apology or nothing seen (other)": lambda r: (
        r["type"] == "other" and _has(r"xin loi|khong thay")(r)
    ),
    "formal or news vocabulary": _has(
        r"hoa hoan|boc chay|chay lan|phat no|hon chien|au da|hung khi|dam chem|va cham|\btong\b"
        r"|cuon vao gam|tu vong|cay pha|dot nhap|trom cap|tang tru|tu tap|ngung viec|bien ban"
    ),
    "new categories (accident, poisoning, hazmat, disaster)": lambda r: (
        r["category"] in {"accident", "poisoning", "hazmat", "disaster"}
    ),
    "severity high": lambda r: r["severity"] == "high",
    "severity low": lambda r: r["severity"] == "low",
    "long message (3+ sentences)": lambda r: len(re.findall(r"[.!?](?:\s|$)", r["text"])) >= 3,
}


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else HERE / "corpus.jsonl"
    if not path.exists():  # a bare file name means the one in this folder
        path = HERE / path.name
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    print(f"{path.name}: {len(rows)} lines; with time: {sum('time' in r for r in rows)}, "
          f"with places: {sum('places' in r for r in rows)}")  # fmt: skip
    for field, counter in counts(rows).items():
        cells = ", ".join(f"{key} {n}" for key, n in counter.most_common())
        print(f"- {field}: {cells}")
    print(
        "- lines per trap: "
        + ", ".join(f"{name} {sum(map(test, rows))}" for name, test in TRAPS.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
