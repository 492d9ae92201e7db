"""utf16_len counts as Zalo counts: one unit per BMP character, two for the rest (emoji),
one for a lone surrogate; the same as counting character by character."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.platforms.text_split import utf16_len


def by_character(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def test_known_lengths() -> None:
    assert utf16_len("") == 0
    assert utf16_len("Đã ghi nhận") == 11
    assert utf16_len("🔥👍") == 4
    assert utf16_len("a\ud800b") == 3  # a lone surrogate is one unit, not an error


@given(st.text(alphabet=st.characters(exclude_categories=())))  # surrogates too
def test_the_same_as_counting_each_character(text: str) -> None:
    assert utf16_len(text) == by_character(text)
