"""Our own table of messages as members write them (tests/data/parse_table.jsonl).

Rows marked "xfail" are known failures kept in the table so they stay measured: they must
still fail (strict), and fixing one means moving it into the table proper.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from handlers.parse import parse
from handlers.text import fold, normalize_text
from tests.test_parse_cases import check_expect, load_rows

ROWS = load_rows("parse_table.jsonl")
TYPES = {"incident", "all_clear", "ack", "not_ack", "check_in", "absent", "question", "command",
         "other"}  # fmt: skip
CATEGORIES = {"fire", "theft", "fight", "traffic", "strike", "drugs", "suspicious", "equipment",
              "inspection", "other"}  # fmt: skip


def _param(row: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(reason=row["xfail"], strict=True)] if "xfail" in row else []
    return pytest.param(row, id=str(row["id"]), marks=marks)


@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_table_row(row: dict[str, Any]) -> None:
    got = parse(row["text"], datetime.fromisoformat(row["sent_at"])).to_dict()
    assert check_expect(got, row["expect"]) == [], f"{row['text']!r}: {row['why']}"


def test_table_covers_every_type_and_category() -> None:
    kept = [r for r in ROWS if "xfail" not in r]
    assert len(kept) >= 150
    assert {r["expect"].get("type") for r in kept} >= TYPES
    incidents = [r for r in kept if r["expect"].get("type") == "incident"]
    assert {r["expect"].get("category") for r in incidents} >= CATEGORIES


def test_table_is_written_like_members_write() -> None:
    texts = [normalize_text(r["text"]) for r in ROWS]
    bare = sum(1 for t in texts if fold(t) == t)
    assert bare * 3 >= len(texts), "a third of the table is typed without diacritics"
    assert sum(1 for t in texts if t.isupper()) >= 5


def accuracy() -> dict[str, tuple[int, int]]:
    """Rows right / rows asserted, for the type and for the category (kept rows and all)."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for row in ROWS:
        got = parse(row["text"], datetime.fromisoformat(row["sent_at"])).to_dict()
        for key in ("type", "category"):
            if key in row["expect"]:
                for scope in ("all", "kept") if "xfail" not in row else ("all",):
                    total[f"{key}/{scope}"] += 1
                    right[f"{key}/{scope}"] += got[key] == row["expect"][key]
    return {k: (right[k], total[k]) for k in sorted(total)}


def test_accuracy_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    figures = accuracy()
    with capsys.disabled():
        print("\nparse table accuracy:", ", ".join(f"{k} {r}/{t}" for k, (r, t) in figures.items()))
    assert figures["type/kept"][0] == figures["type/kept"][1]
