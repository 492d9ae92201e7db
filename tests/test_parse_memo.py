"""The per-word memos of the parser (issue 14 speed): a message read through them is read as
without them, the first time and every time after, and they stop growing at their bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.parse import _analyse_text, classify, entities, scanning
from handlers.parse.commands import _LAUGH_RE
from handlers.parse.scanning import _fold_token, _mend_all, _tokens
from handlers.parse.tokens import _split_tokens
from handlers.parse.vocabulary import (
    M_ACCENTED,
    M_AGO,
    M_COMPANY,
    M_DAYPART,
    M_DIGIT,
    M_LAUGH,
    M_MONTH,
    M_NOUN,
    M_NUMBER,
    M_PLACE,
    M_WEEKDAY,
    _lexicon,
)
from handlers.text import lower, normalize_text

CORPUS = Path(__file__).parent / "data" / "understanding" / "corpus.jsonl"
# How members type: slips mended, words run together, teen code, CA for the police, marks
# typed or not, emoji, a command.
TYPED = [
    "co matj",
    "Có mặtt ạ",
    "comat",
    "binh thuogn a",
    "mawtj xe roi",
    "Ko co mat dc, xin nghi ca chieu 🙏",
    "CA phường đã đến hiện trường",
    "em vào ca 2 rồi",
    "Cháy kho 3 rồi, gọi 114 gấp!!!",
    "Đã nhận.Ok 👍👍",
    "đc r e",
]


def _direct(text: str) -> tuple[list[str], list[str], bool]:
    """The tokens read the long way, without the chunk memo: the whole text split at once."""
    lex = _lexicon()
    norm = normalize_text(text)
    low = lower(norm)
    ltoks = _mend_all(lex, _split_tokens(low))
    ftoks = [_fold_token(t) for t in ltoks]
    accented = ftoks != ltoks
    if "ca" in ftoks:
        ltoks, ftoks = scanning._police(lex, norm, ltoks, ftoks, accented)
    ltoks, ftoks = lex.expand(ltoks, ftoks)
    return ltoks, ftoks, accented


def _read(text: str) -> tuple[list[str], list[str], bool]:
    norm = normalize_text(text)
    return _tokens(_lexicon(), norm, lower(norm))


def test_typed_messages_read_the_same_first_and_again() -> None:
    scanning._CHUNKS.clear()
    for text in TYPED:
        first = _read(text)
        assert first == _direct(text), text
        assert _read(text) == first, text  # now from the memo
    assert _read("co matj")[1] == ["co", "mat"]
    assert _read("comat")[1] == ["co", "mat"]


def test_the_corpus_reads_the_same_through_the_memo() -> None:
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    assert len(texts) >= 1400
    for text in texts:
        assert _read(text) == _direct(text), text


def _marks_the_long_way(text: str) -> int:
    """What a message's M_ bits stand for, tested on its words as the stages once did."""
    lex = _lexicon()
    _, ftoks, accented = _direct(text)
    words = set(ftoks)
    lists = [
        (M_PLACE, lex.place_triggers.folded),
        (M_COMPANY, lex.company_triggers),
        (M_NOUN, lex.noun_starts),
        (M_NUMBER, lex.number_starts),
        (M_DAYPART, lex.daypart_triggers),
        (M_WEEKDAY, {"thu", "chu"}),
        (M_AGO, {"truoc", "cach", "nua"}),
        (M_MONTH, {"thang"}),
    ]
    marks = sum(bit for bit, listed in lists if not words.isdisjoint(listed))
    low = lower(normalize_text(text))
    return (
        marks
        | (M_ACCENTED if accented else 0)
        | (M_DIGIT if any(c in "0123456789" for c in low) else 0)
        | (M_LAUGH if _LAUGH_RE.search(low) else 0)
    )


def test_the_marks_of_a_message_are_those_of_its_words() -> None:
    # The bits ORed over the chunks (and over the whole text when "ca" or a line break needs
    # it) say what the word-list tests said, the first time and from the memo.
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    scanning._CHUNKS.clear()
    for text in TYPED + texts + ["5 phút trước", "thứ 2 tuần trước", "ngày 5 tháng 3", "2 người"]:
        norm = normalize_text(text)
        for _ in range(2):
            assert scanning._read(_lexicon(), norm, lower(norm))[2] == _marks_the_long_way(text), (
                text
            )


def test_the_chunk_memo_stops_growing_at_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    scanning._CHUNKS.clear()
    monkeypatch.setattr(scanning, "CHUNKS_MAX", 3)
    text = "anh Tuấn báo có mặtt ở cổng 2 lúc 7h sáng"
    assert _read(text) == _direct(text)
    assert len(scanning._CHUNKS) == 3
    assert _read(text) == _direct(text)  # chunks beyond the bound are read afresh, the same
    assert len(scanning._CHUNKS) == 3
    scanning._CHUNKS.clear()


def test_rounded_confidence_is_round_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    classify._ROUNDED.clear()
    monkeypatch.setattr(classify, "ROUNDED_MAX", 5)
    values = [0.5 + 0.1 * k / 7 + d for k in range(40) for d in (0.0, 0.05, -0.25)]
    values += [1.4, 0.01, -0.3, 0.995, 0.045]
    for x in values * 2:
        assert classify._clamp(x) == round(min(0.99, max(0.05, x)), 2), x
    assert len(classify._ROUNDED) == 5
    classify._ROUNDED.clear()


def test_places_read_the_same_from_their_memos(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every corpus line names the same places read afresh, while the place and company memos
    # fill, and from them; and the memos stop growing at their bound.
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    texts += ["Công ty TNHH ABC cổng 3", "CONG TY MINH LONG kho A2", "cty Hansol, xưởng 5 cháy"]
    entities._PLACE_READINGS.clear()
    entities._COMPANY_READINGS.clear()
    monkeypatch.setattr(entities, "PLACE_READINGS_MAX", 0)
    fresh = [_analyse_text(text)[0].places for text in texts]
    monkeypatch.setattr(entities, "PLACE_READINGS_MAX", 100_000)
    assert [_analyse_text(text)[0].places for text in texts] == fresh
    assert [_analyse_text(text)[0].places for text in texts] == fresh
    assert entities._PLACE_READINGS and entities._COMPANY_READINGS
    entities._PLACE_READINGS.clear()
    entities._COMPANY_READINGS.clear()
    monkeypatch.setattr(entities, "PLACE_READINGS_MAX", 3)
    assert [_analyse_text(text)[0].places for text in texts] == fresh
    assert len(entities._PLACE_READINGS) == 3 and len(entities._COMPANY_READINGS) == 3
    entities._PLACE_READINGS.clear()
    entities._COMPANY_READINGS.clear()
