"""split_text's short cut: a text of at most limit/2 characters is one chunk, as before."""

from __future__ import annotations

import pytest

from bot.platforms.text_split import split_text, utf16_len


@pytest.mark.parametrize("n", [1, 9, 10, 11, 20, 21])
@pytest.mark.parametrize("char", ["a", "ệ", "👍"])
def test_short_texts_are_one_chunk_and_long_ones_still_split(n: int, char: str) -> None:
    text = " ".join(char * 3 for _ in range(n))
    chunks = split_text(f"  {text}\n", limit=20)
    assert all(0 < utf16_len(c) <= 20 for c in chunks)
    assert " ".join(chunks).split() == text.split()
    if utf16_len(text) <= 20:
        assert chunks == [text]


def test_at_half_the_limit_of_emoji_the_text_just_fits() -> None:
    assert split_text("👍" * 10, limit=20) == ["👍" * 10]
    assert split_text("👍" * 11, limit=20) == ["👍" * 10, "👍"]
    assert split_text("   ", limit=20) == []
