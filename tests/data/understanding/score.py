"""Score the repo's parser on the corpus: agreement per field, and the commonest misreadings.

Usage (from the repo root): .venv/bin/python tests/data/understanding/score.py [corpus_folded.jsonl]
A development aid, not a test: the held-out set is what measures the parser.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from handlers.parse import parse  # noqa: E402


def places_found(got: list[dict[str, Any]], want: list[list[str | None]]) -> bool:
    """Every labelled place is among the parsed ones (codes compared case-insensitively)."""
    have = {(p["kind"], p["code"].casefold() if p["code"] else None) for p in got}
    return all((kind, code.casefold() if code else None) in have for kind, code in want)


def score(rows: list[dict[str, Any]]) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """(agreements, totals, misreadings) over `rows`."""
    ok: Counter[str] = Counter()
    total: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for row in rows:
        got = parse(row["text"], datetime.fromisoformat(row["sent_at"])).to_dict()
        checks = {
            "type": got["type"] == row["type"],
            "ambiguous": got["ambiguous"] == row["ambiguous"],
        }
        if row["type"] == "incident":
            checks["category"] = got["category"] == row["category"]
            checks["severity"] = got["severity"] == row["severity"]
        if "time" in row:
            checks["time"] = got["time"] == row["time"]
        if "places" in row:
            checks["places"] = places_found(got["places"], row["places"])
        for field, agreed in checks.items():
            total[field] += 1
            ok[field] += agreed
        want = row["category"] if row["type"] == "incident" else row["type"]
        have = got["category"] if got["type"] == "incident" else got["type"]
        if want != have:
            wrong[f"{want} -> {have}"] += 1
    return ok, total, wrong


def main(argv: list[str]) -> int:
    name = argv[1] if len(argv) > 1 else "corpus.jsonl"
    rows = [json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines()]
    ok, total, wrong = score(rows)
    print(f"{name}: {len(rows)} lines")
    for field in ("type", "category", "severity", "ambiguous", "time", "places"):
        print(f"- {field}: {ok[field]}/{total[field]} = {ok[field] / max(total[field], 1):.1%}")
    print("- commonest misreadings (label -> parsed): " + ", ".join(
        f"{pair} {n}" for pair, n in wrong.most_common(12)))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
