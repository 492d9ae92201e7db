"""find_mergeable's choice loops agree with same_place / near_place, candidate by candidate."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from models.incidents import (
    _near_place,
    _same_place,
    companies_of,
    near_place,
    place_of,
    same_place,
)
from models.prefetch import Candidate

PLACES = ["workshop:1", "workshop:2", "gate:a", "company:abc", "company:xyz", "zone:b"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _reference(candidates: list[Candidate], keys: set[str], since: datetime) -> int | None:
    """find_mergeable's choice as it was written: one comparison function per candidate."""
    chosen = next((i for i, place, _ in candidates if same_place(keys, place)), None)
    if chosen is None:
        chosen = next(
            (i for i, place, last in candidates if last >= since and near_place(keys, place)),
            None,
        )
    return chosen


def _places(rng: random.Random) -> frozenset[str]:
    return frozenset(rng.sample(PLACES, rng.randint(0, 3)))


def test_choice_matches_the_comparisons_on_random_candidates() -> None:
    rng = random.Random(17)
    for _ in range(3000):
        candidates = [
            (n, _places(rng), T0 + timedelta(minutes=rng.randint(0, 120)))
            for n in range(rng.randint(0, 8))
        ]
        keys = set(_places(rng))
        since = T0 + timedelta(minutes=rng.randint(0, 120))
        chosen = _same_place(candidates, keys)
        if chosen is None:
            chosen = _near_place(candidates, keys, since)
        assert chosen == _reference(candidates, keys, since), (candidates, keys, since)


def test_cached_place_sets_are_the_split_keys() -> None:
    assert place_of("company:abc|workshop:2") == frozenset({"company:abc", "workshop:2"})
    assert place_of("") == frozenset()
    assert companies_of(frozenset({"company:abc", "workshop:2"})) == frozenset({"company:abc"})
