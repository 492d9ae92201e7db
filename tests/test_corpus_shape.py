"""The development corpus (tests/data/understanding): every line valid, the floors of
issue 14 met, no duplicates, the folded twin and the built file in step with their scripts."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).parent / "data" / "understanding"
TYPES = {"incident", "all_clear", "ack", "not_ack", "check_in", "absent", "question", "command",
         "other"}  # fmt: skip
CATEGORIES = {"fire", "theft", "fight", "traffic", "strike", "drugs", "suspicious", "equipment",
              "inspection", "accident", "poisoning", "hazmat", "disaster", "other"}  # fmt: skip
SEVERITIES = {"high", "medium", "low"}
REGISTERS = {"chat", "formal", "news", "notice"}
CHANNELS = {"private", "group"}
ACCENTS = {"full", "mixed", "none"}
PLACE_KINDS = {"workshop", "warehouse", "gate", "lot", "company", "place"}
REQUIRED = {"id", "text", "type", "category", "severity", "ambiguous", "register", "channel",
            "accents", "sent_at"}  # fmt: skip
OPTIONAL = {"time", "places", "reason", "why", "typo"}


def _load(name: str) -> list[dict[str, Any]]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _module(name: str) -> ModuleType:
    """Import one of the corpus scripts (they import each other by plain name)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ROWS = _load("corpus.jsonl")
FOLDED = _load("corpus_folded.jsonl")


def _problems(row: dict[str, Any]) -> list[str]:
    """What is wrong with one row's shape."""
    out = []
    keys = set(row)
    if REQUIRED - keys or keys - REQUIRED - OPTIONAL:
        out.append(f"keys: missing {REQUIRED - keys}, unknown {keys - REQUIRED - OPTIONAL}")
    if row.get("type") not in TYPES:
        out.append(f"type {row.get('type')!r}")
    incident = row.get("type") == "incident"
    if incident != (row.get("category") in CATEGORIES) or (not incident and row.get("category")):
        out.append(f"category {row.get('category')!r} for type {row.get('type')!r}")
    if incident != (row.get("severity") in SEVERITIES) or (not incident and row.get("severity")):
        out.append(f"severity {row.get('severity')!r} for type {row.get('type')!r}")
    for key, allowed in (("register", REGISTERS), ("channel", CHANNELS), ("accents", ACCENTS)):
        if row.get(key) not in allowed:
            out.append(f"{key} {row.get(key)!r}")
    if not isinstance(row.get("ambiguous"), bool):
        out.append("ambiguous is not a bool")
    if not isinstance(row.get("text"), str) or not row["text"].strip():
        out.append("empty text")
    datetime.fromisoformat(row["sent_at"])
    time = row.get("time")
    if time is not None:
        ((key, value),) = time.items()
        fmt = {"at": "%Y-%m-%dT%H:%M", "date": "%Y-%m-%d"}.get(key)
        if fmt is None:
            out.append(f"time key {key!r}")
        else:
            datetime.strptime(value, fmt)
    for place in row.get("places", []):
        if len(place) != 2 or place[0] not in PLACE_KINDS:
            out.append(f"place {place!r}")
    if "reason" in row and row["type"] != "absent":
        out.append("reason on a line that is not absent")
    if row.get("accents") == "full" and row.get("ambiguous"):
        out.append("a line typed with all its marks cannot be ambiguous")
    return out


@pytest.mark.parametrize("name", ["corpus.jsonl", "corpus_folded.jsonl"])
def test_every_line_is_valid(name: str) -> None:
    bad = {row.get("id", "?"): p for row in _load(name) if (p := _problems(row))}
    assert bad == {}


def test_floors_of_the_issue_are_met() -> None:
    types = Counter(row["type"] for row in ROWS)
    categories = Counter(row["category"] for row in ROWS if row["type"] == "incident")
    registers = Counter(row["register"] for row in ROWS)
    assert len(ROWS) >= 1500
    assert {t: n for t, n in types.items() if n < 60} == {} and set(types) == TYPES
    assert {c: n for c, n in categories.items() if n < 40} == {} and set(categories) == CATEGORIES
    assert registers["formal"] + registers["news"] + registers["notice"] >= 0.25 * len(ROWS)
    assert sum(row["channel"] == "group" for row in ROWS) >= 0.30 * len(ROWS)
    sentences = [len(re.findall(r"[.!?](?:\s|$)", row["text"])) for row in ROWS]
    long_formal = [
        row for row, n in zip(ROWS, sentences, strict=True)
        if row["register"] in {"formal", "news"} and 3 <= n <= 7
    ]  # fmt: skip
    assert len(long_formal) >= 200
    accents = Counter(row["accents"] for row in ROWS)
    assert min(accents.values()) >= 0.1 * len(ROWS)
    assert sum(row["ambiguous"] for row in ROWS) >= 100


def test_a_labelled_time_is_past_unless_the_line_says_otherwise() -> None:
    """Prefer the past: a time after sent_at needs a word for the future (mai, tối nay...)."""
    fold = _module("fold")
    future = re.compile(r"\b(mai|toi nay|chieu nay|sang nay|hom nay)\b")
    wrong = []
    for row in ROWS:
        if "time" not in row:
            continue
        value = row["time"].get("at") or row["time"]["date"] + "T00:00"
        sent = datetime.fromisoformat(row["sent_at"]).replace(tzinfo=None)
        if datetime.fromisoformat(value) > sent and not future.search(
            fold.fold(row["text"]).lower()
        ):
            wrong.append(row["id"])
    assert wrong == []


def test_no_line_is_duplicated() -> None:
    for rows in (ROWS, FOLDED):
        keys = Counter(" ".join(row["text"].lower().split()) for row in rows)
        assert [k for k, n in keys.items() if n > 1] == []
    assert len({row["id"] for row in ROWS}) == len(ROWS)


def test_lines_that_fold_alike_carry_the_same_labels() -> None:
    fold = _module("fold")
    labels: dict[str, tuple[Any, ...]] = {}
    clashes = []
    for row in ROWS:
        key = " ".join(fold.fold(row["text"]).lower().split())
        label = (row["type"], row["category"], row["severity"])
        if labels.setdefault(key, label) != label:
            clashes.append(row["id"])
    assert clashes == []


def test_the_fold_rule_for_ambiguous() -> None:
    fold = _module("fold")
    row = {"text": "Có mặt ạ", "type": "check_in", "ambiguous": False, "accents": "full"}
    assert fold.fold_row(row)["text"] == "Co mat a"
    assert not fold.fold_row(row)["ambiguous"]
    fire = {"text": "Cháy kho 3", "type": "incident", "ambiguous": False, "accents": "full"}
    assert fold.fold_row(fire)["ambiguous"] and fold.fold_row(fire)["accents"] == "none"
    # a settled phrase (chữa cháy) and an absence (read from xin nghỉ) do not rest on the word
    assert not fold.folds_ambiguous("Kiểm tra bình chữa cháy xưởng 2")
    late = {"text": "Xe hỏng, em đến muộn", "type": "absent", "ambiguous": False, "accents": "full"}
    assert not fold.fold_row(late)["ambiguous"]
    assert fold.fold("Đường đi") == "Duong di"


def test_the_folded_twin_is_what_fold_py_writes(tmp_path: Path) -> None:
    fold = _module("fold")
    target = tmp_path / "folded.jsonl"
    assert fold.main(["fold.py", str(HERE / "corpus.jsonl"), str(target)]) == 0
    assert target.read_text(encoding="utf-8") == (HERE / "corpus_folded.jsonl").read_text(
        encoding="utf-8"
    )
    assert all(fold.fold(row["text"]) == row["text"] for row in FOLDED)
    by_id = {row["id"]: row for row in ROWS}
    # folding never clears an ambiguity, and a listed word folded makes one
    assert all(row["ambiguous"] >= by_id[row["id"]]["ambiguous"] for row in FOLDED)


def test_the_corpus_is_what_build_py_writes() -> None:
    """Labels are fixed in templates/, never by hand in corpus.jsonl."""
    rows = _module("build").build()
    assert rows == ROWS


def test_a_telex_leftover_is_typed_like_a_phone_does() -> None:
    noise = _module("noise")
    assert noise.telex("mặt") == "mawtj"
    assert noise.telex("có") == "cos"
    assert noise.telex("đường") == "dduwowngf"
    assert noise.rests_on_ambiguous("cháy kho 3", "chay kho 3")
    assert not noise.rests_on_ambiguous("cháy kho 3", "cháy kho 3")
