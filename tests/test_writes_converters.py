"""The fused UTC datetime converters' shortcuts (a cache of texts, a parse with its offset)
and the fast path's compilation by the caller's order of names give what the general way
gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.dialects import sqlite

from models import base, fastlane
from models.base import utc_from_sqlite, utc_to_sqlite
from models.tables import CheckIn

NOW = datetime(2026, 12, 5, 9, 30, 1, 123456, tzinfo=UTC)


def _general_text(value: datetime) -> str:
    """The text without the cache: SQLAlchemy's format of the UTC instant."""
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _general_read(text: str) -> datetime:
    read = datetime.fromisoformat(text)
    return read.replace(tzinfo=UTC) if read.tzinfo is None else read.astimezone(UTC)


@pytest.mark.parametrize(
    "value",
    [
        NOW,
        NOW.replace(microsecond=0),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        NOW.astimezone(timezone(timedelta(hours=7))),
        NOW.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")),
        NOW.astimezone(ZoneInfo("UTC")),
    ],
)
def test_a_time_gives_the_same_text_first_and_again(value: datetime) -> None:
    first = utc_to_sqlite(value)
    again = utc_to_sqlite(value)
    copy = utc_to_sqlite(datetime.fromisoformat(value.isoformat()))  # equal, not the same
    assert first == again == copy == _general_text(value)


def test_equal_instants_in_other_zones_give_the_utc_text() -> None:
    utc_to_sqlite(NOW)  # kept
    other = NOW.astimezone(timezone(timedelta(hours=-3, minutes=-30)))
    assert other == NOW
    assert utc_to_sqlite(other) == _general_text(NOW)


def test_a_naive_time_is_refused_even_when_its_utc_twin_is_kept() -> None:
    utc_to_sqlite(NOW)
    with pytest.raises(ValueError, match="naive datetime"):
        utc_to_sqlite(NOW.replace(tzinfo=None))


def test_the_kept_texts_stay_bounded() -> None:
    for i in range(3 * base._UTC_TEXTS_KEPT):
        value = NOW + timedelta(microseconds=i)
        assert utc_to_sqlite(value) == _general_text(value)
    assert len(base._UTC_TEXTS) <= base._UTC_TEXTS_KEPT


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-05 09:30:01.123456",
        "2026-12-05 09:30:01.000000",
        "2026-12-05T09:30:01.123456",
        "0001-01-01 00:00:00.000000",
        "2026-12-05 09:30:01",
        "2026-12-05 09:30:01.12345Z",  # 26 characters with an offset of its own
        "2026-12-05 09:30:01.123+07",
        "2026-12-05 09:30:01.1+0700",
        "2026-12-05 09:30:01+07:00",
        "2026-12-05",
        "2026-12-05 09:30:01.123456+05:30",
        "2026-12-05 09:30:01-05",
        "2026-12-05T09",
        "2026-12-05 09:30:01.123456Z",
        "20261205T093001",
    ],
)
def test_a_stored_text_reads_as_the_general_parse(text: str) -> None:
    read = utc_from_sqlite(text)
    assert read == _general_read(text)
    assert read is not None and read.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["2026-12-05 09:30:01.1234567", "not a time at all, 26 chars", "2026-13-05 09:30:01.123456"],
)
def test_an_odd_text_reads_or_fails_as_before(text: str) -> None:
    try:
        expected: Any = _general_read(text)
    except ValueError as exc:
        expected = type(exc)
    try:
        got: Any = utc_from_sqlite(text)
    except ValueError as exc:
        got = type(exc)
    assert got == expected


def test_a_statement_compiles_once_for_its_names_in_any_order() -> None:
    statement = insert(CheckIn.__table__)
    dialect = sqlite.dialect()
    names = ("member_pk", "chat_id", "kind", "at", "note", "council_id")
    ordered = fastlane.compiled_for(statement, dialect, tuple(sorted(names)))
    assert ordered is not None
    assert fastlane.compiled_for(statement, dialect, names) is ordered
    assert fastlane.compiled_for(statement, dialect, names[::-1]) is ordered
    params: dict[str, Any] = dict.fromkeys(names, None)
    assert ordered.plan(params).sql.startswith("INSERT INTO checkins")


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    offset_minutes=st.one_of(st.none(), st.integers(min_value=-23 * 60, max_value=23 * 60)),
    sep=st.sampled_from([" ", "T"]),
    timespec=st.sampled_from(["auto", "hours", "minutes", "seconds", "milliseconds"]),
)
def test_any_iso_text_reads_as_the_general_parse(
    moment: datetime, offset_minutes: int | None, sep: str, timespec: str
) -> None:
    if offset_minutes is not None:
        moment = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    text = moment.isoformat(sep, timespec)
    read = utc_from_sqlite(text)
    assert read == _general_read(text)
    assert read is not None and read.tzinfo is UTC


@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=7)), ZoneInfo("Europe/Paris")]),
    )
)
def test_any_aware_time_gives_the_general_text(moment: datetime) -> None:
    assert utc_to_sqlite(moment) == utc_to_sqlite(moment) == _general_text(moment)
