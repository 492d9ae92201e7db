"""The report path's cheaper steps give what the ordinary ones gave: a new incident made
without set events, and the merge candidates laid over in order without a full sort."""

from __future__ import annotations

import random
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm.attributes import instance_state

import models.prefetch  # noqa: F401  (its merge listener on Incident is what is skipped)
from models import fastlane
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.incidents import (
    MERGE_CANDIDATES,
    OPEN,
    _in_merge_order,
    _latest_first,
    merge_candidates,
    unwritten_incident,
)
from models.inserts import write_row
from models.prefetch import Candidate
from models.scoping import keep_to_council
from models.tables import Incident

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
VALUES = {
    "category": "electric",
    "severity": "medium",
    "status": "reported",
    "place_key": "warehouse:5",
    "urgent": False,
    "first_reported_at": NOW,
    "last_reported_at": NOW,
    "escalation_level": 0,
}


def _state(row: Incident) -> tuple[object, ...]:
    state = instance_state(row)
    loaded = {k: v for k, v in state.dict.items() if k != "_sa_instance_state"}
    return (loaded, dict(state.committed_state), state.modified, state.key is not None)


async def test_unwritten_incident_is_written_as_a_constructed_one(db_url: str) -> None:
    engine = make_engine(db_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            keep_to_council(s, "kcn-a")
            # Before the write: the same values, nothing else (no id, no council yet).
            quiet, built = unwritten_incident(dict(VALUES)), Incident(**VALUES)
            assert _state(quiet)[0] == _state(built)[0]
            quiet = await write_row(s, quiet)
            built = await write_row(s, built)
            got_quiet, got_built = _state(quiet), _state(built)
            assert got_quiet[0].pop("id") + 1 == got_built[0].pop("id")
            assert got_quiet == got_built
            assert quiet in s and not s.new and not s.dirty
            quiet.status = "acknowledged"  # later changes are seen and written as usual
            assert quiet in s.dirty
        async with sessions() as s:
            rows = (await s.execute(select(Incident).order_by(Incident.id))).scalars().all()
            assert [(r.status, r.council_id, r.place_key) for r in rows] == [
                ("acknowledged", "kcn-a", "warehouse:5"),
                ("reported", "kcn-a", "warehouse:5"),
            ]
    finally:
        await engine.dispose()


def _candidates(rng: random.Random, n: int, ids: list[int]) -> list[Candidate]:
    return [
        (ids.pop(), frozenset({f"kho:{rng.randint(0, 5)}"}), NOW + timedelta(rng.randint(0, 9)))
        for _ in range(n)
    ]


def test_merge_order_is_the_full_sort() -> None:
    rng = random.Random(6)
    for _ in range(3000):
        ids = rng.sample(range(1, 200), 40)
        kept = sorted(_candidates(rng, rng.randint(0, 20), ids), key=_latest_first, reverse=True)
        laid_over = _candidates(rng, rng.randint(0, 6), ids)
        if rng.random() < 0.5:  # made in the slice: reported after everything read
            laid_over = [(i, p, NOW + timedelta(days=30 + d.day)) for i, p, d in laid_over]
        expected = sorted(kept + laid_over, key=_latest_first, reverse=True)
        assert _in_merge_order(list(laid_over), list(kept)) == expected


async def test_merge_candidates_read_as_the_orm_reads_them(db_url: str) -> None:
    """The candidates' times (read as stored on SQLite, converted once per value) are the
    datetimes an ORM select gives, on both paths, in the read's order, per council."""
    engine = make_engine(db_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    rng = random.Random(17)
    try:
        async with sessions() as s, s.begin():
            for n in range(70):
                council = "kcn-a" if n % 3 else "kcn-b"
                at = NOW + timedelta(minutes=rng.randint(0, 30), microseconds=rng.randint(0, 9))
                values = dict(VALUES, last_reported_at=at, place_key=f"kho:{n % 7}")
                values.update(council_id=council, status="handling" if n % 5 else "resolved")
                s.add(Incident(**values))
        for council in (None, "kcn-a"):
            for ordinary in (False, True):
                async with sessions() as s:
                    if council is not None:
                        keep_to_council(s, council)
                    stmt = (
                        select(Incident)
                        .where(Incident.category == "electric", Incident.status.in_(OPEN))
                        .order_by(Incident.last_reported_at.desc(), Incident.id.desc())
                        .limit(MERGE_CANDIDATES)
                    )
                    expected = [
                        (r.id, frozenset(r.place_key.split("|")), r.last_reported_at)
                        for r in (await s.execute(stmt)).scalars()
                    ]
                    with fastlane.ordinary_path() if ordinary else nullcontext():
                        got = await merge_candidates(s, "electric")
                    assert got == expected
                    assert all(last.tzinfo is UTC for _, _, last in got)
                    assert len(got) == (MERGE_CANDIDATES if council is None else 37)
    finally:
        await engine.dispose()
