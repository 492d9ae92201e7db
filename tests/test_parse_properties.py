"""Properties of normalisation and parse() over generated text (hypothesis)."""

from __future__ import annotations

import sys
import unicodedata
from datetime import datetime
from types import FrameType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.parse import _parse_uncached, parse
from handlers.text import fold, lower, normalize

SENT = datetime(2026, 11, 27, 16, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))

# Pieces members type: words of the lexicon's kind, with and without diacritics, numbers,
# codes, teen code, emoji, commands and punctuation, joined in random order.
PIECES = [
    "cháy", "chay", "khói", "nổ", "no", "nổ máy", "mất", "mat", "bị mất", "bi mat", "bí mật",
    "trộm", "cáp", "cắp", "đánh nhau", "gây rối", "gay roi", "tai nạn", "tai nạn lao động",
    "đình công", "ma túy", "ma tuý", "người lạ", "xe lạ", "camera", "không lên hình", "mất điện",
    "kiểm tra", "PCCC", "diễn tập", "bị thương", "không", "ko", "k", "chưa", "không phải",
    "chỉ là", "vì", "nhưng", "bình thường", "ổn định", "đã nhận", "da nhan", "rõ", "ok",
    "có mặt", "co mat", "vắng", "xin nghỉ", "ai", "không?", "?", "!", ",", ".", "\n", "xưởng 2",
    "kho 3", "cổng chính", "cong so 1", "lô B3", "cty ABC", "Công ty TNHH Minh Long", "KTX",
    "nhà xe", "14h30", "2h sáng", "tối qua", "toi qua", "hôm nay", "mai", "thứ 2 tuần trước",
    "20/11", "Số 20/11 đường", "30 phút trước", "2 thanh niên", "khoảng 300 công nhân",
    "0912 345 678", "+84 987.654.321", "61A-123.45", "114", "/baocao", "#diemdanh", "/-strong",
    "https://kcn.vn/baocao", "👍🏻", "🔥", "😂", "@Bot", "Hoả hoạn", "thuỷ", "500k", "gấp",
]  # fmt: skip
VI_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
ALPHABET = VI_LETTERS + VI_LETTERS.upper() + "0123456789 .,!?:/#@-+\n"

messages = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=12).map(" ".join),
    st.text(alphabet=ALPHABET, max_size=80),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(alphabet=ALPHABET, max_size=8)),
             max_size=10).map(" ".join),
)  # fmt: skip


@given(st.text(max_size=200))
def test_copies_keep_the_length(text: str) -> None:
    n = normalize(text)
    assert len(n.text) == len(n.folded) == len(n.lower) == len(n.lower_folded)
    assert n.folded == fold(n.text)
    assert n.lower == lower(n.text)


@given(st.text(max_size=200))
def test_normalisation_is_idempotent_and_nfc(text: str) -> None:
    once = normalize(text).text
    assert normalize(once).text == once
    assert normalize(unicodedata.normalize("NFD", text)).text == once


@given(messages)
def test_nfd_input_parses_like_nfc(text: str) -> None:
    assert parse(unicodedata.normalize("NFD", text), SENT) == parse(text, SENT)
    assert parse(unicodedata.normalize("NFC", text), SENT) == parse(text, SENT)


@given(messages)
def test_upper_case_keeps_type_and_category(text: str) -> None:
    if "ca" in fold(lower(text)):
        return  # "CA" in running text means công an: case matters there on purpose
    a, b = parse(text, SENT), parse(text.upper(), SENT)
    assert (a.type, a.category) == (b.type, b.category)


@given(messages)
def test_output_is_well_formed(text: str) -> None:
    p = parse(text, SENT)
    d = p.to_dict()
    assert 0.0 <= p.confidence <= 1.0
    assert (p.category is not None) == (p.type == "incident") or p.type == "command"
    assert (p.severity is None) == (p.category is None)
    assert all(len(x) in (10, 11) and x.startswith("0") and x.isdigit() for x in p.phones)
    assert (d["time"] is None) == (d["time_text"] is None)
    assert p.people is None or p.people > 0


@given(st.text(max_size=3000))
def test_random_unicode_never_raises(text: str) -> None:
    parse(text, SENT)


CALLS_PER_CHARACTER = 30  # today: mostly under 5, the worst seen near 10 (lines of emoji)


def _calls_of(text: str) -> int:
    """The function calls (Python and C) of reading this text afresh: its work counted, not
    timed, so a busy machine cannot fail the test. The time is bench/parse.py's figure."""
    calls = 0

    def count(_frame: FrameType, event: str, _arg: object) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        _parse_uncached(text, SENT)
    finally:
        sys.setprofile(None)
    return calls


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), min_size=1, max_size=30),
    st.sampled_from([" ", "", ".", "\n", "a.", "1 "]),
)
def test_big_inputs_stay_linear(pieces: list[str], glue: str) -> None:
    unit = glue.join(pieces) + glue
    big = (unit * (100_000 // max(1, len(unit)) + 1))[:100_000]
    _parse_uncached(big[:10_000], SENT)  # the memos warm, as they are on a running bot
    # A bounded number of calls per character, at 20 KB and at 100 KB alike: reading that
    # grew with the square of the length would need thousands per character at 100 KB.
    for text in (big[:20_000], big):
        assert _calls_of(text) <= CALLS_PER_CHARACTER * len(text) + 2_000


@pytest.mark.parametrize(
    "unit", ["đánh nhau;#https://zalo.me/g/abc ", "đánh nhau https://zalo.me/g/abc;#"]
)
def test_hashtags_among_many_links_stay_linear(unit: str) -> None:
    """Every "#" was checked against every link of the message: a paste of links and hashes
    grew with the square of its length (185 calls a character at 100 KB; found by the
    property test above). Each "#" now finds its link by halving."""
    big = (unit * (100_000 // len(unit) + 1))[:100_000]
    _parse_uncached(big[:10_000], SENT)
    for text in (big[:20_000], big):
        assert _calls_of(text) <= CALLS_PER_CHARACTER * len(text) + 2_000


def test_a_pasted_long_word_is_not_mended_letter_by_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Typo repair tries every position of a word: for a pasted 8,000-letter "word" that was
    64 million letters folded (seconds on the one event loop). Such a word is left as typed."""
    from handlers.parse import spelling
    from handlers.parse.vocabulary import _lexicon

    folded: list[int] = []

    def counting_fold(text: str) -> str:
        folded.append(len(text))
        return fold(text)

    monkeypatch.setattr(spelling, "fold", counting_fold)
    word = "ăb" * 4_000
    assert spelling.mend(_lexicon(), word) == word
    assert spelling.split_run(_lexicon(), word) is None
    assert sum(folded) <= 2 * len(word)
