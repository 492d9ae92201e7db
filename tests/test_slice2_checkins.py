"""The slice's check-ins are kept by (member, kind), then by council: a look-up reads the
member's own, and answers as a scan of the slice's check-ins did (models/prefetch.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import prefetch
from models.scoping import keep_to_council

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def _session(council: str | None) -> Any:
    """A session with the slice's facts in place (window read), kept to `council`."""
    session = AsyncSession()
    facts = prefetch.SliceFacts(member_pks={1, 2}, window=NOW - prefetch.FACTS_WINDOW)
    session.info[prefetch.SLICE_FACTS] = facts
    keep_to_council(session, council)
    return session


async def test_a_check_in_counts_in_its_council_and_for_every_council() -> None:
    for council, expected in (("bx", True), ("ky", False), (None, True)):
        session = _session(council)
        prefetch.note_checkin(session, "bx", 1, "in", NOW - timedelta(hours=1))
        since = NOW - timedelta(hours=2)
        assert await prefetch.checked_in_since(session, 1, "in", since, NOW) is expected
        assert await prefetch.checked_in_since(session, 1, "out", since, NOW) is False
        assert await prefetch.checked_in_since(session, 2, "in", since, NOW) is False
        later = NOW - timedelta(minutes=30)
        assert await prefetch.checked_in_since(session, 1, "in", later, NOW) is False


async def test_the_latest_check_in_of_a_council_is_kept() -> None:
    session = _session(None)
    prefetch.note_checkin(session, "bx", 1, "in", NOW - timedelta(minutes=10))
    prefetch.note_checkin(session, "bx", 1, "in", NOW - timedelta(hours=3))  # a late one
    prefetch.note_checkin(session, "ky", 1, "in", NOW - timedelta(hours=5))
    facts = prefetch.slice_facts(session)
    assert facts is not None
    assert facts.checkins == {
        (1, "in"): {"bx": NOW - timedelta(minutes=10), "ky": NOW - timedelta(hours=5)}
    }
    since = NOW - timedelta(minutes=20)
    assert await prefetch.checked_in_since(session, 1, "in", since, NOW) is True


async def test_a_forgotten_member_keeps_no_check_in() -> None:
    session = _session(None)
    prefetch.note_checkin(session, "bx", 1, "in", NOW - timedelta(minutes=10))
    prefetch.note_checkin(session, "bx", 2, "in", NOW - timedelta(minutes=10))
    prefetch.forget_member(session, 1)
    facts = prefetch.slice_facts(session)
    assert facts is not None
    assert list(facts.checkins) == [(2, "in")]
    # Not a known member any more: the facts cannot say, the caller asks the database.
    since = NOW - timedelta(hours=1)
    assert await prefetch.checked_in_since(session, 1, "in", since, NOW) is None
