"""Print the corpus counts (by type, category, register, channel, accents) as Markdown.

Usage: python tests/data/understanding/stats.py [corpus.jsonl]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
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


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else HERE / "corpus.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    print(f"{path.name}: {len(rows)} lines; with time: {sum('time' in r for r in rows)}, "
          f"with places: {sum('places' in r for r in rows)}")  # fmt: skip
    for field, counter in counts(rows).items():
        cells = ", ".join(f"{key} {n}" for key, n in counter.most_common())
        print(f"- {field}: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
